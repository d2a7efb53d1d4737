"""Reads about channel accounts: the URLs they hand out and the markets they sell in."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from channels.adapters import adapter_class
from channels.credentials import WEBHOOK_CHANNELS
from channels.models import ChannelAccount
from shopadmin.models import Shop


def publishes_by_api(account: ChannelAccount) -> bool:
    """Listings reach the channel through its API (else the channel fetches our feed)."""
    adapter = adapter_class(account.channel)
    return not adapter.feed_only and account.publish_method == ChannelAccount.PublishMethod.API


def account_feed_formats(account: ChannelAccount) -> tuple[str, ...]:
    """The feed formats the account serves: every format of a channel that fetches feeds,
    unless the account publishes through an API that a feed would contradict (Pinterest
    refuses API upserts into a catalog fed by a data source)."""
    adapter = adapter_class(account.channel)
    if publishes_by_api(account) and adapter.feed_excludes_api:
        return ()
    return adapter.feed_formats


def home_market(shop: Shop) -> dict:
    return {
        "market": shop.country.upper(),
        "country": shop.country.upper(),
        "language": shop.default_language,
        "currency": shop.default_currency.upper(),
    }


def account_markets(account: ChannelAccount, shop: Shop | None = None) -> list[dict]:
    """The markets an account sells in; none configured means the shop's home market."""
    if account.markets:
        return list(account.markets)
    return [home_market(shop or account.shop)]


def webhook_event_words(event) -> str:
    """What a received notification was about, in words; an unknown type as the channel sent it."""
    words = adapter_class(event.account.channel).webhook_event_words.get(event.event_type)
    return str(words) if words else event.event_type


def webhook_url(account: ChannelAccount) -> str | None:
    if account.channel not in WEBHOOK_CHANNELS:
        return None
    return settings.SITE_URL + reverse("channels-webhook", args=[account.channel, account.webhook_key])


def feed_name(account: ChannelAccount, market: dict, fmt: str) -> str:
    return f"{account.channel}-{market['market'].lower()}-{market['language'].lower()}.{fmt}"


def account_feeds(account: ChannelAccount, shop: Shop | None = None) -> list[dict]:
    feeds = []
    for market in account_markets(account, shop):
        for fmt in account_feed_formats(account):
            name = feed_name(account, market, fmt)
            feeds.append(
                {
                    "market": market["market"],
                    "language": market["language"],
                    "format": fmt,
                    "url": f"{settings.SITE_URL}/feeds/{account.feed_token}/{name}",
                }
            )
    return feeds


def account_find_by_webhook_key(*, channel: str, key: str) -> ChannelAccount | None:
    """Platform lookup: the key in the URL is what names the account and so the shop."""
    from shopadmin.tenancy import all_shops_access

    if not key or len(key) > 64:
        return None
    with all_shops_access():
        return (
            ChannelAccount.all_shops.select_related("shop")
            .filter(channel=channel, webhook_key=key, is_active=True, shop__is_active=True)
            .first()
        )


def account_health(account: ChannelAccount) -> dict:
    """What the account page says of the connection: its state in words, when the access token
    expires, the last call the channel answered and the last it refused."""
    from django.utils import timezone

    now = timezone.now()
    expires_in_days = None
    if account.token_expires_at is not None:
        expires_in_days = max(0, (account.token_expires_at - now).days)
    if account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT:
        state = "needs_reconnect"
    elif account.token_expires_at is not None and account.token_expires_at <= now:
        state = "expired"
    elif expires_in_days is not None and expires_in_days < 7 and not account.credentials.get("refresh_token"):
        state = "expiring"  # the channel gives no refresh: the merchant reconnects before then
    else:
        state = "connected"
    return {
        "state": state,
        "token_expires_at": account.token_expires_at,
        "expires_in_days": expires_in_days,
        "refreshes": bool(account.credentials.get("refresh_token")),
        "last_success_at": account.last_success_at,
        "last_error": account.last_error,
        "last_error_at": account.last_error_at,
        "message": account.connection_message,
    }
