"""Shops with something to sell: alice's (USD, US) and charlie's (EUR, FR), each with active
products, stock, stored market prices and a shipping rate."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from catalog import services as catalog
from catalog.models import Product, ProductVariant
from catalog.tests.factories import make_location
from localization.models import Market
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context


def stock(sku: str, units: int, code: str = "main") -> None:
    variant = ProductVariant.objects.get(sku=sku)
    catalog.stock_set(variant=variant, location=make_location(code=code), on_hand=units)


def seed_store(shop, *, prefix: str, currency_price: str = "19.99") -> dict:
    """Active products with stock and stored prices in the shop's home market."""
    from localization.pricing import market_prices_recompute
    from localization.services import shipping_rate_create

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="fixture")):
        make_location(country=shop.country)
        tee = catalog.product_create(
            title=f"{prefix} Tee",
            description=f"A soft cotton tee by {prefix}.",
            status=Product.Status.ACTIVE,
            options=[{"name": "Size", "values": ["S", "M"]}],
            variants=[
                {
                    "sku": f"{prefix}-TEE-S",
                    "price": currency_price,
                    "option_values": {"Size": "S"},
                    "weight_grams": 200,
                },
                {
                    "sku": f"{prefix}-TEE-M",
                    "price": currency_price,
                    "option_values": {"Size": "M"},
                    "weight_grams": 200,
                },
            ],
        )
        mug = catalog.product_create(
            title=f"{prefix} Mug",
            status=Product.Status.ACTIVE,
            variants=[{"sku": f"{prefix}:MUG:BLUE", "price": "8.50", "weight_grams": 400}],
        )
        cap = catalog.product_create(
            title=f"{prefix} Cap",
            status=Product.Status.ACTIVE,
            variants=[{"sku": f"{prefix}-CAP", "price": "12.00"}],
        )
        draft = catalog.product_create(
            title=f"{prefix} Secret draft",
            variants=[{"sku": f"{prefix}-DRAFT", "price": "99.00"}],
        )
        stock(f"{prefix}-TEE-S", 20)
        stock(f"{prefix}-TEE-M", 3)
        stock(f"{prefix}:MUG:BLUE", 10)
        stock(f"{prefix}-CAP", 0)
        stock(f"{prefix}-DRAFT", 5)
        market_prices_recompute(shop_id=shop.pk)
        home = Market.objects.get(is_home=True)
        rate = shipping_rate_create(market=home, name="Courier", kind="flat", amount=Decimal("5.00"))
    return {"tee": tee, "mug": mug, "cap": cap, "draft": draft, "home": home, "rate": rate}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def store_a(shop_a):
    return seed_store(shop_a, prefix="AL")


@pytest.fixture
def store_b(shop_b):
    return seed_store(shop_b, prefix="CH", currency_price="17.00")
