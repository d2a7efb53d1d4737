import pytest
from django.core.management import CommandError, call_command

from catalog.demo import seed_demo_catalog
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


def test_demo_receiver_seeds_once(shop_a, alice):
    with shop_context(shop_a):
        seed_demo_catalog(sender=None, shop=shop_a, owner=alice, fresh=True, base_url="http://x")
        count = ProductVariant.objects.count()
        assert count == 180 and Product.objects.filter(status="active").exists()
        seed_demo_catalog(sender=None, shop=shop_a, owner=alice, fresh=False, base_url="http://x")
        assert ProductVariant.objects.count() == count
