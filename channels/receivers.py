"""Reactions to other apps' changes: stock and price changes re-plan the shop's accounts."""

from __future__ import annotations

from django.db import transaction

from shopadmin.tenancy import shop_context

REPLAN_ON = {"stock", "price"}


def on_catalog_changed(sender, shop_id, variant_ids=None, what="", **kwargs):
    # Sent after commit, without a shop context: set it from the signal's shop id.
    if what not in REPLAN_ON:
        return
    from channels.publishing import replan_request

    with shop_context(shop_id):
        replan_request(shop_id=shop_id)


def on_market_saved(sender, instance, **kwargs):
    """A market's price rule changed: its accounts' prices may too."""
    from channels.publishing import replan_request

    shop_id = instance.shop_id
    if shop_id is None:
        return

    def request():
        with shop_context(shop_id):
            replan_request(shop_id=shop_id)

    transaction.on_commit(request)


def connect():
    from django.db.models.signals import post_save

    from catalog.signals import catalog_changed
    from localization import models as localization_models

    catalog_changed.connect(on_catalog_changed, dispatch_uid="channels.catalog_changed")
    post_save.connect(on_market_saved, sender=localization_models.Market, dispatch_uid="channels.market_saved")
