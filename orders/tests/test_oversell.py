"""The last 10 units, 50 orders at once from three accounts: exactly 10 allocated, 40 shortfalls."""

import threading

import pytest
from django.db import connection

from catalog.models import StockLevel, StockMovement
from channels.tests.factories import make_account
from orders.models import IssueKind, Order, OrderLine, ReconciliationIssue
from orders.services.ingest import order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.tenancy import shop_context

ORDERS = 50
UNITS = 10


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_orders_for_the_last_ten_units(shop_a):
    variant, _location = stocked_variant(shop_a, sku="LAST", on_hand=UNITS)
    accounts = [
        make_account(shop_a, "meta", name="Meta"),
        make_account(shop_a, "tiktok_shop", name="TikTok"),
        make_account(shop_a, "tiktok_shop", name="TikTok EU"),
    ]
    barrier = threading.Barrier(ORDERS)
    errors: list[BaseException] = []
    negatives: list[tuple[int, int]] = []
    stop = threading.Event()

    def place(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            # Its own connection (Django's are per thread) and its own shop context.
            with shop_context(shop_a):
                order_import(account=accounts[i % 3], data=channel_order(f"C-{i:03d}", lines=(("LAST", 1, "9.99"),)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def watch() -> None:
        # Reads stock while the orders land: available must never dip below zero.
        try:
            with shop_context(shop_a):
                while not stop.is_set():
                    for lv in StockLevel.objects.filter(variant=variant):
                        if lv.on_hand - lv.allocated < 0 or lv.allocated < 0:
                            negatives.append((lv.on_hand, lv.allocated))
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=place, args=(i,)) for i in range(ORDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    watcher.join(10)

    assert not errors, errors[:3]
    assert not negatives
    with shop_context(shop_a):
        assert Order.objects.count() == ORDERS
        lines = list(OrderLine.objects.all())
        assert sum(line.quantity_allocated for line in lines) == UNITS
        assert sum(line.quantity_short for line in lines) == ORDERS - UNITS
        assert sum(1 for line in lines if line.quantity_short) == ORDERS - UNITS
        assert ReconciliationIssue.objects.filter(kind=IssueKind.OVERSELL).count() == ORDERS - UNITS
        level = StockLevel.objects.get(variant=variant)
        assert (level.on_hand, level.allocated, level.available) == (UNITS, UNITS, 0)
        ledger = StockMovement.objects.filter(variant=variant, reason="allocation")
        assert ledger.count() == UNITS
        assert all(0 <= m.allocated_after <= m.on_hand_after for m in StockMovement.objects.filter(variant=variant))
