"""Reading the order settings writes nothing; changing them stores the shop's row."""

import pytest

from orders.models import OrderSettings
from orders.services.settings import settings_get, settings_update

pytestmark = pytest.mark.django_db


def test_reading_order_settings_writes_nothing(in_shop_a):
    assert settings_get().retention_days is None and settings_get().default_location_id is None
    assert not OrderSettings.objects.exists()
    settings_update(retention_days=365)
    assert settings_get().retention_days == 365
    assert OrderSettings.objects.count() == 1


def test_each_shop_reads_its_own(in_shop_a, shop_b):
    from shopadmin.tenancy import shop_context

    settings_update(retention_days=30)
    with shop_context(shop_b):
        assert settings_get().retention_days is None and settings_get().shop_id == shop_b.pk
