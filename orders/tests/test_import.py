"""order_import: the upsert, redelivery, out-of-order updates, stock, conversion, cancellation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import IssueKind, Lifecycle, Order, OrderEvent, OrderLine, ReconciliationIssue
from orders.services.ingest import order_import
from orders.services.lifecycle import order_cancel, order_fulfill, order_refund
from orders.tests.conftest import channel_order, level, stocked_variant
from shopadmin.tenancy import shop_context


@pytest.fixture
def tee(shop_a):
    return stocked_variant(shop_a, on_hand=10)


def test_redelivery_five_times_is_one_order_and_one_allocation(shop_a, meta_account, tee):
    variant, _loc = tee
    data = channel_order(lines=(("TEE-M", 2, "49.90"),))
    with shop_context(shop_a):
        outcomes = [order_import(account=meta_account, data=data)[1] for _ in range(5)]
        assert outcomes == ["created", "unchanged", "unchanged", "unchanged", "unchanged"]
        assert Order.objects.count() == 1
        order = Order.objects.get()
        assert order.status == Lifecycle.AWAITING_FULFILLMENT
        assert order.lines.get().quantity_allocated == 2
        assert OrderEvent.objects.filter(kind="received").count() == 1
    assert level(shop_a, variant) == (10, 2)


def test_update_before_create_ends_in_the_newest_state(shop_a, tiktok_account, tee):
    variant, _loc = tee
    now = timezone.now()
    newer = channel_order("2002", status="CANCELLED", lifecycle="cancelled", updated_at=now)
    older = channel_order("2002", status="AWAITING_SHIPMENT", updated_at=now - dt.timedelta(minutes=3))
    with shop_context(shop_a):
        assert order_import(account=tiktok_account, data=newer)[1] == "created"
        assert order_import(account=tiktok_account, data=older)[1] == "stale"
        order = Order.objects.get()
        assert order.status == Lifecycle.CANCELLED and order.channel_status == "CANCELLED"
    # A cancelled order never took stock.
    assert level(shop_a, variant) == (10, 0)


def test_cancellation_from_the_channel_releases_stock(shop_a, tiktok_account, tee):
    variant, _loc = tee
    now = timezone.now()
    with shop_context(shop_a):
        order_import(account=tiktok_account, data=channel_order("3003", lines=(("TEE-M", 3, "10"),), updated_at=now))
        assert level(shop_a, variant) == (10, 3)
        order_import(
            account=tiktok_account,
            data=channel_order(
                "3003",
                status="CANCELLED",
                lifecycle="cancelled",
                lines=(("TEE-M", 3, "10"),),
                updated_at=now + dt.timedelta(seconds=5),
            ),
        )
        assert Order.objects.get().status == Lifecycle.CANCELLED
    assert level(shop_a, variant) == (10, 0)


def test_unknown_item_keeps_the_order_and_raises_an_issue(shop_a, meta_account, tee):
    with shop_context(shop_a):
        order, _ = order_import(
            account=meta_account, data=channel_order("4004", lines=(("TEE-M", 1, "5"), ("GHOST", 2, "7")))
        )
        assert order.lines.count() == 2
        ghost = OrderLine.objects.get(sku="GHOST")
        assert ghost.variant is None
        issue = ReconciliationIssue.objects.get(kind=IssueKind.UNKNOWN_ITEM)
        assert issue.key == "4004:GHOST" and issue.order == order


def test_oversell_allocates_what_exists_and_records_the_shortfall(shop_a, meta_account):
    variant, _loc = stocked_variant(shop_a, sku="LAST", on_hand=3)
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("5005", lines=(("LAST", 5, "5"),)))
        line = order.lines.get()
        assert (line.quantity_allocated, line.quantity_short) == (3, 2)
        assert ReconciliationIssue.objects.filter(kind=IssueKind.OVERSELL, order=order).count() == 1
    assert level(shop_a, variant) == (3, 3)


def test_preferred_location_of_the_market_is_used_first(shop_a, meta_account):
    from catalog.models import Location, MovementReason, StockLevel
    from catalog.services import StockChange, location_create, stock_post_movements
    from localization.models import Market
    from orders.services.settings import market_location_set

    variant, main = stocked_variant(shop_a, sku="PREF", on_hand=5)
    with shop_context(shop_a):
        east = location_create(name="East", code="east", country="US")
        stock_post_movements(movements=[StockChange(variant.pk, east.pk, 5, MovementReason.RECEIVED)])
        market_location_set(market=Market.objects.get(is_home=True), location=east)
        order_import(account=meta_account, data=channel_order("6006", lines=(("PREF", 2, "5"),)))
        assert StockLevel.objects.get(variant=variant, location=east).allocated == 2
        assert StockLevel.objects.get(variant=variant, location=main).allocated == 0
        assert Location.objects.count() == 2


def test_fulfil_takes_stock_off_on_hand_and_refund_with_restock_returns_it(shop_a, meta_account, tee):
    variant, _loc = tee
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("7007", lines=(("TEE-M", 2, "20"),)))
        order_fulfill(order=order, carrier="UPS", tracking_number="1Z1")
        order.refresh_from_db()
        assert order.status == Lifecycle.FULFILLED
    assert level(shop_a, variant) == (8, 0)
    with shop_context(shop_a):
        line = order.lines.get()
        order_refund(order=order, amount="20", lines=[(line.pk, 1)], restock=True, reason="damaged box")
        order.refresh_from_db()
        assert order.status == Lifecycle.PARTIALLY_REFUNDED
    assert level(shop_a, variant) == (9, 0)


def test_merchant_cancel_releases_and_refuses_twice(shop_a, tiktok_account, tee):
    from django.core.exceptions import ValidationError

    variant, _loc = tee
    with shop_context(shop_a):
        order, _ = order_import(account=tiktok_account, data=channel_order("8008", lines=(("TEE-M", 4, "20"),)))
        order_cancel(order=order, reason="buyer asked")
        order.refresh_from_db()
        assert order.status == Lifecycle.CANCELLED
        with pytest.raises(ValidationError):
            order_cancel(order=order)
    assert level(shop_a, variant) == (10, 0)


def test_totals_converted_to_shop_currency_with_the_rate_recorded(shop_a, meta_account, tee):
    from localization.models import ExchangeRate

    with shop_context(shop_a):
        ExchangeRate.objects.create(
            shop=shop_a,
            base="EUR",
            quote="USD",
            rate=Decimal("1.10"),
            date=dt.date.today(),
            effective_at=timezone.now() - dt.timedelta(days=1),
            source="manual",
        )
        order, _ = order_import(
            account=meta_account, data=channel_order("9009", currency="EUR", lines=(("TEE-M", 1, "10.01"),))
        )
        assert order.total == Decimal("10.01")
        assert order.total_shop == Decimal("11.01")  # 11.011 rounded to cents
        assert order.rate == Decimal("1.1") and order.rate_source == "manual"
        assert order.shop_currency == "USD"


def test_beat_schedules_are_registered_and_fan_out(shop_a, shop_b, meta_account, monkeypatch):
    from django_celery_beat.models import PeriodicTask

    from channels.tests.factories import make_account
    from orders import tasks

    scheduled = dict(PeriodicTask.objects.filter(task__startswith="orders.").values_list("task", "enabled"))
    assert scheduled == {"orders.poll_all": True, "orders.reconcile_all": True, "orders.retention_all": True}
    make_account(shop_b, "tiktok_shop")
    make_account(shop_b, "pinterest")  # no order API: not polled
    queued = []
    monkeypatch.setattr(tasks.order_poll_task, "delay", lambda *args: queued.append(args))
    assert tasks.poll_all_task.apply().get() == 2
    assert sorted(shop for shop, _account in queued) == sorted([shop_a.pk, shop_b.pk])
