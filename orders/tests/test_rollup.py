"""The daily sales rollups kept by deltas equal a recomputation from the orders, and an import
costs the rollup the same few queries however many orders the day already has."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels.tests.factories import make_account
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

SALES_FIELDS = ("day", "account_id", "channel", "market_key", "market_id", "revenue", "orders", "units")
PRODUCT_FIELDS = ("day", "channel", "product_id", "revenue", "units", "lines")


def _kept(tz_name):
    from orders.models import DailyProductSales, DailySales
    from orders.rollup import sales_rollup_computed

    def rows(items, fields):
        return sorted(tuple(item[f] for f in fields) for item in items)

    computed_sales, computed_products = sales_rollup_computed(tz_name=tz_name)
    kept_sales = rows(DailySales.objects.values(*SALES_FIELDS), SALES_FIELDS)
    kept_products = rows(DailyProductSales.objects.values(*PRODUCT_FIELDS), PRODUCT_FIELDS)
    return (kept_sales, kept_products), (rows(computed_sales, SALES_FIELDS), rows(computed_products, PRODUCT_FIELDS))


@pytest.fixture
def market_shop(shop_a):
    """Shop A in New York time, selling at home (USD), in the euro area and in the UK (EUR and GBP
    at rates with more decimals than the mill), with three products."""
    from localization.models import ExchangeRate
    from localization.services import market_create
    from shopadmin.models import Shop

    Shop.objects.filter(pk=shop_a.pk).update(timezone="America/New_York")
    shop_a.refresh_from_db()
    variants = [stocked_variant(shop_a, sku=f"R-{i}", on_hand=1000, title=f"Rollup {i}")[0] for i in range(3)]
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        market_create(shop=shop_a, name="Euro area", countries=["DE", "FR"], currency="EUR", languages=["en"])
        market_create(shop=shop_a, name="UK", countries=["GB"], currency="GBP", languages=["en"])
        since = timezone.now() - dt.timedelta(days=20)
        for base, rate in (("EUR", "1.0837461"), ("GBP", "1.2716093")):
            ExchangeRate.objects.create(
                shop=shop_a,
                base=base,
                quote="USD",
                rate=Decimal(rate),
                date=since.date(),
                effective_at=since,
                source="manual",
            )
    return shop_a, variants


def test_rollups_equal_a_recomputation_after_a_burst_of_changes(market_shop):
    from orders.models import Lifecycle, Order
    from orders.rollup import sales_rollup_rebuild
    from orders.services.ingest import order_import
    from orders.services.lifecycle import order_cancel, order_fulfill, order_refund

    shop, variants = market_shop
    accounts = [make_account(shop, "meta"), make_account(shop, "tiktok_shop")]
    rng = random.Random(11)
    # Placed over three days and across local midnights (New York), in three currencies.
    start = timezone.now().replace(hour=3, minute=30, second=0, microsecond=0) - dt.timedelta(days=3)
    places = [("US", "USD"), ("DE", "EUR"), ("GB", "GBP")]
    imported = []
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        for n in range(36):
            country, currency = places[n % 3]
            lines = [
                (variant.sku, rng.randint(1, 3), f"{rng.randint(100, 9999) / 100:.2f}")
                for variant in rng.sample(variants, k=rng.randint(1, 3))
            ]
            if n % 7 == 0:
                lines.append(("NOT-OURS", 1, "3.33"))  # a line matched to no product
            when = start + dt.timedelta(hours=2 * n + rng.randint(0, 90) / 60)
            data = channel_order(f"B{n:03d}", lines=lines, currency=currency, updated_at=when)
            data.country = country
            account = accounts[n % 2]
            order, outcome = order_import(account=account, data=data)
            assert outcome == "created"
            imported.append((account, data, order))

        # Cancelled here, refunded in part and in full, fulfilled, cancelled on the channel, a line
        # cancelled in part on the channel, moved to another day by the channel.
        for _account, _data, order in imported[::5]:
            order_cancel(order=order, reason="buyer asked")
        for _account, _data, order in imported[1::6]:
            order = Order.objects.get(pk=order.pk)
            if order.status in (Lifecycle.CANCELLED, Lifecycle.REFUNDED):
                continue
            order_fulfill(order=order)
            order_refund(order=order, amount="5.00")
        for _account, _data, order in imported[2::9]:
            order = Order.objects.get(pk=order.pk)
            if order.status in (Lifecycle.CANCELLED, Lifecycle.REFUNDED):
                continue
            order_fulfill(order=order)
            order_refund(
                order=order, amount=order.total, lines=[(line.pk, line.quantity) for line in order.lines.all()]
            )
        for account, data, _order in imported[3::8]:
            data.channel_status, data.lifecycle = "CANCELLED", "cancelled"
            data.updated_at += dt.timedelta(hours=1)
            order_import(account=account, data=data)
        for account, data, _order in imported[4::7]:
            data.lines[0].quantity_cancelled = 1
            data.updated_at += dt.timedelta(hours=2)
            data.placed_at -= dt.timedelta(days=1)
            data.total += Decimal("1.00")
            order_import(account=account, data=data)

        kept, computed = _kept(shop.timezone)
        assert kept == computed
        sales, products = kept
        assert len({row[0] for row in sales}) >= 3, "several days"
        assert len({row[3] for row in sales}) == 3, "three markets"
        assert {row[1] for row in sales} == {a.pk for a in accounts}
        assert any(row[3] != row[3].quantize(Decimal("0.01")) for row in products), "revenue at the order's rate"
        assert Order.objects.filter(status=Lifecycle.CANCELLED).exists()
        assert Order.objects.filter(status=Lifecycle.REFUNDED).exists()
        assert Order.objects.filter(status=Lifecycle.PARTIALLY_REFUNDED).exists()

        # A rebuild writes the same rows and shares later changes add to.
        sales_rollup_rebuild(tz_name=shop.timezone)
        assert _kept(shop.timezone)[0] == kept
        for account, data, _order in imported[6::4]:
            data.channel_status, data.lifecycle = "CANCELLED", "cancelled"
            data.updated_at += dt.timedelta(hours=3)
            order_import(account=account, data=data)
        kept, computed = _kept(shop.timezone)
        assert kept == computed


def test_a_deleted_market_or_product_leaves_the_rollups_writable(market_shop):
    from catalog.services import product_delete
    from localization.models import Market
    from localization.services import market_delete
    from orders.models import Order
    from orders.services.ingest import order_import
    from orders.services.lifecycle import order_cancel

    shop, variants = market_shop
    account = make_account(shop, "meta")
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        orders = []
        for n, country in enumerate(["GB", "GB", "US"]):
            data = channel_order(f"M{n}", lines=((variants[0].sku, 1, "10.00"),), currency="GBP")
            data.country = country
            orders.append(order_import(account=account, data=data)[0])
        market_delete(market=Market.objects.get(currency="GBP"))
        product_delete(product=variants[0].product)
        order_cancel(order=Order.objects.get(pk=orders[0].pk))
        kept, computed = _kept(shop.timezone)

    def without_market_key(rows):
        return sorted((row[:3] + row[4:] for row in rows), key=repr)

    # The order left in the deleted market still counts, under no market, as recomputed; the
    # deleted product's rows went with it and nothing of it was written back.
    assert without_market_key(kept[0]) == without_market_key(computed[0])
    assert sorted((row[4] is None, row[6]) for row in kept[0]) == [(False, 1), (True, 1)]
    assert kept[1] == computed[1] == []


def test_an_import_costs_the_rollup_the_same_queries_early_and_late_in_the_day(shop_a):
    from orders.services import ingest

    variant, _loc = stocked_variant(shop_a, sku="DAY-1", on_hand=500)
    account = make_account(shop_a, "tiktok_shop")
    counted = []
    touch = ingest.sales_rollup_touch

    def counting_touch(*args, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            touch(*args, **kwargs)
        counted.append(len(captured.captured_queries))

    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    ingest.sales_rollup_touch = counting_touch
    try:
        with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
            for n in range(40):
                data = channel_order(f"D{n:03d}", lines=((variant.sku, 1, "9.99"),), updated_at=noon)
                ingest.order_import(account=account, data=data)
    finally:
        ingest.sales_rollup_touch = touch
    assert len(set(counted)) == 1, counted
    assert counted[0] <= 6, counted


def test_an_orders_share_belongs_to_its_shop_alone(shop_a, shop_b, client, staff):
    """alice's shares are hers: bob's shop sees none, and the staff admin lists them per shop."""
    from orders.models import RollupShare
    from orders.services.ingest import order_import

    stocked_variant(shop_a, sku="SHARE-1", on_hand=5)
    account = make_account(shop_a, "meta")
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        order_import(account=account, data=channel_order("S-1", lines=(("SHARE-1", 1, "20.00"),)), via="test")
        assert RollupShare.objects.count() == 1
    with shop_context(shop_b):
        assert RollupShare.objects.count() == 0
    client.force_login(staff)
    url = "/admin/orders/rollupshare/"
    listed = client.get(url, {"shop__id__exact": shop_a.pk}).context["cl"]
    assert [share.shop_id for share in listed.result_list] == [shop_a.pk]
    # Read-only for staff too: the shares are kept by the imports.
    assert client.get(f"{url}add/").status_code == 403
