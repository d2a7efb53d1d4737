"""Channel items: what an account's listings say on the channel, built from the catalog and
the stored market prices (markets and prices, item building in keyset chunks so feeds and
plans run in constant memory, and the payloads and checks of each adapter). Reads only;
the writes about listings are in channels/listings.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import ProductMedia, ProductVariant, StockLevel
from channels.adapters import adapter_class, adapter_for
from channels.adapters.base import Availability, ChannelAdapter, ChannelItem
from channels.links import listing_link_format
from channels.listings import CHUNK, listing_settings_for, selected_variants
from channels.models import ChannelAccount, ChannelListing
from channels.selectors import account_markets
from localization.models import Market
from localization.selectors import StoredPrice, stored_prices_for, translated_texts

# --- Markets and prices --------------------------------------------------------------------------

# The open ends of a sale window, for channels that want both ends of the interval.
OPEN_START, OPEN_END = "1970-01-01T00:00+0000", "2099-12-31T23:59+0000"


@dataclass
class MarketContext:
    """An account market resolved to the localization Market whose stored prices it publishes."""

    account_market: dict
    market_id: int | None
    market_name: str
    currency: str
    language: str
    problem: str = ""

    @property
    def key(self) -> str:
        return f"{self.account_market['country'].upper()}|{self.language}"


def market_for(account_market: dict) -> Market | None:
    """The localization Market the account market was picked from (`market_id`), while it is
    active and still sells to the country; for entries stored without one, the active market
    that sells to the country in the entry's currency."""
    country, currency = account_market["country"].upper(), account_market["currency"].upper()
    if account_market.get("market_id"):
        market = Market.objects.filter(pk=account_market["market_id"], is_active=True).first()
        if market is not None and country in [c.upper() for c in market.countries]:
            return market
    candidates = Market.objects.filter(is_active=True, currency=currency).order_by("-is_home", "id")
    for market in candidates:
        if country in [c.upper() for c in market.countries]:
            return market
    return None


def market_context(account: ChannelAccount, account_market: dict) -> MarketContext:
    currency = account_market["currency"].upper()
    language = account_market.get("language") or account.shop.default_language
    market = market_for(account_market)
    if market is not None:
        currency = market.currency  # the market's own, should it have changed since it was picked
    if market is None:
        problem = _("No active market of the shop sells to %(country)s in %(currency)s: add one under Markets.") % {
            "country": account_market["country"].upper(),
            "currency": currency,
        }
        return MarketContext(account_market, None, account_market["market"], currency, language, problem)
    return MarketContext(account_market, market.pk, market.name, currency, language)


def _sale_interval(starts, ends) -> str:
    if starts is None and ends is None:
        return ""
    fmt = "%Y-%m-%dT%H:%M%z"
    start = starts.astimezone(dt.UTC).strftime(fmt) if starts else OPEN_START
    end = ends.astimezone(dt.UTC).strftime(fmt) if ends else OPEN_END
    return f"{start}/{end}"


def channel_prices(sale_prices: str, stored: StoredPrice, now: dt.datetime) -> tuple[Decimal, Decimal | None, str]:
    """(price, sale price, sale window) of a stored market price as the channel takes them
    (`sale_prices`: the adapter's way of taking a sale).

    "with_dates": the regular price and the sale price with its window (current or coming),
    so the sale starts and ends on time without a re-publish; "while_running": the sale price
    while it runs; "": the price of the moment. A compare-at price above the price is shown as
    the regular price with the price as the sale price (the struck-through price).
    """
    sale = stored.sale_amount
    if sale is not None and (stored.sale_ends_at is None or stored.sale_ends_at > now):
        running = stored.sale_starts_at is None or stored.sale_starts_at <= now
        if sale_prices == "with_dates":
            return stored.amount, sale, _sale_interval(stored.sale_starts_at, stored.sale_ends_at)
        if running:
            if sale_prices:
                return stored.amount, sale, ""
            return sale, None, ""
    if sale_prices and stored.compare_at is not None and stored.compare_at > stored.amount:
        return stored.compare_at, stored.amount, ""
    return stored.amount, None, ""


_QUANTA: dict[str, Decimal] = {}


def to_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor units (stored prices keep 4 decimals)."""
    from localization.money import minor_unit

    quantum = _QUANTA.get(currency) or _QUANTA.setdefault(currency, minor_unit(currency))
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


# --- Building items --------------------------------------------------------------------------------


@dataclass
class BuiltItem:
    listing_id: int | None
    variant_id: int
    item: ChannelItem
    custom_labels: list[str]
    problem: str = ""  # why the item cannot be priced in this market (no stored price, no market)


def _first_images(product_ids, variant_ids=None) -> tuple[dict, dict]:
    """First image per product and per variant (the variant's own image wins). `product_ids`
    is a list, or (first, last) for a contiguous range (a chunk sends no list of ids then)."""
    by_product, by_variant = {}, {}
    if isinstance(product_ids, tuple):
        media = ProductMedia.objects.filter(product_id__gte=product_ids[0], product_id__lte=product_ids[1])
    else:
        media = ProductMedia.objects.filter(product_id__in=product_ids)
    rows = media.order_by("product_id", "position", "id").values_list("product_id", "variant_id", "url", "image")
    wanted = set(variant_ids) if variant_ids is not None else None
    for product_id, variant_id, url, image in rows:
        src = url or (media_url(image) if image else "")
        if not src:
            continue
        by_product.setdefault(product_id, src)
        if variant_id is not None and (wanted is None or variant_id in wanted):
            by_variant.setdefault(variant_id, src)
    return by_product, by_variant


def media_url(name: str) -> str:
    from django.conf import settings
    from django.core.files.storage import default_storage

    url = default_storage.url(name)
    return url if url.startswith("http") else settings.SITE_URL + url


def _available(first: int, last: int) -> dict[int, int]:
    """Available stock (on hand minus allocated over active locations) of the variants first…last."""
    rows = (
        StockLevel.objects.filter(variant_id__gte=first, variant_id__lte=last, location__is_active=True)
        .values("variant_id")
        .annotate(available=Sum(F("on_hand") - F("allocated")))
        .values_list("variant_id", "available")
    )
    return {vid: max(0, int(avail or 0)) for vid, avail in rows}


VARIANT_FIELDS = (
    "id",
    "sku",
    "option_values",
    "gtin",
    "mpn",
    "product_id",
    "product__title",
    "product__description",
    "product__brand",
    "product__condition",
    "product__handle",
    "product__category__google_product_category",
    "weight_grams",
)
LISTING_FIELDS = ("variant_id", "id", "title_override", "description_override", "category_override", "custom_labels")


class _Builder:
    """What stays the same for every item of one account: links, markets, labels of problems.

    Items are built from value tuples with the link's fixed parts precomputed, since feeds and
    plans build 100k of them.
    """

    def __init__(self, account: ChannelAccount, contexts: list[MarketContext], listings: dict | None = None):
        self.account = account
        self.listings = listings
        self.channel = account.channel
        self.sale_prices = adapter_class(account.channel).sale_prices
        self.contexts = contexts
        self.default_language = account.shop.default_language
        # The merchant's storefront when the listing settings name one, else the shop's hosted
        # product page; either way with the channel's UTM parameters (channels/links.py).
        link = listing_link_format(account, listing_settings_for(account).storefront_url)
        self.link_parts = (link.before, link.between, link.after)
        self.now = timezone.now()

    def chunk(self, rows: list[tuple]) -> Iterator[tuple[tuple, dict, list]]:
        """(row, listing, per-market (prices, texts)) for a chunk of variant rows: a fixed number
        of queries per chunk whatever its size (images, stock, listings, and per market prices
        and translations)."""
        # Side reads by the chunk's id range (and its products as a subquery): no list of 2,000
        # ids is sent, bound and parsed four times per chunk. Rows of unselected variants in the
        # range are read too and simply not used.
        first, last = rows[0][0], rows[-1][0]
        products = {r[5] for r in rows}
        low, high = min(products), max(products)
        # Products of a chunk are mostly contiguous ids (variants are created with their
        # product): read them by range then, by list otherwise.
        dense = high - low < 4 * len(products)
        scope = {"product_range": (low, high)} if dense else {"product_ids": list(products)}
        self.by_product, self.by_variant = _first_images((low, high) if dense else scope["product_ids"])
        self.stock = _available(first, last)
        listings = self.listings
        if listings is None:
            listings = {
                row[0]: row
                for row in ChannelListing.objects.filter(
                    account=self.account, variant_id__gte=first, variant_id__lte=last
                ).values_list(*LISTING_FIELDS)
            }
        per_market, texts_by_language = [], {}
        for context in self.contexts:
            prices = stored_prices_for(context.market_id, id_range=(first, last)) if context.market_id else {}
            if context.language not in texts_by_language:
                texts_by_language[context.language] = translated_texts(
                    language=context.language, **scope, default_language=self.default_language
                )
            per_market.append((prices, texts_by_language[context.language]))
        for row in rows:
            yield row, listings.get(row[0]), per_market

    def build(self, context: MarketContext, row: tuple, listing: tuple | None, prices: dict, texts: dict) -> BuiltItem:
        (vid, sku, options, gtin, mpn, product_id, p_title, p_description, brand, condition, handle, gpc, weight) = row
        _v, listing_id, title_override, description_override, category_override, labels = listing or _NO_LISTING
        size = color = ""
        if options:
            for key, value in options.items():
                lowered = key.lower()
                if lowered == "size":
                    size = str(value)
                elif lowered in ("color", "colour") and not color:
                    color = str(value)
        translated = texts.get(product_id) or {}
        title = self._text(translated.get("title"), title_override, p_title)
        description = self._text(translated.get("description"), description_override, p_description) or p_title
        quantity = self.stock.get(vid, 0)
        before, between, after = self.link_parts
        link = f"{before}{handle}{between}{vid}{after}"
        stored = prices.get(vid)
        price = sale = None
        window, problem = "", context.problem
        if stored is not None:
            price, sale, window = channel_prices(self.sale_prices, stored, self.now)
            currency = stored.currency
            price = to_minor_units(price, currency)
            sale = to_minor_units(sale, currency) if sale is not None else None
        elif not problem:
            problem = _("No stored price in the market %(market)s: recompute its prices under Markets.") % {
                "market": context.market_name
            }
        item = ChannelItem(
            id=sku,
            title=title,
            description=description,
            link=link,
            image_link=self.by_variant.get(vid) or self.by_product.get(product_id, ""),
            price=price,
            currency=context.currency,
            availability=Availability.IN_STOCK if quantity > 0 else Availability.OUT_OF_STOCK,
            condition=condition,
            brand=brand,
            gtin=gtin,
            mpn=mpn,
            item_group_id=handle[:100],
            quantity=quantity,
            google_product_category=str(category_override or gpc or ""),
            size=size,
            color=color,
            sale_price=sale,
            sale_price_effective_date=window,
            custom_labels=list(labels or ()),
            weight_grams=weight,
        )
        return BuiltItem(listing_id, vid, item, item.custom_labels, problem)

    def _text(self, translated: tuple[str, str] | None, override: str, original: str) -> str:
        """A translation in the market's language wins; else the listing's override (written in
        the shop's language), a translation in the shop's language, the catalog text."""
        if translated and translated[1] != self.default_language:
            return translated[0]
        return override or (translated[0] if translated else "") or original


_NO_LISTING = (None, None, "", "", "", ())


def _variant_chunks(queryset, chunk: int) -> Iterator[list[tuple]]:
    """Chunks of the selection's value tuples in id order.

    Each chunk's id range is found on the variant table alone (an index range scan), then the
    selection (joins, status, rules) is read inside that range: "id > last ORDER BY id LIMIT n"
    over the joined selection makes PostgreSQL join most of the remaining catalog per chunk.
    """
    last_id = 0
    while True:
        bounds = list(ProductVariant.objects.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:chunk])
        if not bounds:
            return
        first, last_id = bounds[0], bounds[-1]
        rows = list(queryset.filter(id__gte=first, id__lte=last_id).values_list(*VARIANT_FIELDS))
        if rows:
            yield rows


def iter_items_markets(
    account: ChannelAccount,
    account_markets_: list[dict] | None = None,
    *,
    variants=None,
    chunk: int = CHUNK,
    listings: dict | None = None,
) -> Iterator[list[BuiltItem]]:
    """Each selected variant as one ChannelItem per market (in the given order), id order.

    Memory stays bounded by `chunk`; each chunk costs four queries plus two per market.
    `listings` ({variant id: LISTING_FIELDS tuple}) saves the per-chunk listing read when the
    caller has read every listing already (a plan does).
    """
    contexts = [market_context(account, m) for m in (account_markets_ or account_markets(account))]
    builder = _Builder(account, contexts, listings)
    queryset = (variants if variants is not None else selected_variants(account)).order_by("id")
    pairs = list(enumerate(contexts))
    for rows in _variant_chunks(queryset, chunk):
        for row, listing, per_market in builder.chunk(rows):
            yield [builder.build(context, row, listing, *per_market[i]) for i, context in pairs]


def iter_items(
    account: ChannelAccount,
    account_market: dict | None = None,
    *,
    variants=None,
    chunk: int = CHUNK,
) -> Iterator[BuiltItem]:
    """Each selected variant as a ChannelItem priced for one market (the first by default)."""
    account_market = account_market or account_markets(account)[0]
    for built in iter_items_markets(account, [account_market], variants=variants, chunk=chunk):
        yield built[0]


# --- Payloads ---------------------------------------------------------------------------------------


def item_to_json(item: ChannelItem) -> dict:
    # Flat fields: a shallow copy is the dict `asdict` would make, without its deep copies.
    data = dict(vars(item))
    data["custom_labels"] = list(item.custom_labels)
    data["price"] = None if item.price is None else str(item.price)
    data["sale_price"] = None if item.sale_price is None else str(item.sale_price)
    return data


def item_from_json(data: dict) -> ChannelItem:
    values = {k: v for k, v in data.items() if k not in ("markets", "localized_items")}
    # A removal names the item by its ids only.
    for name in ("title", "description", "link", "image_link", "currency"):
        values.setdefault(name, "")
    values["price"] = None if values.get("price") is None else Decimal(values["price"])
    if values.get("sale_price") is not None:
        values["sale_price"] = Decimal(values["sale_price"])
    return ChannelItem(**values)


def payload_for(adapter: ChannelAdapter, built: BuiltItem) -> dict:
    return adapter.build_payload(built.item) if built.item.price is not None else {"id": built.item.id}


def publish_markets(account: ChannelAccount) -> list[dict]:
    """The markets one listing is published in through the channel's API: every market where
    the channel takes them in one listing (Meta's localized overrides, Pinterest's batch per
    country and language), else the first (TikTok Shop sells in one region; feed channels
    serve a feed per market)."""
    markets = account_markets(account)
    adapter = adapter_class(account.channel)
    if not (adapter.localized_overrides or adapter.batch_per_market):
        return markets[:1]
    seen, unique = set(), []
    for market in markets:
        key = (market["country"].upper(), market.get("language") or "")
        if key not in seen:
            seen.add(key)
            unique.append(market)
    return unique


def market_key(market: dict) -> str:
    return f"{market['country'].upper()}|{market.get('language') or ''}"


def listing_payload(adapter: ChannelAdapter, builts: list[BuiltItem], markets: list[dict]) -> dict:
    """What the plan hashes and diffs for one listing: the first market's payload, plus each
    override's fields as `<override>:<field>` (localized overrides) or each further market's
    payload under `<COUNTRY>|<language>` (a batch per market), so a review shows which market
    changes."""
    primary = builts[0]
    payload = payload_for(adapter, primary)
    if len(builts) > 1 and adapter.localized_overrides:
        for _kind, value, data in adapter.overrides([b.item for b in builts], markets):
            for name, field_value in data.items():
                payload[f"{value}:{name}"] = field_value
    elif len(builts) > 1 and adapter.batch_per_market:
        for built, market in zip(builts[1:], markets[1:], strict=True):
            payload[market_key(market)] = adapter.market_payload(adapter.build_payload(built.item))
    return payload


def listing_item_json(builts: list[BuiltItem], markets: list[dict]) -> dict:
    """The plan's record of what to send: the first market's item, and with further markets
    those markets and their items (applying sends them as overrides or per-market batches)."""
    data = item_to_json(builts[0].item)
    if len(builts) > 1:
        data["markets"] = [dict(m) for m in markets]
        data["localized_items"] = [item_to_json(b.item) for b in builts[1:]]
    return data


def payload_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def item_problems(adapter: ChannelAdapter, built: BuiltItem, pricing_problem: str = "") -> list[dict]:
    """The channel's rules checked locally, before anything is sent or served."""
    item = built.item
    problems = []
    if item.price is None:
        message = built.problem or pricing_problem or _("No price.")
        problems.append({"field": "price", "code": "missing_field", "message": message})
        return problems
    if not item.link:
        problems.append(
            {
                "field": "link",
                "code": "missing_field",
                # Every item links to a product page (the merchant's storefront or the shop's
                # hosted one): an item without one is an adapter's doing.
                "message": _("link is required."),
            }
        )
    for error in adapter.validate_item(item):
        if error.field == "link" and not item.link:
            continue
        problems.append({"field": error.field, "code": error.code, "message": error.message})
    if item.sale_price is not None and item.sale_price > item.price:
        problems.append(
            {"field": "sale_price", "code": "invalid", "message": _("The sale price is above the regular price.")}
        )
    return problems


def listing_problems(adapter: ChannelAdapter, builts: list[BuiltItem], markets: list[dict]) -> list[dict]:
    """Problems of a listing in every market it is published in (further markets named)."""
    problems = item_problems(adapter, builts[0])
    for built, market in zip(builts[1:], markets[1:], strict=True):
        for problem in item_problems(adapter, built):
            problems.append({**problem, "market": market["market"]})
    return problems


def adapter_for_account(account: ChannelAccount, account_market: dict | None = None, **options) -> ChannelAdapter:
    """The adapter, told the market (where the channel's calls name one, batch_per_market)."""
    return adapter_for(account, market=account_market or account_markets(account)[0], **options)
