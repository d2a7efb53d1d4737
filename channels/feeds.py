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
from channels.adapters import adapter_class
from channels.adapters.google_merchant import NAMESPACE
from channels.items import BuiltItem, adapter_for_account, item_problems, iter_items
from channels.listings import listing_settings_for
from channels.models import ChannelAccount, ChannelListing, ListingRule
from channels.selectors import account_feed_formats, account_markets, feed_name
from localization.models import ExchangeRate, Market, MarketPrice, Translation

PRICE = re.compile(r"^\d+(\.\d{1,3})? [A-Z]{3}$")
FLUSH_ROWS = 500
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
}


@dataclass
class FeedSpec:
    kind: str  # "main", or one of the adapter's override_feeds ("country", "language")
    fmt: str
    market: dict
    name: str


def account_feed_specs(account: ChannelAccount) -> list[FeedSpec]:
    """Every feed the account serves: one main feed per market and format, and for Meta the
    localized override feeds (countries and languages beyond the first market)."""
    markets = account_markets(account)
    formats = account_feed_formats(account)
    specs = [FeedSpec("main", fmt, market, feed_name(account, market, fmt)) for market in markets for fmt in formats]
    if len(markets) > 1:
        for kind in adapter_class(account.channel).override_feeds:
            for fmt in formats:
                name = f"{account.channel}-overrides-{kind}.{fmt}"
                specs.append(FeedSpec(kind, fmt, markets[0], name))
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
    words = adapter.feed_availability_words
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
    if built.item.price is None:
        return {"id": built.item.id}
    return adapter.feed_row(adapter.build_payload(built.item))


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


def _override_rows(account: ChannelAccount, kind: str) -> Iterator[dict]:
    """One override feed (Meta: prices and availability per further country, texts per
    further language), one row per item and override, in the first market's item order."""
    adapter = adapter_for_account(account)
    markets = account_markets(account)
    seen = {adapter.override_key(kind, markets[0])}
    try:
        for market in markets[1:]:
            key = adapter.override_key(kind, market)
            if key in seen:
                continue
            seen.add(key)
            for built, _unused, problems in iter_rows(account, market):
                row = adapter.override_row(kind, built.item, problems)
                if row is not None:
                    yield {"id": built.item.id, "override": key, **row}
    finally:
        adapter.close()


def feed_stream(account: ChannelAccount, spec: FeedSpec) -> Iterator[str]:
    adapter = adapter_class(account.channel)
    if spec.kind == "main":
        rows, columns = _valid_rows(account, spec.market), list(adapter.feed_columns)
    else:
        rows, columns = _override_rows(account, spec.kind), list(adapter.override_feeds[spec.kind])
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
