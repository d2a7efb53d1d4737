"""The audit log in words: what each action means and who a background actor was.

Entries store stable codes (`stock.post_movements`, `task channels.webhook_event_process`),
which the CSV export and the API keep; the merchant UI and the staff admin show the sentences
below, in the reader's language. `shopadmin/tests/test_audit_words.py` scans the code for
every `audit_record(action=…)` and every task, and fails when one has no words here.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTION_WORDS = {
    # Shops, people and keys
    "shop.create": _("Shop created"),
    "shop.update": _("Shop settings changed"),
    "membership.create": _("Member added"),
    "membership.change_role": _("Member's role changed"),
    "membership.remove": _("Member removed"),
    "invitation.create": _("Invitation sent"),
    "invitation.revoke": _("Invitation revoked"),
    "invitation.accept": _("Invitation accepted"),
    "api_key.create": _("API key created"),
    "api_key.revoke": _("API key revoked"),
    "auth.locked_out": _("Signing in paused after too many wrong passwords"),
    # Catalog
    "catalog.seed": _("Sample catalog created"),
    "catalog.import": _("Catalog imported from a CSV file"),
    "catalog.import_check": _("Catalog file checked before import"),
    "catalog.import_commit": _("Catalog file imported"),
    "category.create": _("Category created"),
    "category.update": _("Category changed"),
    "category.delete": _("Category deleted"),
    "product.create": _("Product created"),
    "product.update": _("Product changed"),
    "product.delete": _("Product deleted"),
    "product.set_options": _("Product options changed"),
    "product.bulk_activate": _("Products activated"),
    "product.bulk_archive": _("Products archived"),
    "product.bulk_draft": _("Products set to draft"),
    "product.bulk_tag": _("Tag added to products"),
    "product.bulk_untag": _("Tag removed from products"),
    "variant.create": _("Variant created"),
    "variant.update": _("Variant changed"),
    "variant.delete": _("Variant deleted"),
    "variant.bulk_upsert": _("Variants created or changed in bulk"),
    "media.add": _("Image added"),
    "media.delete": _("Image removed"),
    "location.create": _("Stock location created"),
    "stock.post_movements": _("Stock moved"),
    # Markets and prices
    "market.create": _("Market created"),
    "market.update": _("Market changed"),
    "market.delete": _("Market deleted"),
    "market.prices_recompute": _("Market prices recomputed"),
    "market_variant_price.set": _("Fixed or sale price set"),
    "market_variant_price.clear": _("Fixed and sale price removed"),
    "shipping_rate.create": _("Shipping rate added"),
    "shipping_rate.update": _("Shipping rate changed"),
    "shipping_rate.delete": _("Shipping rate removed"),
    "exchange_rate.set": _("Manual exchange rate set"),
    "shop_tax_rate.set": _("Tax rate override set"),
    "translation.set": _("Translation changed"),
    "translation.import": _("Translations imported from a CSV file"),
    # Channels
    "channel_account.create": _("Channel account added"),
    "channel_account.update": _("Channel account changed"),
    "channel_account.delete": _("Channel account removed"),
    "channel_account.connect": _("Channel account connected"),
    "channel_account.token_refresh": _("Channel access renewed"),
    "channel_account.rotate_feed_token": _("Feed address changed"),
    "channel_account.needs_reconnect": _("Channel account needs reconnecting"),
    "listing_settings.update": _("Listing settings changed"),
    "listing_rule.add": _("Listing rule added"),
    "listing_rule.remove": _("Listing rule removed"),
    "listing.update": _("Listing changed"),
    "publish_plan.create": _("Changes for a channel reviewed"),
    "publish_plan.apply": _("Changes sent to a channel"),
    "publish_plan.fail": _("Sending changes to a channel failed"),
    # Orders
    "order.import": _("Order imported from the channel"),
    "order.channel_update": _("Order updated by the channel"),
    "order.fulfill": _("Order fulfilled"),
    "order.cancel": _("Order cancelled"),
    "order.refund": _("Order refunded"),
    "order_settings.update": _("Order settings changed"),
    "market_location.set": _("Stock location of a market changed"),
    "customer.export": _("Customer data exported"),
    "customer.erase": _("Customer data erased"),
    "reconciliation.start": _("Reconciliation with a channel started"),
    "reconciliation_issue.resolve": _("Reconciliation finding resolved"),
    "reconciliation_issue.act": _("Fix applied to a reconciliation finding"),
    "discount_code.create": _("Discount code added"),
    "discount_code.update": _("Discount code changed"),
    "discount_code.delete": _("Discount code removed"),
    "discount_code.redeem": _("Discount code used on an order"),
    "discount_code.record": _("Discount code use recorded on an order"),
    "ad_spend.create": _("Ad spend added"),
    "ad_spend.update": _("Ad spend changed"),
    "ad_spend.delete": _("Ad spend removed"),
    "ad_spend.import": _("Ad spend imported from a file"),
    # Storefront
    "storefront_settings.update": _("Storefront settings changed"),
    "checkout.place": _("Order placed at the shop's checkout"),
    "chat_draft.create": _("Order from a chat prepared for the buyer to confirm"),
    "chat_draft.confirm": _("Order from a chat confirmed by the buyer"),
    "chat_draft.cancel": _("Order from a chat cancelled before the buyer confirmed it"),
}

# Staff edits in the admin are recorded as `<model name>.create|update|delete`
# (shopadmin.admin_base.TenantAdmin), for any tenant model.
ADMIN_VERBS = {
    "create": _("%(model)s created in the staff admin"),
    "update": _("%(model)s changed in the staff admin"),
    "delete": _("%(model)s deleted in the staff admin"),
}

TASK_WORDS = {
    "storefront.checkout_confirmation_email": _("Background task: emailing a buyer their order confirmation"),
    "catalog.import_check": _("Background task: checking a catalog file"),
    "catalog.import_commit": _("Background task: importing a catalog file"),
    "channels.connection_complete": _("Background task: finishing a channel connection"),
    "channels.publish_batch": _("Background task: sending changes to a channel"),
    "channels.publish_resume_stale": _("Background task: resuming interrupted publishing"),
    "channels.references_refresh": _("Background task: reading a channel's shops and catalogs"),
    "channels.replan": _("Background task: working out what a channel needs"),
    "channels.token_refresh": _("Background task: renewing a channel's access"),
    "channels.tokens_refresh_due": _("Background task: renewing channel access that expires soon"),
    "channels.webhook_event_process": _("Background task: processing a channel webhook"),
    "localization.ecb_rates_fetch": _("Background task: fetching the ECB exchange rates"),
    "localization.provider_rates_fetch": _("Background task: fetching exchange rates from the rate provider"),
    "localization.market_prices_recompute": _("Background task: recomputing market prices"),
    "orders.acknowledge": _("Background task: acknowledging an order to the channel"),
    "orders.cancellation_push": _("Background task: sending a cancellation to the channel"),
    "orders.fulfillment_push": _("Background task: sending a fulfilment to the channel"),
    "orders.demo_place_order": _("Background task: placing a demo order"),
    "orders.issue_act": _("Background task: applying the fix of a reconciliation finding"),
    "orders.poll": _("Background task: fetching new orders from a channel"),
    "orders.poll_all": _("Background task: fetching new orders from every channel"),
    "orders.reconcile_account": _("Background task: reconciling a channel account"),
    "orders.reconcile_all": _("Background task: reconciling every channel account"),
    "orders.reconciliation_run": _("Background task: reconciling with a channel"),
    "orders.retention": _("Background task: erasing personal data past its retention"),
    "orders.retention_all": _("Background task: erasing personal data past its retention"),
    "orders.sales_rollup_rebuild": _("Background task: rebuilding the daily sales"),
    "shopadmin.audit_log_export": _("Background task: exporting the audit log"),
    "shopadmin.prune_idempotency_keys": _("Background task: pruning stored API replies"),
}
GENERIC_TASK = _("Background task")

# Labels the doors give their actor (shopadmin.audit.Actor.label) that are not a person or a key.
TASK_PREFIX = "task "
WEBHOOK_PREFIX = "webhook "
SIGN_IN_PREFIX = "sign-in from "


# Webhooks are recorded as "webhook <channel code>"; channels' names are brands, the same in every language.
CHANNEL_NAMES = {
    "meta": "Meta",
    "tiktok_shop": "TikTok Shop",
    "pinterest": "Pinterest",
    "snapchat": "Snapchat",
    "google_merchant": "Google Merchant Center",
    "checkout": "Shop checkout",
}


def _model_name(model_name: str) -> str | None:
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            name = str(model._meta.verbose_name)
            return name[:1].upper() + name[1:]
    return None


def action_words(action: str) -> str:
    """The action as a sentence in the active language; the code itself if it has none."""
    words = ACTION_WORDS.get(action)
    if words is not None:
        return str(words)
    model_name, _dot, verb = action.rpartition(".")
    if verb in ADMIN_VERBS and model_name:
        model = _model_name(model_name)
        if model is not None:
            return str(ADMIN_VERBS[verb]) % {"model": model}
    return action


def field_words(model_label: str, name: str) -> str:
    """A changed field's name as the model names it ("default currency"); a relation named
    only after its field reads as the related model's name, which is translated ("user")."""
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = apps.get_model(model_label)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return name
    if field.auto_created and not field.concrete:  # a reverse relation: a summary named by its service
        return name
    verbose = str(getattr(field, "verbose_name", "") or "")
    if field.is_relation and field.related_model is not None and verbose in ("", name.replace("_", " ")):
        verbose = str(field.related_model._meta.verbose_name)
    if not verbose:
        return name
    # Most model fields are named in plain English; the forms' labels ("HS code", "Default
    # currency") are translated, and the same words read the same.
    for candidate in (verbose, verbose[:1].upper() + verbose[1:]):
        translated = gettext(candidate)
        if translated != candidate:
            return translated
    return verbose


def value_words(model_label: str, name: str, value):
    """A recorded value as the merchant UI shows it: a choice by its label ("Awaiting
    fulfilment", not awaiting_fulfillment); anything else as recorded."""
    from django.core.exceptions import FieldDoesNotExist

    if not isinstance(value, str) or not value:
        return value
    try:
        field = apps.get_model(model_label)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return value
    choices = dict(getattr(field, "flatchoices", None) or [])
    return str(choices.get(value, value))


def task_words(task_name: str) -> str:
    return str(TASK_WORDS.get(task_name, GENERIC_TASK))


def actor_words(label: str, door: str = "") -> str:
    """Who did it, for a reader: a task's name becomes what it does; people and keys stay as they are."""
    if label.startswith(TASK_PREFIX):
        return task_words(label[len(TASK_PREFIX) :])
    if label.startswith(WEBHOOK_PREFIX):
        channel = label[len(WEBHOOK_PREFIX) :]
        return gettext("Webhook from %(channel)s") % {"channel": CHANNEL_NAMES.get(channel, channel)}
    if label.startswith(SIGN_IN_PREFIX):
        return gettext("Sign-in attempts from %(address)s") % {"address": label[len(SIGN_IN_PREFIX) :]}
    if label.startswith("API key "):
        return gettext("API key %(name)s") % {"name": label[len("API key ") :]}
    if not label or label == door:
        from shopadmin.models import Door

        return str(Door(door).label) if door in Door.values else label
    return label
