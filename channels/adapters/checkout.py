"""The shop's own checkout (the storefront app's hosted pages at /s/<shop>/): a channel with
nothing to call. Its orders are placed by `storefront.services.checkout_place` through
orders' `order_import`, like any channel's, so they share one lifecycle; there is no API to
publish to, no feed, no order API to poll and nothing to reconcile against."""

from __future__ import annotations

from channels.adapters.base import ChannelAdapter, ChannelItem, ItemError


class CheckoutAdapter(ChannelAdapter):
    channel = "checkout"
    internal = True
    # Nothing is published: the storefront reads the catalog and the stored market prices itself.
    required_fields = ()

    def build_payload(self, item: ChannelItem) -> dict:
        return {}

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        return []
