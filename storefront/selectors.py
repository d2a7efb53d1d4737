"""Reads for the storefront's merchant pages."""

from __future__ import annotations

from channels.links import listing_link_format
from channels.models import INTERNAL_CHANNELS, ChannelAccount


def accounts_linking_here() -> list[ChannelAccount]:
    """The current shop's active channel accounts whose listings link to the hosted product
    pages (they name no storefront of their own): while the storefront is unpublished, their
    buyers land on "not found"."""
    accounts = (
        ChannelAccount.objects.filter(is_active=True)
        .exclude(channel__in=INTERNAL_CHANNELS)
        .select_related("shop")
        .order_by("name", "pk")
    )
    return [account for account in accounts if listing_link_format(account).hosted]
