"""The demo shop's catalog: an apparel shop with options, images and stock in two locations."""

from __future__ import annotations


def seed_demo_catalog(*, shop, owner, fresh, base_url) -> None:
    from catalog.models import Product
    from catalog.seeding import seed_catalog

    if Product.objects.exists():
        return  # seed_demo is idempotent: keep whatever the demo merchant has changed
    seed_catalog(shop=shop, variants=180, seed=7, image_base_url=base_url)
