"""Reactions to the apps below: the home market of a new shop, catalog changes.

Connected in LocalizationConfig.ready()."""

from __future__ import annotations


def create_home_market(sender, shop, **kwargs):
    from localization.services import home_market_create

    home_market_create(shop=shop)


def on_catalog_changed(sender, shop_id, variant_ids=None, what="", **kwargs):
    # A price change needs new market prices; so does a new variant (sent as "content": it
    # brings a price no market has seen). Stock never changes a price.
    if what not in ("price", "content"):
        return
    from localization.tasks import market_prices_recompute_task

    market_prices_recompute_task.delay(shop_id, None, list(variant_ids) if variant_ids else None)
