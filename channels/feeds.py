"""Catalog feeds the channels fetch from `/feeds/<token>/<name>.<ext>`.

A feed says what an API publish says: the item building and the adapter's payload builders
and checks decide every row. Every item is checked against the channel's rules first: an item
with problems is left out of the feed (one bad row must not make the channel reject the file)
and its problems are listed in the UI.

Two writers: `plain_feed_stream` builds each item and its payload (keyset chunks, constant
memory); the main feeds are written by PostgreSQL in one streamed statement (`_sql_feed`,
within twice the time of a plain `COPY` of the same rows), with what the adapter does learnt
from the adapter (`feed_shape`). Both give the same bytes (channels/tests/test_feed_exactness.py).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import connections, transaction
from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product, ProductMedia, ProductVariant, StockLevel
from channels.adapters import adapter_class
from channels.adapters.base import MAX_CUSTOM_LABELS, MINOR_UNITS, Availability, ChannelItem, format_price
from channels.adapters.google_merchant import NAMESPACE
from channels.items import (
    OPEN_END,
    OPEN_START,
    BuiltItem,
    adapter_for_account,
    item_problems,
    iter_items,
    market_context,
    media_url,
)
from channels.links import listing_home_url, listing_link_format
from channels.listings import listing_settings_for, selected_variants
from channels.models import ChannelAccount, ChannelListing, ListingRule
from channels.selectors import account_feed_formats, account_markets, feed_name
from localization.models import ExchangeRate, Market, MarketPrice, Translation

PRICE = re.compile(r"^\d+(\.\d{1,3})? [A-Z]{3}$")
FLUSH_ROWS = 500
FLUSH_BYTES = 1 << 16
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


def _rss_head(account: ChannelAccount) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{NAMESPACE}">\n<channel>\n'
        f"<title>{escape(account.shop.name)} — {escape(account.name)}</title>\n"
        f"<link>{escape(listing_home_url(account))}</link>\n"
        f"<description>{escape(account.get_channel_display())} catalog</description>\n"
    )


RSS_TAIL = "</channel>\n</rss>\n"


def _rss(account: ChannelAccount, columns: list[str], rows: Iterator[dict]) -> Iterator[str]:
    parts = [_rss_head(account)]
    for count, row in enumerate(rows, start=1):
        fields = "".join(
            f"<g:{name}>{escape(str(row[name]))}</g:{name}>" for name in columns if row.get(name) not in (None, "")
        )
        parts.append(f"<item>{fields}</item>\n")
        if count % FLUSH_ROWS == 0:
            yield "".join(parts)
            parts = []
    parts.append(RSS_TAIL)
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


def plain_feed_stream(account: ChannelAccount, spec: FeedSpec) -> Iterator[str]:
    """The feed built item by item through the adapter: the reference the SQL feed matches,
    and the path for whatever the SQL feed cannot write exactly."""
    adapter = adapter_class(account.channel)
    if spec.kind == "main":
        rows, columns = _valid_rows(account, spec.market), list(adapter.feed_columns)
    else:
        rows, columns = _override_rows(account, spec.kind), list(adapter.override_feeds[spec.kind])
    if spec.fmt == "xml":
        return _rss(account, columns, rows)
    return _delimited(columns, rows, "\t" if spec.fmt == "tsv" else ",")


def feed_stream(account: ChannelAccount, spec: FeedSpec) -> Iterator[str]:
    """The feed's text in pieces; it reads the database as it goes (the view runs each step in
    the shop's context)."""
    media_prefix = sql_feed_supported(account, spec)
    if media_prefix is None:
        yield from plain_feed_stream(account, spec)
    else:
        yield from _sql_feed(account, spec, feed_shape(adapter_class(account.channel)), media_prefix)


# --- Rows in SQL ---------------------------------------------------------------------------------
#
# A main feed is one PostgreSQL statement, streamed as it runs: the rows shaped as the channel's
# columns, each value escaped once (by COPY's CSV writer, or in SQL for RSS), no object per row.
# What each column holds and which items the channel refuses is learnt from the adapter itself,
# by asking its payload builder and its checks about probe items: the channel's knowledge stays
# in its adapter. A feed whose columns or images cannot be written exactly this way is built by
# plain_feed_stream, the reference every SQL feed matches byte for byte (channels/tests).

# ChannelItem fields a column may carry as they are.
_CARRIED = (
    "id", "title", "description", "link", "image_link", "condition", "brand", "gtin", "mpn", "item_group_id",
    "google_product_category", "size", "color",
)  # fmt: skip
# Image file names that every storage URL writes as they are (no quoting, no dot segments).
_PLAIN_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$"
_PRESENCES = tuple(itertools.product((True, False), repeat=3))  # (gtin, brand, mpn) given
# The ChannelItem fields an adapter's required_fields and max_lengths may name, in the rows below.
_ITEM_FIELDS = {
    "id": "r.id",
    "title": "r.title",
    "description": "r.description",
    "link": "r.link",
    "image_link": "r.image_link",
    "price": "r.price_text",
    "brand": "r.brand",
    "gtin": "r.gtin",
    "mpn": "r.mpn",
    "item_group_id": "r.item_group_id",
    "condition": "r.condition",
}


@dataclass(frozen=True)
class FeedShape:
    """What a channel's main feed says about an item, learnt from its adapter."""

    columns: tuple[tuple[str, str], ...]  # (column, what it carries: a ChannelItem field or a derived value)
    words: tuple[str, str]  # availability in stock, out of stock, as the channel spells it
    words_taken: tuple[bool, bool]  # the feed accepts that spelling (feed_availability_words)
    conditions: tuple[str, ...] | None  # the catalog conditions the channel takes (None: any)
    identifiers: frozenset  # the (gtin, brand, mpn) presences the channel takes
    identifier_words: tuple[tuple[tuple[bool, bool, bool], str], ...]  # identifier column per presence
    gtin_lengths: tuple[int, ...] | None  # digits-only GTIN lengths taken (None: any GTIN)
    label_max: int | None  # the longest custom label taken (None: any)
    group_max: int | None  # item_group_id longer than this is cut and hashed (None: as it is)


def _probe(**changes) -> ChannelItem:
    values = {
        "id": "probe-id",
        "title": "probe-title",
        "description": "probe-description",
        "link": "https://probe.invalid/link",
        "image_link": "https://probe.invalid/image.jpg",
        "price": Decimal("12.34"),
        "currency": "USD",
        "condition": "new",
        "brand": "probe-brand",
        "gtin": "4006381333931",
        "mpn": "probe-mpn",
        "item_group_id": "probe-group",
        "quantity": 7,
        "google_product_category": "probe-category",
        "size": "probe-size",
        "color": "probe-color",
        "sale_price": Decimal("10.00"),
        "sale_price_effective_date": f"{OPEN_START}/{OPEN_END}",
        "custom_labels": [f"probe-label-{i}" for i in range(MAX_CUSTOM_LABELS)],
    }
    values.update(changes)
    return ChannelItem(**values)


@functools.cache
def feed_shape(adapter_cls) -> FeedShape | None:
    """The adapter's main feed as SQL can write it, or None when a column is not understood."""
    adapter = adapter_cls()

    def row(**changes) -> dict[str, str]:
        values = adapter.feed_row(adapter.build_payload(_probe(**changes)))
        return {name: "" if values.get(name) is None else str(values.get(name)) for name in adapter.feed_columns}

    def takes(**changes) -> bool:
        return not adapter.validate_item(_probe(**changes))

    base = _probe()
    if not takes() or any(
        name not in _ITEM_FIELDS for name in (*adapter_cls.required_fields, *adapter_cls.max_lengths)
    ):
        return None
    first, out_of_stock = row(), row(availability=Availability.OUT_OF_STOCK)
    presences = {p: row(**_presence(base, p)) for p in _PRESENCES}
    long_group = "probe-group-" + "g" * 88
    grouped = row(item_group_id=long_group)
    carried = {str(getattr(base, name)): name for name in _CARRIED}
    carried[str(base.quantity)] = "quantity"
    carried[format_price(base.price, base.currency)] = "price"
    carried[format_price(base.sale_price, base.currency)] = "sale_price"
    carried[base.sale_price_effective_date] = "sale_window"
    carried.update({label: f"label_{i}" for i, label in enumerate(base.custom_labels)})
    columns, words, identifier_words, group_max = [], None, (), None
    for name in adapter.feed_columns:
        value = first[name]
        if value != out_of_stock[name]:
            columns.append((name, "availability"))
            words = (value, out_of_stock[name])
        elif value in carried:
            kind = carried[value]
            if kind == "item_group_id" and grouped[name] != long_group:
                group_max = len(grouped[name])
                if grouped[name] != _cut_group(long_group, group_max):
                    return None
            columns.append((name, kind))
        elif len({values[name] for values in presences.values()}) > 1:
            columns.append((name, "identifier_word"))
            identifier_words = tuple((p, values[name]) for p, values in presences.items())
        elif value == "" and out_of_stock[name] == "" and grouped[name] == "":
            columns.append((name, "empty"))
        else:
            return None
    if words is None:
        return None
    conditions = None
    if not takes(condition="probe-condition"):
        conditions = tuple(c for c in Product.Condition.values if takes(condition=c))
    gtin_lengths = None
    if not takes(gtin="probe-gtin"):
        gtin_lengths = tuple(n for n in range(1, 15) if takes(gtin="4" * n))
    label_max = None
    if not takes(custom_labels=["x" * 4000]):
        low, high = 0, 4000  # taken, refused
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if takes(custom_labels=["x" * middle]) else (low, middle)
        label_max = low
    taken = adapter.feed_availability_words
    return FeedShape(
        columns=tuple(columns),
        words=words,
        words_taken=(not taken or words[0] in taken, not taken or words[1] in taken),
        conditions=conditions,
        identifiers=frozenset(p for p in _PRESENCES if takes(**_presence(base, p))),
        identifier_words=identifier_words,
        gtin_lengths=gtin_lengths,
        label_max=label_max,
        group_max=group_max,
    )


def _presence(base: ChannelItem, presence: tuple[bool, bool, bool]) -> dict:
    gtin, brand, mpn = presence
    return {"gtin": base.gtin if gtin else "", "brand": base.brand if brand else "", "mpn": base.mpn if mpn else ""}


def _cut_group(value: str, limit: int) -> str:
    """A group id cut to `limit` with a hash of the whole, the way a channel with a short limit
    keeps variants together (google_item_group_id)."""
    return f"{value[: limit - 9]}-{hashlib.sha256(value.encode()).hexdigest()[:8]}"


def _media_prefix() -> str | None:
    """What the storage puts before a plain file name to make its URL (None: URLs it signs or
    otherwise rewrites, which only the storage can make)."""
    names = ("probe/a.jpg", "probe-2/b_c-d.jpeg")
    urls = [media_url(name) for name in names]
    prefix = urls[0][: -len(names[0])]
    return prefix if all(url == prefix + name for url, name in zip(urls, names, strict=True)) else None


def _text(value) -> str:
    """A value as an SQL literal, quoted by the database driver."""
    return connections[ProductVariant.objects.db].ops.compose_sql("%s", [value])


def _options_sql() -> tuple[str, str]:
    """(size, colour) of a variant as _Builder.build reads option_values: the last key whose
    lower case is "size", the first "color"/"colour" with a value, each as str() writes it.

    A variant whose keys are all option names of the catalog (nearly all) takes a few key
    lookups, in jsonb's own key order (shorter first, then by bytes); any other walks its keys."""
    from catalog.models import ProductOption

    names = sorted(
        set(ProductOption.objects.values_list("name", flat=True).distinct()),
        key=lambda name: (len(name.encode()), name.encode()),
    )
    known = f"(v.option_values - {_text(names)}::text[]) = '{{}}'::jsonb"

    def value(item: str) -> str:
        return (
            f"CASE jsonb_typeof({item}) WHEN 'string' THEN {item} #>> '{{}}' WHEN 'null' THEN 'None' "
            f"WHEN 'boolean' THEN CASE WHEN {item} = 'true'::jsonb THEN 'True' ELSE 'False' END ELSE {item}::text END"
        )

    def walked(key: str, last: bool) -> str:
        # Only ASCII letters lower-case to these words in Python, so a key matches in any case
        # spelling of them, letter by letter.
        item = value("o.value")
        order, having = ("o.n DESC", "") if last else ("o.n", f" AND {item} <> ''")
        return (
            f"(SELECT {item} FROM jsonb_each(CASE WHEN jsonb_typeof(v.option_values) = 'object' "  # noqa: S608
            f"THEN v.option_values ELSE '{{}}'::jsonb END) WITH ORDINALITY o(key, value, n) "
            f"WHERE o.key ~ '^{key}$'{having} ORDER BY {order} LIMIT 1)"
        )

    sizes = [value(f"(v.option_values -> {_text(n)})") for n in reversed(names) if n.lower() == "size"]
    colors = [
        f"NULLIF({value(f'(v.option_values -> {_text(n)})')}, '')" for n in names if n.lower() in ("color", "colour")
    ]
    size = f"COALESCE({', '.join(sizes)})" if sizes else "NULL"
    color = f"COALESCE({', '.join(colors)})" if colors else "NULL"
    walked_size, walked_color = walked("[Ss][Ii][Zz][Ee]", last=True), walked("[Cc][Oo][Ll][Oo]([Uu])?[Rr]", last=False)
    return (
        f"COALESCE(CASE WHEN {known} THEN {size} ELSE {walked_size} END, '')",
        f"COALESCE(CASE WHEN {known} THEN {color} ELSE {walked_color} END, '')",
    )


def _exponent_sql(currency: str) -> str:
    """The minor-unit exponent of a stored price's currency, as to_minor_units takes it; the
    market's own currency first (nearly every row), then every currency whose exponent is not 2."""
    from babel.numbers import list_currencies

    from localization.money import minor_units

    others = sorted(code for code in list_currencies() if code != currency and minor_units(code) != 2)
    cases = " ".join(f"WHEN {_text(code)} THEN {minor_units(code)}" for code in [currency, *others])
    return f"CASE mp.currency {cases} ELSE 2 END"


def _prices_sql(sale_prices: str, now: str) -> tuple[str, str, str]:
    """(regular price, sale price, sale window) of a stored price, as channel_prices takes them."""
    sale = f"(sale_amount IS NOT NULL AND (sale_ends_at IS NULL OR sale_ends_at > {now}))"
    running = f"(sale_starts_at IS NULL OR sale_starts_at <= {now})"
    struck = "compare_at_amount > amount"
    if sale_prices == "with_dates":
        regular = f"CASE WHEN {sale} THEN amount WHEN {struck} THEN compare_at_amount ELSE amount END"
        reduced = f"CASE WHEN {sale} THEN sale_amount WHEN {struck} THEN amount END"
        moment = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') || '+0000'"
        window = (
            f"CASE WHEN {sale} AND (sale_starts_at IS NOT NULL OR sale_ends_at IS NOT NULL) THEN "
            f"COALESCE({moment.format('sale_starts_at')}, {_text(OPEN_START)}) || '/' || "
            f"COALESCE({moment.format('sale_ends_at')}, {_text(OPEN_END)}) ELSE '' END"
        )
        return regular, reduced, window
    if sale_prices:
        regular = f"CASE WHEN {sale} AND {running} THEN amount WHEN {struck} THEN compare_at_amount ELSE amount END"
        reduced = f"CASE WHEN {sale} AND {running} THEN sale_amount WHEN {struck} THEN amount END"
        return regular, reduced, "''"
    return f"CASE WHEN {sale} AND {running} THEN sale_amount ELSE amount END", "NULL::numeric", "''"


def _column_sql(kind: str, shape: FeedShape) -> str:
    """One column's value (text, '' when empty) from the priced row `r`."""
    if kind in _CARRIED and kind != "item_group_id":
        return f"r.{kind}"
    if kind == "item_group_id":
        if shape.group_max is None:
            return "r.item_group_id"
        cut = shape.group_max - 9
        return (
            f"CASE WHEN char_length(r.item_group_id) <= {shape.group_max} THEN r.item_group_id "
            f"ELSE left(r.item_group_id, {cut}) || '-' || "
            f"left(encode(sha256(convert_to(r.item_group_id, 'UTF8')), 'hex'), 8) END"
        )
    if kind == "quantity":
        return "r.quantity::text"
    if kind.startswith("label_"):
        return f"COALESCE(r.labels ->> {int(kind.removeprefix('label_'))}, '')"
    if kind == "price":
        return "r.price_text"
    if kind == "sale_price":
        return "COALESCE(r.sale_text, '')"
    if kind == "sale_window":
        return "CASE WHEN r.sale_text IS NOT NULL THEN r.sale_window ELSE '' END"
    if kind == "availability":
        return f"CASE WHEN r.quantity > 0 THEN {_text(shape.words[0])} ELSE {_text(shape.words[1])} END"
    if kind == "identifier_word":
        cases = " ".join(
            f"WHEN (r.gtin <> '', r.brand <> '', r.mpn <> '') = ({g}, {b}, {m}) THEN {_text(word)}"
            for (g, b, m), word in shape.identifier_words
        )
        return f"CASE {cases} ELSE '' END"
    return "''"


def _valid_sql(adapter_cls, shape: FeedShape) -> str:
    """The channel's checks of an item (item_problems, feed_problems) as one condition."""
    checks = ["r.price_r IS NOT NULL", "r.price_r >= 0", "(r.sale_r IS NULL OR r.sale_r <= r.price_r)", "r.link <> ''"]
    for name in adapter_cls.required_fields:
        checks.append(f"{_ITEM_FIELDS[name]} <> ''")
    for name, limit in adapter_cls.max_lengths.items():
        checks.append(f"char_length({_ITEM_FIELDS[name]}) <= {int(limit)}")
    in_stock, out_of_stock = shape.words_taken
    if not (in_stock and out_of_stock):
        checks.append("r.quantity > 0" if in_stock else ("r.quantity <= 0" if out_of_stock else "false"))
    if shape.conditions is not None:
        checks.append(f"r.condition IN ({', '.join(_text(c) for c in shape.conditions) or 'NULL'})")
    if len(shape.identifiers) < len(_PRESENCES):
        taken = ", ".join(f"({g}, {b}, {m})" for g, b, m in shape.identifiers) or "(NULL, NULL, NULL)"
        checks.append(f"(r.gtin <> '', r.brand <> '', r.mpn <> '') IN ({taken})")
    if shape.gtin_lengths is not None:
        lengths = ", ".join(str(n) for n in shape.gtin_lengths) or "NULL"
        checks.append(f"(r.gtin = '' OR (r.gtin ~ '^[0-9]+$' AND char_length(r.gtin) IN ({lengths})))")
    if shape.label_max is not None:
        checks.append(
            "NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.labels) = 'array' "  # noqa: S608
            "THEN r.labels ELSE '[]'::jsonb END) WITH ORDINALITY l(label, n) "
            f"WHERE l.n <= {MAX_CUSTOM_LABELS} AND char_length(l.label) > {shape.label_max})"
        )
    return " AND ".join(checks)


# Values made of digits, ASCII letters, spaces and `.:/+-`: XML leaves them as they are.
_PLAIN_KINDS = ("price", "sale_price", "sale_window", "quantity", "empty")
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9 .:/+_-]*")


def _plain(kind: str, shape: FeedShape) -> bool:
    if kind == "availability":
        return all(_PLAIN_TEXT.fullmatch(word) for word in shape.words)
    if kind == "identifier_word":
        return all(_PLAIN_TEXT.fullmatch(word) for _presence, word in shape.identifier_words)
    return kind in _PLAIN_KINDS


def _render_sql(fmt: str, shape: FeedShape, rows: str) -> str:
    """The statement that writes the lines of `rows` (vid, c0…cN), each value escaped once as
    the writers above do: PostgreSQL's own CSV writer for CSV and TSV (COPY), the RSS elements
    in SQL."""
    columns = [(name, f"r.c{i}", _plain(kind, shape)) for i, (name, kind) in enumerate(shape.columns)]
    if fmt == "xml":
        fields = " || ".join(
            f"CASE WHEN {value} <> '' THEN '<g:{name}>' || "
            + (value if plain else f"replace(replace(replace({value}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')")
            + f" || '</g:{name}>' ELSE '' END"
            for name, value, plain in columns
        )
        return f"SELECT '<item>' || {fields} || '</item>' || chr(10) FROM ({rows}) r ORDER BY r.vid"  # noqa: S608
    if fmt == "tsv":
        # TSV keeps each field on one line (see _delimited); only a quote needs quoting then.
        values = [
            value if plain else f"translate({value}, chr(9) || chr(10) || chr(13), '   ')"
            for _n, value, plain in columns
        ]
        delimiter = "E'\\t'"
    else:
        values, delimiter = [value for _n, value, _plain in columns], "','"
    # An empty value is NULL, which COPY writes unquoted, as the csv module writes "".
    fields = ", ".join(f"NULLIF({value}, '')" for value in values)
    copied = f"SELECT {fields} FROM ({rows}) r ORDER BY r.vid"  # noqa: S608 — built above from our own SQL
    return f"COPY ({copied}) TO STDOUT WITH (FORMAT csv, DELIMITER {delimiter})"


def _feed_query(account: ChannelAccount, spec: FeedSpec, shape: FeedShape, media_prefix: str) -> str:
    """The query of one main feed's rows (vid, c0…cN) for the selected variants `__VARIANTS__`
    (filled in by the caller); "" when no item can be valid (no market, or a currency whose
    prices cannot match PRICE). Every item has a link: the merchant's storefront page, or the
    shop's hosted one."""
    from catalog.models import Category, Location
    from localization.models import TranslationKind
    from localization.translations import language_chain

    adapter = adapter_class(account.channel)
    context = market_context(account, spec.market)
    link = listing_link_format(account, listing_settings_for(account).storefront_url)
    currency = context.currency.upper()
    exponent = MINOR_UNITS.get(currency, 2)
    if context.market_id is None or not re.fullmatch("[A-Z]{3}", currency) or exponent > 3:
        return ""  # every item lacks a price, or a price matching PRICE
    default_language = account.shop.default_language
    languages = language_chain(context.language, default_language)
    regular, reduced, window = _prices_sql(adapter.sale_prices, _text(timezone.now()))
    stored_exponent = _exponent_sql(currency)
    active_locations = _text(list(Location.objects.filter(is_active=True).values_list("id", flat=True)))
    size, color = _options_sql()
    # The side rows of a variant are read by their foreign key alone, other conditions in FILTER:
    # under row-level security the planner's estimates are poor, and an index on another column
    # (the account's listings, a language's translations) would be scanned once per row.
    if Translation.objects.filter(
        kind=TranslationKind.PRODUCT, field__in=("title", "description"), language__in=languages
    ).exists():
        chain = _text(languages)
        ranked = f"ORDER BY array_position({chain}, t.language)"
        wanted = f"t.kind = 'product' AND t.language = ANY({chain}) AND t.value <> ''"
        texts = f"""LEFT JOIN LATERAL (
          SELECT (array_agg(t.value {ranked}) FILTER (WHERE {wanted} AND t.field = 'title'))[1] AS title,
                 (array_agg(t.language {ranked}) FILTER (WHERE {wanted} AND t.field = 'title'))[1] AS title_language,
                 (array_agg(t.value {ranked}) FILTER (WHERE {wanted} AND t.field = 'description'))[1] AS description,
                 (array_agg(t.language {ranked}) FILTER (WHERE {wanted} AND t.field = 'description'))[1]
                   AS description_language
          FROM {Translation._meta.db_table} t WHERE t.product_id = v.product_id
        ) t ON true"""  # noqa: S608 — table names are ours, values are quoted by the driver

        def text(field: str) -> str:
            # _Builder._text: a translation in the market's language wins, else the listing's
            # override, a translation in the shop's language, the catalog's text.
            return (
                f"CASE WHEN t.{field}_language <> {_text(default_language)} THEN t.{field} "
                f"ELSE COALESCE(NULLIF(l.{field}_override, ''), t.{field}, v.f_{field}) END"
            )

    else:
        texts = ""

        def text(field: str) -> str:
            return f"COALESCE(NULLIF(l.{field}_override, ''), v.f_{field})"

    listed = ChannelListing.objects.filter(account=account)
    if listed.exclude(title_override="", description_override="", category_override="", custom_labels=[]).exists():
        mine = f"FILTER (WHERE l.account_id = {int(account.pk)})"
        listing = f"""LEFT JOIN LATERAL (
          SELECT (array_agg(l.title_override) {mine})[1] AS title_override,
                 (array_agg(l.description_override) {mine})[1] AS description_override,
                 (array_agg(l.category_override) {mine})[1] AS category_override,
                 (array_agg(l.custom_labels) {mine})[1] AS custom_labels
          FROM {ChannelListing._meta.db_table} l WHERE l.variant_id = v.id
        ) l ON true"""  # noqa: S608 — table names are ours
    else:  # no listing of the account changes a text or carries labels
        listing = (
            "LEFT JOIN LATERAL (SELECT NULL::text AS title_override, NULL::text AS description_override, "
            "NULL::text AS category_override, NULL::jsonb AS custom_labels) l ON true"
        )

    category = f"(SELECT c.google_product_category FROM {Category._meta.db_table} c WHERE c.id = v.f_category)"  # noqa: S608
    values = ", ".join(f"{_column_sql(kind, shape)} AS c{i}" for i, (_name, kind) in enumerate(shape.columns))
    # The first OFFSET 0 keeps each value computed once: the checks and the columns read the
    # values, not their expressions again.
    return f"""
    WITH i AS (
      SELECT v.id AS vid, v.sku AS id, v.gtin, v.mpn, v.f_brand AS brand, v.f_condition AS condition,
             left(v.f_handle, 100) AS item_group_id,
             {text("title")} AS title,
             COALESCE(NULLIF({text("description")}, ''), v.f_title) AS description,
             {_text(link.before)} || v.f_handle || {_text(link.between)} || v.id || {_text(link.after)} AS link,
             COALESCE(img.src, '') AS image_link,
             COALESCE(NULLIF(l.category_override, ''), NULLIF({category}, 0)::text, '') AS google_product_category,
             {size} AS size, {color} AS color,
             COALESCE(l.custom_labels, '[]'::jsonb) AS labels,
             GREATEST(0, COALESCE(st.quantity, 0)) AS quantity,
             round({regular}, {stored_exponent}) AS price_r, round({reduced}, {stored_exponent}) AS sale_r,
             {window} AS sale_window
      FROM (__VARIANTS__) v
      {listing}
      LEFT JOIN {MarketPrice._meta.db_table} mp ON mp.market_id = {int(context.market_id)} AND mp.variant_id = v.id
      {texts}
      LEFT JOIN LATERAL (
        SELECT m.src FROM (
          SELECT m.variant_id, m.position, m.id,
                 CASE WHEN m.url <> '' THEN m.url WHEN m.image <> '' THEN {_text(media_prefix)} || m.image
                      ELSE '' END AS src
          FROM {ProductMedia._meta.db_table} m WHERE m.product_id = v.product_id
        ) m WHERE m.src <> '' ORDER BY (m.variant_id = v.id) IS TRUE DESC, m.position, m.id LIMIT 1
      ) img ON true
      LEFT JOIN LATERAL (
        SELECT SUM(s.on_hand - s.allocated) FILTER (WHERE s.location_id = ANY({active_locations})) AS quantity
        FROM {StockLevel._meta.db_table} s WHERE s.variant_id = v.id
      ) st ON true
      OFFSET 0
    ),
    r AS (
      SELECT i.*, round(price_r, {exponent})::text || ' {currency}' AS price_text,
             round(sale_r, {exponent})::text || ' {currency}' AS sale_text
      FROM i
    )
    SELECT r.vid, {values} FROM r WHERE {_valid_sql(adapter, shape)} OFFSET 0
    """  # noqa: S608 — table names are ours, values are quoted by the driver


_PRODUCT_FIELDS = ("title", "description", "brand", "condition", "handle", "category")


def _sql_feed(account: ChannelAccount, spec: FeedSpec, shape: FeedShape, media_prefix: str) -> Iterator[str]:
    """The main feed written by PostgreSQL in one statement, streamed as it comes."""
    columns = [name for name, _kind in shape.columns]
    if spec.fmt == "xml":
        head, tail = _rss_head(account), RSS_TAIL
    else:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter="\t" if spec.fmt == "tsv" else ",", lineterminator="\n").writerow(columns)
        head, tail = buffer.getvalue(), ""
    rows = _feed_query(account, spec, shape, media_prefix)
    yield head
    if rows:
        # The selection (active products, the account's rules) as Django writes it, with the
        # variant's and its product's own fields: the rows are built on it.
        variants = (
            selected_variants(account)
            .order_by()
            .annotate(**{f"f_{name}": F(f"product__{name}") for name in _PRODUCT_FIELDS})
            .values("id", "sku", "gtin", "mpn", "option_values", "product_id", *(f"f_{n}" for n in _PRODUCT_FIELDS))
        )
        statement = _render_sql(spec.fmt, shape, rows.replace("__VARIANTS__", _compose(variants.query)))
        if spec.fmt == "xml":
            yield from _fetched(statement)
        else:
            for lines in _copied(statement):
                yield _rewritten(lines) if spec.fmt == "csv" and "\r" in lines else lines
    yield tail


def _compose(query) -> str:
    sql, params = query.sql_with_params()
    return connections[ProductVariant.objects.db].ops.compose_sql(sql, params)


def _copied(statement: str) -> Iterator[str]:
    """The output of a COPY … TO STDOUT in pieces of whole lines."""
    connection = connections[ProductVariant.objects.db]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Through Django first: its execute wrapper sets this transaction's row-level security
        # variables (shopadmin.db.rls), which the COPY below, run on the driver's cursor, reads.
        cursor.execute("SELECT 1")
        with cursor.cursor.copy(statement) as copy:
            parts, size = [], 0
            for row in copy:  # one message per line
                parts.append(row)
                size += len(row)
                if size >= FLUSH_BYTES:
                    yield b"".join(parts).decode()
                    parts, size = [], 0
            yield b"".join(parts).decode()


def _fetched(statement: str) -> Iterator[str]:
    """The lines a query returns, FLUSH_ROWS at a time from a server-side cursor."""
    connection = connections[ProductVariant.objects.db]
    with transaction.atomic(using=connection.alias):
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(statement)
            while rows := cursor.fetchmany(FLUSH_ROWS):
                yield "".join(line for (line,) in rows)
        finally:
            cursor.close()


def _rewritten(lines: str) -> str:
    """CSV lines with a carriage return in a value: PostgreSQL quotes such a value, the csv
    module does not; written again by the csv module."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(csv.reader(io.StringIO(lines, newline="")))
    return buffer.getvalue()


def sql_feed_supported(account: ChannelAccount, spec: FeedSpec) -> str | None:
    """The media prefix when the SQL feed can write this feed exactly, else None."""
    if spec.kind != "main" or feed_shape(adapter_class(account.channel)) is None:
        return None
    prefix = _media_prefix()
    if prefix is None:
        return None
    unusual = ProductMedia.objects.filter(url="").exclude(image="").exclude(image__regex=_PLAIN_NAME).exists()
    return None if unusual else prefix


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
    # The links: the storefront URL (in the settings above), else the shop's hosted pages.
    link = listing_link_format(account, settings_.storefront_url)
    parts += [str(media), str(settings_.updated_at), account.feed_token, spec.name, account.name, link.before]
    etag = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return etag, max(n for n in newest if n)
