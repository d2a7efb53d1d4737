"""Reactions to the apps below: a stock or price change in the catalog, a saved market and newly
stored market prices all re-plan the shop's accounts. Connected in ChannelsConfig.ready().

Each signal is sent after the commit, without a shop context: the receiver sets it from the
signal's shop id.
"""

from __future__ import annotations

from shopadmin.tenancy import shop_context

REPLAN_ON = {"stock", "price"}


def _replan(shop_id: int) -> None:
    from channels.publishing import replan_request

    with shop_context(shop_id):
        replan_request(shop_id=shop_id)


def on_catalog_changed(sender, shop_id, variant_ids=None, what="", **kwargs):
    """catalog.signals.catalog_changed: stock and prices are what the channels show."""
    if what in REPLAN_ON:
        _replan(shop_id)


def on_market_saved(sender, shop_id, market_id, created=False, **kwargs):
    """localization.signals.market_saved: a market's price rule changed, its accounts' prices may too."""
    _replan(shop_id)


def on_market_prices_stored(sender, shop_id, market_ids=None, variant_ids=None, **kwargs):
    """localization.signals.market_prices_stored: channels publish stored market prices, so they
    re-plan once new ones are stored (after a price, rate or market change), never ahead of them."""
    _replan(shop_id)
