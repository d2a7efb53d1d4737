"""One adapter per channel; `adapter_for(account)` picks it and hands it the account's secrets."""

from __future__ import annotations

from channels.adapters.base import AdapterError, ChannelAdapter
from channels.adapters.checkout import CheckoutAdapter
from channels.adapters.google_merchant import GoogleMerchantAdapter
from channels.adapters.meta import MetaAdapter
from channels.adapters.pinterest import PinterestAdapter
from channels.adapters.snapchat import SnapchatAdapter
from channels.adapters.tiktok_shop import TikTokShopAdapter

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    "meta": MetaAdapter,
    "tiktok_shop": TikTokShopAdapter,
    "pinterest": PinterestAdapter,
    "snapchat": SnapchatAdapter,
    "google_merchant": GoogleMerchantAdapter,
    "checkout": CheckoutAdapter,
}


def adapter_class(channel: str) -> type[ChannelAdapter]:
    return ADAPTERS[channel]


def adapter_for(account, market: dict | None = None, **options) -> ChannelAdapter:
    """The account's adapter; `market` for channels whose calls name one (batch_per_market)."""
    from channels.endpoints import api_base_url_problem

    cls = ADAPTERS[account.channel]
    # Checked again at every use, not only when saved: the rules may have tightened since.
    if account.api_base_url and (problem := api_base_url_problem(account.channel, account.api_base_url)):
        raise AdapterError(problem)
    if cls.uses_references:
        from channels.references import AccountReferences

        options.setdefault("references", AccountReferences(account))
    return cls(base_url=account.api_base_url, credentials=dict(account.credentials), market=market, **options)
