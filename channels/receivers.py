"""Reactions to other apps' changes: stock, price and stored market price changes re-plan the shop's accounts."""

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


PRICES_STORED_TASK = "localization.market_prices_recompute"


def on_task_postrun(sender=None, task=None, args=None, kwargs=None, state=None, **extra):
    """Channels publish stored market prices: once localization has stored new ones (after a
    price, rate or market change), re-plan, so the plan never runs ahead of the prices."""
    if getattr(task, "name", "") != PRICES_STORED_TASK or state != "SUCCESS":
        return
    shop_id = (args[0] if args else None) or (kwargs or {}).get("shop_id")
    if not shop_id:
        return
    from channels.publishing import replan_request

    with shop_context(shop_id):
        replan_request(shop_id=shop_id)


def connect():
    from celery.signals import task_postrun
    from django.db.models.signals import post_save

    from catalog.signals import catalog_changed
    from localization import models as localization_models

    catalog_changed.connect(on_catalog_changed, dispatch_uid="channels.catalog_changed")
    post_save.connect(on_market_saved, sender=localization_models.Market, dispatch_uid="channels.market_saved")
    task_postrun.connect(on_task_postrun, weak=False, dispatch_uid="channels.prices_stored")
