"""Catalog feeds the channels fetch from `/feeds/<token>/<name>.<ext>`.

Rows come from the same item building and adapter payload builders as publishing, so a
feed and an API publish say the same thing. Each feed is written row by row from keyset
chunks of the catalog (constant memory), and every item is checked against the channel's
rules first: an item with problems is left out of the feed (one bad row must not make the
channel reject the file) and its problems are listed in the UI.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from catalog.models import Product, ProductMedia, ProductVariant, StockLevel
from channels.adapters.google_merchant import NAMESPACE
from channels.listings import (
    BuiltItem,
    adapter_for_account,
    item_problems,
    iter_items,
    listing_settings_for,
    payload_for,
)
from channels.models import ChannelAccount, ChannelListing, ListingRule
from channels.selectors import FEED_FORMATS, account_markets, feed_name
from localization.models import ExchangeRate, Market, MarketPrice, Translation

PRICE = re.compile(r"^\d+(\.\d{1,3})? [A-Z]{3}$")
CUSTOM_LABELS = [f"custom_label_{i}" for i in range(5)]
META_COLUMNS = [
    "id", "title", "description", "availability", "condition", "price", "sale_price", "sale_price_effective_date",
    "link", "image_link", "brand", "gtin", "mpn", "item_group_id", "google_product_category", "size", "color",
    "quantity_to_sell_on_fb", *CUSTOM_LABELS,
]  # fmt: skip
PINTEREST_COLUMNS = [
    "id", "title", "description", "link", "image_link", "price", "sale_price", "availability", "condition", "brand",
    "gtin", "mpn", "item_group_id", "google_product_category", "size", "color", *CUSTOM_LABELS,
]  # fmt: skip
GOOGLE_COLUMNS = [
    "id", "title", "description", "link", "image_link", "availability", "price", "sale_price",
    "sale_price_effective_date", "condition", "brand", "gtin", "mpn", "item_group_id", "google_product_category",
    "size", "color", *CUSTOM_LABELS,
]  # fmt: skip
AVAILABILITY_WORDS = {
    "meta": ("in stock", "out of stock", "preorder", "available for order", "discontinued"),
    "pinterest": ("in stock", "out of stock", "preorder"),
    "snapchat": ("in stock", "out of stock", "preorder", "available for order", "discontinued"),
    "google_merchant": ("in_stock", "out_of_stock", "preorder", "backorder"),
}
COUNTRY_OVERRIDE_COLUMNS = [
    "id",
    "override",
    "price",
    "sale_price",
    "sale_price_effective_date",
    "availability",
    "link",
]
LANGUAGE_OVERRIDE_COLUMNS = ["id", "override", "title", "description"]
FLUSH_ROWS = 500
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
}


@dataclass
class FeedSpec:
    kind: str  # "main" | "country_overrides" | "language_overrides"
    fmt: str
    market: dict
    name: str


def account_feed_specs(account: ChannelAccount) -> list[FeedSpec]:
    """Every feed the account serves: one main feed per market and format, and for Meta the
    localized override feeds (countries and languages beyond the first market)."""
    markets = account_markets(account)
    specs = [
        FeedSpec("main", fmt, market, feed_name(account, market, fmt))
        for market in markets
        for fmt in FEED_FORMATS.get(account.channel, ())
    ]
    if account.channel == "meta" and len(markets) > 1:
        for fmt in FEED_FORMATS["meta"]:
            specs.append(FeedSpec("country_overrides", fmt, markets[0], f"meta-overrides-country.{fmt}"))
            specs.append(FeedSpec("language_overrides", fmt, markets[0], f"meta-overrides-language.{fmt}"))
    return specs


def resolve_feed(account: ChannelAccount, name: str) -> FeedSpec | None:
    return next((spec for spec in account_feed_specs(account) if spec.name == name), None)


# --- Rows --------------------------------------------------------------------------------------


def feed_problems(adapter, built: BuiltItem, row: dict, pricing_problem: str = "") -> list[dict]:
    problems = item_problems(adapter, built, pricing_problem)
    if problems:
        return problems
    price = row.get("price", "")
    if price and not PRICE.match(str(price)):
        problems.append({"field": "price", "code": "invalid", "message": _("price must look like 9.99 USD.")})
    words = AVAILABILITY_WORDS.get(adapter.channel)
    if words and row.get("availability") not in words:
        problems.append(
            {
                "field": "availability",
                "code": "invalid",
                "message": _("availability must be one of: %s.") % ", ".join(words),
            }
        )
    return problems


def _row(adapter, built: BuiltItem) -> dict:
    payload = payload_for(adapter, built)
    if adapter.channel == "pinterest":
        attributes = dict(payload.get("attributes") or {})
        images = attributes.get("image_link") or [""]
        attributes["image_link"] = images[0]
        return {"id": payload.get("item_id", built.item.id), **attributes}
    return payload


def iter_rows(account: ChannelAccount, market: dict, *, chunk: int = 2000) -> Iterator[tuple[BuiltItem, dict, list]]:
    """(item, feed row, problems) for every selected variant in the market."""
    adapter = adapter_for_account(account, market)
    for built in iter_items(account, market, chunk=chunk):
        row = _row(adapter, built)
        yield built, row, feed_problems(adapter, built, row)


def feed_check(account: ChannelAccount, market: dict | None = None, *, limit: int = 500) -> dict:
    """The problems per item that keep items out of the feed (for the UI)."""
    market = market or account_markets(account)[0]
    problems, valid, total = [], 0, 0
    for built, _unused, item_problems_ in iter_rows(account, market):
        total += 1
        if item_problems_:
            if len(problems) < limit:
                problems.append({"id": built.item.id, "title": built.item.title, "problems": item_problems_})
        else:
            valid += 1
    return {"total": total, "valid": valid, "invalid": total - valid, "items": problems, "market": market}


# --- Writers ------------------------------------------------------------------------------------


class _Buffer(io.StringIO):
    def take(self) -> str:
        value = self.getvalue()
        self.seek(0)
        self.truncate()
        return value


def _delimited(columns: list[str], rows: Iterator[dict], delimiter: str) -> Iterator[str]:
    """Rows written by one csv writer into one reused buffer, flushed every FLUSH_ROWS rows."""
    buffer = _Buffer()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    write = writer.writerow
    tsv = delimiter == "\t"
    count = 0
    for row in rows:
        values = [row.get(name, "") for name in columns]
        if tsv:
            # TSV has no quoting convention channels agree on: keep each field on one line.
            values = [str(v).replace("\t", " ").replace("\n", " ").replace("\r", " ") for v in values]
        write(values)
        count += 1
        if count == FLUSH_ROWS:
            count = 0
            yield buffer.take()
    yield buffer.take()


def _rss(account: ChannelAccount, columns: list[str], rows: Iterator[dict]) -> Iterator[str]:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{NAMESPACE}">\n<channel>\n'
        f"<title>{escape(account.shop.name)} — {escape(account.name)}</title>\n"
        f"<link>{escape(listing_settings_for(account).storefront_url or '')}</link>\n"
        f"<description>{escape(account.get_channel_display())} catalog</description>\n"
    )
    parts = [head]
    for count, row in enumerate(rows, start=1):
        fields = "".join(
            f"<g:{name}>{escape(str(row[name]))}</g:{name}>" for name in columns if row.get(name) not in (None, "")
        )
        parts.append(f"<item>{fields}</item>\n")
        if count % FLUSH_ROWS == 0:
            yield "".join(parts)
            parts = []
    parts.append("</channel>\n</rss>\n")
    yield "".join(parts)


def _valid_rows(account: ChannelAccount, market: dict) -> Iterator[dict]:
    for _built, row, problems in iter_rows(account, market):
        if not problems:
            yield row


def _country_override_rows(account: ChannelAccount) -> Iterator[dict]:
    """Meta's country overrides: price (with sale price and window), availability and link
    in each further country, from that market's stored prices."""
    adapter = adapter_for_account(account)
    markets = account_markets(account)
    seen = {markets[0]["country"].upper()}
    for market in markets[1:]:
        country = market["country"].upper()
        if country in seen:
            continue
        seen.add(country)
        for built, _unused, problems in iter_rows(account, market):
            if not problems:
                yield {"id": built.item.id, "override": country, **adapter.country_override(built.item)}
    adapter.close()


def _language_override_rows(account: ChannelAccount) -> Iterator[dict]:
    """Meta's language overrides (`fr_XX`): title and description translated into each further
    language, along localization's fallback chain (fr-CA → fr → shop language → catalog)."""
    from channels.adapters.meta import language_override_key

    markets = account_markets(account)
    primary = language_override_key(markets[0]["language"])
    seen = {primary}
    adapter = adapter_for_account(account)
    for market in markets[1:]:
        key = language_override_key(market["language"])
        if key in seen:
            continue
        seen.add(key)
        # Texts do not depend on the market's prices: only the text rules decide.
        for built in iter_items(account, market):
            item = built.item
            if item.title and len(item.title) <= 200 and len(item.description) <= 9999:
                yield {"id": item.id, "override": key, **adapter.language_override(item)}
    adapter.close()


def feed_stream(account: ChannelAccount, spec: FeedSpec) -> Iterator[str]:
    channel = account.channel
    if spec.kind == "country_overrides":
        rows, columns = _country_override_rows(account), COUNTRY_OVERRIDE_COLUMNS
    elif spec.kind == "language_overrides":
        rows, columns = _language_override_rows(account), LANGUAGE_OVERRIDE_COLUMNS
    else:
        rows = _valid_rows(account, spec.market)
        if channel == "meta":
            columns = META_COLUMNS
        elif channel == "pinterest":
            columns = PINTEREST_COLUMNS
        elif channel == "snapchat":
            from channels.adapters.snapchat import FEED_FIELDS

            columns = list(FEED_FIELDS)
        else:
            columns = GOOGLE_COLUMNS
    if spec.fmt == "xml":
        return _rss(account, columns, rows)
    return _delimited(columns, rows, "\t" if spec.fmt == "tsv" else ",")


# --- Freshness -------------------------------------------------------------------------------------


def feed_fingerprint(account: ChannelAccount, spec: FeedSpec):
    """(etag, last_modified) from what the feed is made of, without building it: the newest
    change and the row counts of every input (a deletion lowers a count)."""
    parts = []
    newest = [account.updated_at]
    for queryset, field in (
        (Product.objects.all(), "updated_at"),
        (ProductVariant.objects.all(), "updated_at"),
        (StockLevel.objects.all(), "updated_at"),
        (ChannelListing.objects.filter(account=account), "updated_at"),
        (ListingRule.objects.filter(account=account), "created_at"),
        (Market.objects.all(), "updated_at"),
        (ExchangeRate.objects.all(), "created_at"),
        (MarketPrice.objects.all(), "computed_at"),
        (Translation.objects.all(), "updated_at"),
    ):
        aggregate = queryset.aggregate(latest=Max(field), count=Count("pk"))
        parts.append(f"{aggregate['count']}:{aggregate['latest']}")
        if aggregate["latest"]:
            newest.append(aggregate["latest"])
    media = ProductMedia.objects.aggregate(count=Count("pk"), top=Max("pk"))
    settings_ = listing_settings_for(account)
    newest.append(settings_.updated_at)
    parts += [str(media), str(settings_.updated_at), account.feed_token, spec.name, account.name]
    etag = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return etag, max(n for n in newest if n)
