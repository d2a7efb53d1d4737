"""Reads other apps rely on. Channels call `market_prices_for` to price listings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from localization.models import Market, MarketPrice


@dataclass(frozen=True)
class PriceForChannel:
    variant_id: int
    currency: str
    price: Decimal  # what the buyer pays now (sale price inside its window)
    compare_at: Decimal | None
    tax_inclusive: bool
    origin: str  # rule | fixed
    rule: str
    rate: Decimal
    rate_source: str
    rate_date: dt.date | None
    landed_cost_included: Decimal


def market_prices_for(
    market: Market, variant_ids: Iterable[int] | None = None, *, now: dt.datetime | None = None
) -> dict[int, PriceForChannel]:
    """The stored prices of variants in a market, keyed by variant id (current shop only)."""
    now = now or timezone.now()
    rows = MarketPrice.objects.filter(market=market)
    if variant_ids is not None:
        rows = rows.filter(variant_id__in=list(variant_ids))
    result = {}
    for row in rows.iterator(chunk_size=2000):
        price, compare_at = row.effective(now)
        result[row.variant_id] = PriceForChannel(
            variant_id=row.variant_id,
            currency=row.currency,
            price=price,
            compare_at=compare_at,
            tax_inclusive=market.tax_inclusive,
            origin=row.origin,
            rule=row.rule,
            rate=row.rate,
            rate_source=row.rate_source,
            rate_date=row.rate_date,
            landed_cost_included=row.landed_cost_amount,
        )
    return result


@dataclass(frozen=True)
class StoredPrice:
    """A stored market price as channels publish it: the regular price, the dated sale price
    and the compare-at price separately (feeds schedule sales themselves), not just "now"."""

    variant_id: int
    currency: str
    amount: Decimal
    compare_at: Decimal | None
    sale_amount: Decimal | None
    sale_starts_at: dt.datetime | None
    sale_ends_at: dt.datetime | None
    landed_cost_included: Decimal


def stored_prices_for(
    market_id: int, variant_ids: Iterable[int] | None = None, *, id_range: tuple[int, int] | None = None
) -> dict[int, StoredPrice]:
    """The stored prices of some variants in a market, keyed by variant id; one query, tuples only
    (channel feeds read 100k of them, so no model instances). `id_range` (first, last variant
    id, inclusive) reads a keyset chunk without sending its ids."""
    rows = MarketPrice.objects.filter(market_id=market_id)
    if variant_ids is not None:
        rows = rows.filter(variant_id__in=list(variant_ids))
    if id_range is not None:
        rows = rows.filter(variant_id__gte=id_range[0], variant_id__lte=id_range[1])
    rows = rows.values_list(
        "variant_id",
        "currency",
        "amount",
        "compare_at_amount",
        "sale_amount",
        "sale_starts_at",
        "sale_ends_at",
        "landed_cost_amount",
    )
    return {row[0]: StoredPrice(*row) for row in rows}


def translated_texts(
    *,
    product_ids: Iterable[int] | None = None,
    product_range: tuple[int, int] | None = None,
    language: str,
    default_language: str,
    fields: Iterable[str] = ("title", "description"),
) -> dict[int, dict[str, tuple[str, str]]]:
    """Product texts in `language` along the fallback chain (fr-CA → fr → shop default), in bulk.

    {product_id: {field: (text, language it was found in)}}; a text with no translation anywhere
    in the chain is absent, and the caller falls back to the catalog's own text (written in the
    shop's default language), as `localization.translations.product_texts` does.
    """
    from localization.models import Translation, TranslationKind
    from localization.translations import language_chain

    chain = language_chain(language, default_language)
    rank = {lang: index for index, lang in enumerate(chain)}
    rows = Translation.objects.filter(kind=TranslationKind.PRODUCT, field__in=list(fields), language__in=chain)
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    if product_range is not None:  # (first, last) inclusive: a feed chunk's products, no id list
        rows = rows.filter(product_id__gte=product_range[0], product_id__lte=product_range[1])
    rows = rows.values_list("product_id", "field", "language", "value")
    best: dict[int, dict[str, tuple[str, str]]] = {}
    for product_id, field, lang, value in rows:
        if not value:
            continue
        texts = best.setdefault(product_id, {})
        current = texts.get(field)
        if current is None or rank[lang] < rank[current[1]]:
            texts[field] = (value, lang)
    return best
