"""Where an order came from: the landing's parameters read into a source and a campaign, and
page views and checkout starts counted per shop, local day, source and campaign.

A buyer lands on a hosted product page or on Meta's checkout URL with the parameters the link
carried: our listings' `utm_source` (the account's channel code, channels/items.py),
`utm_medium`, `utm_campaign` (the account's name), Meta's `cart_origin` (facebook, instagram,
…) and `fbclid`. `landing_from_params` reads them into a `Landing`; the storefront counts the
view (`traffic_count`) and hands `Landing.as_attribution()` to the order it places
(`ChannelOrder.attribution`), which `order_import` stores as `Order.source`, `Order.campaign`
and `Order.landing`.

Nothing here sets a cookie or calls anyone: the counts are rows in our own database.

The source, in this order of precedence:

1. `cart_origin` (Meta's checkout URL says which of its apps the cart came from): facebook,
   instagram, messenger, whatsapp → that source; another value → meta.
2. `utm_source`, lower-cased: a channel code (`meta`, `tiktok_shop`, `pinterest`, `snapchat`,
   `google_merchant`, `checkout`) or one of the usual spellings of a network (`fb`,
   `facebook.com`, `ig`, `tiktok`, `google`, `wa`, …, see ALIASES) → that source. Any other
   value is kept as the source as given (lower-cased, only `a-z 0-9 . _ -`, at most 40
   characters): a merchant's own campaign links (`utm_source=newsletter`) get a row of their own.
3. `fbclid` alone → meta (a click on Facebook or Instagram that carried no other parameter).
4. Nothing → direct.

The campaign is `utm_campaign` (at most 200 characters), blank when there is none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

# The landing parameters kept with an order, verbatim but cut to a length.
PARAMS = ("cart_origin", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "fbclid")
PARAM_LENGTH = 500
SOURCE_LENGTH = 40
CAMPAIGN_LENGTH = 200

DIRECT = "direct"
META = "meta"

# The sources Shopadmin names itself: the channels, Meta's apps, chat, and direct.
KNOWN_SOURCES = (
    "meta",
    "facebook",
    "instagram",
    "messenger",
    "whatsapp",
    "tiktok_shop",
    "pinterest",
    "snapchat",
    "google_merchant",
    "checkout",
    DIRECT,
)

# Meta's cart_origin values (the app the cart was built in).
CART_ORIGINS = {"facebook": "facebook", "instagram": "instagram", "messenger": "messenger", "whatsapp": "whatsapp"}

# Usual spellings of a network in utm_source → our source.
ALIASES = {
    "fb": "facebook",
    "facebook.com": "facebook",
    "m.facebook.com": "facebook",
    "l.facebook.com": "facebook",
    "ig": "instagram",
    "instagram.com": "instagram",
    "l.instagram.com": "instagram",
    "wa": "whatsapp",
    "whatsapp.com": "whatsapp",
    "wa.me": "whatsapp",
    "fb_messenger": "messenger",
    "m.me": "messenger",
    "messenger.com": "messenger",
    "tiktok": "tiktok_shop",
    "tiktok.com": "tiktok_shop",
    "tiktokshop": "tiktok_shop",
    "pin": "pinterest",
    "pinterest.com": "pinterest",
    "snap": "snapchat",
    "snapchat.com": "snapchat",
    "google": "google_merchant",
    "google.com": "google_merchant",
    "google_shopping": "google_merchant",
    "googleshopping": "google_merchant",
    "shopping": "google_merchant",
}

_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def source_for_channel(channel: str) -> str:
    """The source of an order that came without attribution: its account's channel (an order of
    our own checkout without landing parameters is direct)."""
    from channels.models import INTERNAL_CHANNELS

    return DIRECT if not channel or channel in INTERNAL_CHANNELS else channel[:SOURCE_LENGTH]


def _clean(value) -> str:
    """A parameter as text: the first value of a list, without control characters, cut."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if value is None:
        return ""
    return _CONTROL.sub("", str(value)[: PARAM_LENGTH * 2]).strip()[:PARAM_LENGTH]


def _source_word(value: str) -> str:
    word = _UNSAFE.sub("_", value.lower()).strip("_.-")
    return word[:SOURCE_LENGTH]


def normalise_source(value: str) -> str:
    """A source as written somewhere (a utm_source, a CSV cell, an API field) → ours."""
    word = _source_word(value or "")
    if not word:
        return ""
    return ALIASES.get(word, word)


@dataclass(frozen=True)
class Landing:
    """What a landing says about where the buyer came from."""

    source: str
    campaign: str
    params: dict[str, str] = field(default_factory=dict)

    def as_attribution(self) -> dict:
        """For `ChannelOrder.attribution`: {"source", "campaign", "landing"}."""
        return {"source": self.source, "campaign": self.campaign, "landing": dict(self.params)}


def landing_from_params(params) -> Landing:
    """The landing of a request's query (a QueryDict) or any mapping of parameters.

    Never raises on what a link can carry: unknown, empty, repeated or overlong values are read
    as described in the module's docstring.
    """
    kept: dict[str, str] = {}
    if isinstance(params, Mapping) or hasattr(params, "get"):
        for name in PARAMS:
            try:
                value = params.get(name)
            except Exception:  # a foreign mapping that refuses a key is no landing
                value = None
            text = _clean(value)
            if text:
                kept[name] = text
    source = ""
    origin = kept.get("cart_origin", "")
    if origin:
        source = CART_ORIGINS.get(_source_word(origin), META)
    if not source and kept.get("utm_source"):
        source = normalise_source(kept["utm_source"])
    if not source and kept.get("fbclid"):
        source = META
    return Landing(source=source or DIRECT, campaign=kept.get("utm_campaign", "")[:CAMPAIGN_LENGTH], params=kept)


def attribution_fields(attribution, channel: str) -> tuple[str, str, dict]:
    """(source, campaign, landing) for an order from `ChannelOrder.attribution` (which may be
    empty, or hold anything an adapter put there) and its account's channel."""
    attribution = attribution if isinstance(attribution, dict) else {}
    source = normalise_source(_clean(attribution.get("source"))) or source_for_channel(channel)
    campaign = _clean(attribution.get("campaign"))[:CAMPAIGN_LENGTH]
    landing = attribution.get("landing")
    kept = {}
    if isinstance(landing, dict):
        for name in PARAMS:
            text = _clean(landing.get(name))
            if text:
                kept[name] = text
    return source, campaign, kept


KINDS = {"view": "page_views", "checkout": "checkout_starts"}


def traffic_count(*, landing: Landing, kind: str, day: dt.date | None = None) -> None:
    """Count one page view (`kind="view"`) or checkout start (`kind="checkout"`) of the current
    shop for the landing's source and campaign on `day` (default: today in the shop's time
    zone): one `INSERT … ON CONFLICT DO UPDATE` on orders.TrafficDaily (on PostgreSQL the shop's
    local day is computed in the same statement)."""
    from orders.models import TrafficDaily
    from shopadmin.models import Shop
    from shopadmin.tenancy import current_shop_id

    column = KINDS.get(kind)
    if column is None:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    shop_id = current_shop_id()
    source = normalise_source(landing.source) or DIRECT
    campaign = _clean(landing.campaign)[:CAMPAIGN_LENGTH]
    views, checkouts = (1, 0) if column == "page_views" else (0, 1)
    table, shops = TrafficDaily._meta.db_table, Shop._meta.db_table
    upsert = f"ON CONFLICT (shop_id, day, source, campaign) DO UPDATE SET {column} = {table}.{column} + 1"
    columns = f"INSERT INTO {table} (shop_id, day, source, campaign, page_views, checkout_starts)"
    if day is None and connection.vendor == "postgresql":
        # The shop's local day, read with the shop in the same statement.
        sql = (
            f"{columns} SELECT s.id, (now() AT TIME ZONE COALESCE(NULLIF(s.timezone, ''), 'UTC'))::date, "  # noqa: S608
            f"%s, %s, %s, %s FROM {shops} s WHERE s.id = %s {upsert}"
        )
        params = [source, campaign, views, checkouts, shop_id]
    else:
        if day is None:
            tz_name = Shop.objects.filter(pk=shop_id).values_list("timezone", flat=True).first()
            day = timezone.now().astimezone(ZoneInfo(tz_name or "UTC")).date()
        sql = f"{columns} VALUES (%s, %s, %s, %s, %s, %s) {upsert}"
        params = [shop_id, day, source, campaign, views, checkouts]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
