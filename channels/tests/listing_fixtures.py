"""Catalog data for the listings, feeds and publishing tests."""

from __future__ import annotations

from catalog.models import Product
from catalog.seeding import seed_catalog
from channels.listings import listing_settings_update
from channels.tests.factories import make_account
from shopadmin.tenancy import shop_context

STOREFRONT = "https://alice.example.com"


def seeded_account(shop, *, variants=30, channel="meta", name=None, seed=7, **kwargs):
    """An account of `shop` with a seeded catalog (every product active) and a storefront."""
    with shop_context(shop):
        seed_catalog(shop=shop, variants=variants, seed=seed)
        Product.objects.update(status=Product.Status.ACTIVE)
    account = make_account(shop, channel, name=name, **kwargs)
    with shop_context(shop):
        listing_settings_update(account=account, storefront_url=STOREFRONT)
        price_markets(shop)
    return account


def price_markets(shop) -> None:
    """Store every market's prices now, as localization's recompute task does after a change
    (channels publish stored prices only)."""
    from localization.pricing import market_prices_recompute

    market_prices_recompute(shop_id=shop.pk)
