"""The steps of seed_demo one by one: catalog, markets, the first orders."""

import pytest

from catalog.models import Product, ProductVariant
from localization.models import ExchangeRate, Market
from orders.models import IssueKind, Lifecycle, Order, ReconciliationIssue
from orders.tests.conftest import stocked_variant
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def test_demo_catalog_seeds_once(shop_a, alice):
    from demo.catalog import seed_demo_catalog

    with shop_context(shop_a):
        seed_demo_catalog(shop=shop_a, owner=alice, fresh=True, base_url="http://x")
        count = ProductVariant.objects.count()
        assert count == 180 and Product.objects.filter(status="active").exists()
        seed_demo_catalog(shop=shop_a, owner=alice, fresh=False, base_url="http://x")
        assert ProductVariant.objects.count() == count


def test_demo_seed_adds_markets_and_rates(shop_a):
    from demo.markets import seed_demo_markets

    with shop_context(shop_a):
        seed_demo_markets(shop=shop_a, fresh=True)
        names = set(Market.objects.values_list("name", flat=True))
        assert {"European Union", "United Kingdom", "Japan", "Canada"} <= names
        assert Market.objects.get(name="Japan").rounding_preset == "nearest_100"
        assert ExchangeRate.objects.filter(source="manual", base="USD", quote="EUR").exists()
        seed_demo_markets(shop=shop_a, fresh=True)  # idempotent
        assert Market.objects.filter(name="Japan").count() == 1


def test_demo_seed_gives_the_demo_shop_orders_in_several_states(shop_a, alice):
    from demo.orders import seed_demo_orders
    from shopadmin.audit import Actor, acting_as
    from shopadmin.models import Door

    for n in range(5):
        stocked_variant(shop_a, sku=f"DEMO-{n}", on_hand=20, title=f"Demo {n}")
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="seed_demo")):
        seed_demo_orders(shop=shop_a, owner=alice, fresh=True, base_url="http://127.0.0.1:8000")
        seed_demo_orders(shop=shop_a, owner=alice, fresh=False, base_url="http://127.0.0.1:8000")
        assert Order.objects.count() == 12
        statuses = set(Order.objects.values_list("status", flat=True))
        assert {Lifecycle.FULFILLED, Lifecycle.AWAITING_FULFILLMENT, Lifecycle.CANCELLED} <= statuses
        assert ReconciliationIssue.objects.filter(kind=IssueKind.UNKNOWN_ITEM).exists()
