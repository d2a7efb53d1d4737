"""Customer data rights: export everything, erase personal data (amounts kept), both audited."""

import json
from decimal import Decimal

import pytest
from django.db import connection

from channels.models import WebhookEvent
from orders.models import Customer, Order, OrderSettings
from orders.services.customers import customer_erase, customer_export, retention_sweep
from orders.services.ingest import order_import
from orders.services.settings import settings_update
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import all_shops_access, shop_context

EMAIL = "erase.me@example.org"


def tables_containing(needle: str) -> list[str]:
    """Every table and column of the database whose text holds `needle` (as the owner would see it)."""
    found = []
    with all_shops_access(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1', [f"%{needle}%"])
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def test_export_then_erase_leaves_no_personal_data(shop_a, meta_account):
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        first, _ = order_import(account=meta_account, data=channel_order("E-1", email=EMAIL, total="49.90"))
        order_import(account=meta_account, data=channel_order("E-2", email=EMAIL.upper(), total="49.90"))
        WebhookEvent.objects.create(
            account=meta_account, provider_event_id="evt-1", raw_body=json.dumps({"order_id": "E-1", "email": EMAIL})
        )
        customer = Customer.objects.get()
        data = customer_export(customer=customer)
        assert data["customer"]["email"] == EMAIL
        assert {o["external_id"] for o in data["orders"]} == {"E-1", "E-2"}
        assert data["orders"][0]["shipping_address"]["address1"] == "1 Main St"
        json.dumps(data)  # the export is plain JSON
        assert tables_containing(EMAIL)  # it is there before

        customer_erase(customer=customer)

        for order in Order.objects.all():
            assert (order.buyer_name, order.buyer_email, order.buyer_phone, order.buyer_message) == ("", "", "", "")
            assert order.shipping_address == {} and order.raw == {} and order.erased_at
            assert order.total == Decimal("49.90")  # amounts stay for accounting
        assert order.lines.get().sku == "TEE-M"
        actions = set(AuditLogEntry.objects.filter(action__startswith="customer.").values_list("action", flat=True))
        assert actions == {"customer.export", "customer.erase"}
    assert tables_containing(EMAIL) == []
    assert tables_containing("Bea Buyer") == []
    assert tables_containing("+1 555 0100") == []
    assert tables_containing("1 Main St") == []
    with shop_context(shop_a):
        # A later redelivery of the order must not bring the personal data back.
        order_import(account=meta_account, data=channel_order("E-1", email=EMAIL, total="49.90", status="IN_PROGRESS"))
        assert Order.objects.get(external_id="E-1").buyer_email == ""
        assert first.pk == Order.objects.get(external_id="E-1").pk


def test_retention_erases_customers_without_recent_orders(shop_a, meta_account):
    import datetime as dt

    from django.utils import timezone

    stocked_variant(shop_a, on_hand=10)
    old = timezone.now() - dt.timedelta(days=400)
    with shop_context(shop_a):
        order_import(account=meta_account, data=channel_order("R-1", email="old@example.org", updated_at=old))
        order_import(account=meta_account, data=channel_order("R-2", email="new@example.org"))
        Customer.objects.filter(email="old@example.org").update(updated_at=old)
        assert retention_sweep() == 0  # no retention set: keep
        settings_update(retention_days=365)
        assert OrderSettings.objects.get().retention_days == 365
        assert retention_sweep() == 1
        assert Customer.objects.filter(erased_at__isnull=False).count() == 1
        assert Order.objects.get(external_id="R-1").buyer_email == ""
        assert Order.objects.get(external_id="R-2").buyer_email == "new@example.org"


def test_api_erase_and_export(api_a, shop_a, meta_account):
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        order_import(account=meta_account, data=channel_order("API-1", email=EMAIL))
        customer = Customer.objects.get()
    export = api_a.get(f"/api/v1/customers/{customer.pk}/export/")
    assert export.status_code == 200 and export.json()["customer"]["email"] == EMAIL
    erased = api_a.post(f"/api/v1/customers/{customer.pk}/erase/")
    assert erased.status_code == 200 and erased.json()["email"] is None and erased.json()["erased_at"]
    assert tables_containing(EMAIL) == []


@pytest.fixture(autouse=True)
def _settings_exists(db):
    return None
