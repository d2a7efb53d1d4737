"""Exchange rates: the ECB daily reference feed, and lookups with cross rates via EUR.

The ECB publishes EUR → X reference rates each working day around 16:00 CET
(eurofxref-daily.xml). Any other pair is a cross rate: base → quote = (EUR→quote) / (EUR→base),
both taken from the same ECB day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from defusedxml import ElementTree
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from localization.models import ExchangeRate, RateSource

ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
ECB_PUBLICATION_TIME = dt.time(16, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
# The ECB does not publish at weekends or on TARGET holidays; four days covers a long weekend.
DEFAULT_STALE_AFTER = dt.timedelta(hours=96)
RATE_PLACES = Decimal("0.0000000001")


class RateNotFound(LookupError):
    def __init__(self, base: str, quote: str, source: str):
        super().__init__(
            gettext("No %(source)s exchange rate from %(base)s to %(quote)s.")
            % {"source": source, "base": base, "quote": quote}
        )
        self.base, self.quote, self.source = base, quote, source


class EcbFeedError(ValueError):
    pass


def stale_after() -> dt.timedelta:
    hours = getattr(settings, "LOCALIZATION_RATE_STALE_HOURS", None)
    return dt.timedelta(hours=hours) if hours else DEFAULT_STALE_AFTER


def parse_ecb_daily(xml: bytes | str) -> tuple[dt.date, dict[str, Decimal]]:
    """Parse eurofxref-daily.xml: the reference date and {currency: units per 1 EUR}."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise EcbFeedError(f"The ECB feed is not valid XML: {exc}") from exc
    day = root.find(f".//{ECB_NS}Cube[@time]")
    if day is None:
        raise EcbFeedError("The ECB feed has no dated Cube element.")
    try:
        date = dt.date.fromisoformat(day.get("time"))
    except (TypeError, ValueError) as exc:
        raise EcbFeedError(f"The ECB feed date {day.get('time')!r} is not an ISO date.") from exc
    rates = {}
    for cube in day.findall(f"{ECB_NS}Cube"):
        currency, raw = cube.get("currency"), cube.get("rate")
        try:
            value = Decimal(raw)
        except (TypeError, InvalidOperation) as exc:
            raise EcbFeedError(f"The ECB rate for {currency} is not a number: {raw!r}.") from exc
        if not currency or len(currency) != 3 or value <= 0:
            raise EcbFeedError(f"The ECB feed has a bad entry: {currency!r} {raw!r}.")
        rates[currency] = value
    if not rates:
        raise EcbFeedError("The ECB feed lists no rates.")
    return date, rates


def ecb_effective_at(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, ECB_PUBLICATION_TIME)


@dataclass(frozen=True)
class RateUsed:
    """A rate and where it came from: every converted amount can say which rate made it."""

    base: str
    quote: str
    rate: Decimal
    date: dt.date | None
    source: str  # ecb | manual | identity | "ecb (cross via EUR)"
    effective_at: dt.datetime | None = None

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        if self.effective_at is None:
            return False
        return (now or timezone.now()) - self.effective_at > stale_after()

    def as_dict(self) -> dict:
        return {
            "pair": self.pair,
            "rate": str(self.rate.normalize()) if self.rate == self.rate.to_integral() else str(self.rate),
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
        }


def _latest(queryset, at: dt.datetime):
    return queryset.filter(effective_at__lte=at).order_by("-effective_at", "-id").first()


def manual_rate(base: str, quote: str, *, shop_id: int, at: dt.datetime | None = None) -> RateUsed:
    """The shop's latest manual rate for the pair (or the inverse of the reverse pair)."""
    at = at or timezone.now()
    manual = ExchangeRate.objects.filter(shop_id=shop_id, source=RateSource.MANUAL)
    direct = _latest(manual.filter(base=base, quote=quote), at)
    reverse = _latest(manual.filter(base=quote, quote=base), at)
    if direct and (not reverse or direct.effective_at >= reverse.effective_at):
        return RateUsed(base, quote, direct.rate, direct.date, RateSource.MANUAL, direct.effective_at)
    if reverse:
        rate = (Decimal(1) / reverse.rate).quantize(RATE_PLACES)
        return RateUsed(base, quote, rate, reverse.date, RateSource.MANUAL, reverse.effective_at)
    raise RateNotFound(base, quote, "manual")


def _crossed(shared, pivot: str, base: str, quote: str, source: str) -> RateUsed | None:
    """base → quote from shared rows quoted from `pivot`, crossing through it when neither side
    is the pivot; both legs from the same day, the latest that has them."""
    legs = [c for c in (base, quote) if c != pivot]
    rows = (
        shared.filter(base=pivot, quote__in=legs)
        .order_by("-effective_at")
        .values("quote", "rate", "date", "effective_at")
    )
    by_date: dict[dt.date, dict[str, dict]] = {}
    for row in rows[: 40 * len(legs)]:
        by_date.setdefault(row["date"], {})[row["quote"]] = row
        day = by_date[row["date"]]
        if all(leg in day for leg in legs):
            from_pivot = {leg: day[leg]["rate"] for leg in legs}
            from_pivot[pivot] = Decimal(1)
            rate = (from_pivot[quote] / from_pivot[base]).quantize(RATE_PLACES)
            label = source if pivot in (base, quote) else f"{source} (cross via {pivot})"
            return RateUsed(base, quote, rate, row["date"], label, day[legs[0]]["effective_at"])
    return None


def ecb_rate(base: str, quote: str, *, at: dt.datetime | None = None) -> RateUsed:
    """ECB reference rate, crossing through EUR from the latest day that has both legs."""
    at = at or timezone.now()
    ecb = ExchangeRate.objects.filter(shop__isnull=True, source=RateSource.ECB, effective_at__lte=at)
    used = _crossed(ecb, "EUR", base, quote, RateSource.ECB)
    if used is None:
        raise RateNotFound(base, quote, "ECB")
    return used


def provider_rate(base: str, quote: str, *, at: dt.datetime | None = None) -> RateUsed:
    """The configured second source (localization.rate_providers), from its own base currency."""
    at = at or timezone.now()
    shared = ExchangeRate.objects.filter(shop__isnull=True, source=RateSource.PROVIDER, effective_at__lte=at)
    pivot = shared.order_by("-effective_at").values_list("base", flat=True).first()
    used = _crossed(shared, pivot, base, quote, RateSource.PROVIDER) if pivot else None
    if used is None:
        raise RateNotFound(base, quote, "provider")
    return used


def rate_for(
    base: str, quote: str, *, shop_id: int | None, mode: str = "auto", at: dt.datetime | None = None
) -> RateUsed:
    """mode 'manual': the shop's rate only; 'automatic': ECB, else the configured provider for
    what the ECB does not publish; 'auto': manual if set, else as automatic."""
    if base == quote:
        return RateUsed(base, quote, Decimal(1), None, "identity")
    if mode in ("manual", "auto") and shop_id is not None:
        try:
            return manual_rate(base, quote, shop_id=shop_id, at=at)
        except RateNotFound:
            if mode == "manual":
                raise
    try:
        return ecb_rate(base, quote, at=at)
    except RateNotFound:
        try:
            return provider_rate(base, quote, at=at)
        except RateNotFound:
            raise RateNotFound(base, quote, "ECB") from None
