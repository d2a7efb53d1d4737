import pytest
from django.core.management import CommandError, call_command

from catalog.models import Location, Product, ProductMedia, ProductOption, ProductVariant, StockLevel
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def test_seed_catalog_command(shop_a, capsys):
    call_command("seed_catalog", "--shop", "alice", "--variants", "120", "--seed", "3")
    assert "120 variants" in capsys.readouterr().out
    with shop_context(shop_a):
        assert ProductVariant.objects.count() == 120
        assert StockLevel.objects.count() == 240
        assert Location.objects.count() == 2
        assert ProductOption.objects.filter(name="Size").count() == Product.objects.count()
        assert ProductMedia.objects.exists()


def test_seed_catalog_refuses_unknown_shop(db):
    with pytest.raises(CommandError, match="No shop"):
        call_command("seed_catalog", "--shop", "nope", "--variants", "1")
