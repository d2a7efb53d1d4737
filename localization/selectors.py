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


def market_for_country(country: str) -> Market | None:
    """The active market selling to a country (the home market when none lists it)."""
    for market in Market.objects.filter(is_active=True):
        if country in market.countries:
            return market
    return Market.objects.filter(is_home=True).first()
