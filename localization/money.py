"""Currencies, minor units, price rounding rules and tax arithmetic. Pure functions, Decimal only.

Minor units come from babel (CLDR, which follows ISO 4217: JPY 0, EUR 2, KWD 3), never
from a hand-written table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, get_territory_currencies
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0")
ONE = Decimal("1")


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    return get_currency_precision(currency)


@lru_cache(maxsize=512)
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor units: the edge rounding of every amount shown."""
    return Decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def currency_for_country(country: str, on: dt.date | None = None) -> str | None:
    currencies = get_territory_currencies(country, on or dt.date.today(), tender=True)
    return currencies[0] if currencies else None


# --- Rounding rules ----------------------------------------------------------------------------


class RoundingDirection:
    UP = "up"
    NEAREST = "nearest"


@dataclass(frozen=True)
class RoundingRule:
    """A price ends in `ending` and moves in steps of `increment` (both in major units).

    Every preset is this one shape: end in .99 is (1, 0.99); whole units (1, 0); nearest
    100 JPY (100, 0); no rounding is increment None (minor units only). The direction is
    "up" (Shopify's behaviour: never below the converted price) or "nearest".
    """

    increment: Decimal | None = None
    ending: Decimal = ZERO
    direction: str = RoundingDirection.UP

    def validate_for(self, currency: str) -> list[str]:
        """Problems with this rule in `currency` (empty when it fits)."""
        problems = []
        unit = minor_unit(currency)
        if self.increment is None:
            return problems
        if self.increment <= 0:
            problems.append(gettext("The rounding step must be positive."))
            return problems
        if self.increment % unit:
            problems.append(
                gettext("The rounding step %(step)s is finer than %(currency)s's minor unit %(unit)s.")
                % {"step": self.increment, "currency": currency, "unit": unit}
            )
        if self.ending % unit:
            problems.append(
                gettext(
                    "%(currency)s has %(places)s decimals, so a price cannot end in %(ending)s; "
                    "choose whole units or a nearest-N rule."
                )
                % {"currency": currency, "places": minor_units(currency), "ending": self.ending}
            )
        if not ZERO <= self.ending < self.increment:
            problems.append(gettext("The ending must be at least 0 and smaller than the rounding step."))
        return problems

    def apply(self, amount: Decimal, currency: str) -> Decimal:
        """Round a converted amount: first to minor units, then to the rule."""
        price = quantize(amount, currency)
        if self.increment is None or amount <= 0:
            return price
        steps = (price - self.ending) / self.increment
        if self.direction == RoundingDirection.NEAREST:
            whole = steps.quantize(ONE, rounding=ROUND_HALF_UP)
        else:
            whole = steps.to_integral_value(rounding=ROUND_CEILING)
        result = whole * self.increment + self.ending
        if result <= 0:
            # Tiny prices would fall to zero: a rule never makes a positive price free; take the first step.
            result = self.ending or self.increment
        return quantize(result, currency)


ROUNDING_PRESETS: dict[str, tuple[str, RoundingRule]] = {
    "none": (_("No rounding (minor units only)"), RoundingRule()),
    "end_99": (_("End in .99"), RoundingRule(ONE, Decimal("0.99"))),
    "end_95": (_("End in .95"), RoundingRule(ONE, Decimal("0.95"))),
    "end_90": (_("End in .90"), RoundingRule(ONE, Decimal("0.90"))),
    "end_00": (_("End in .00 (whole units, up)"), RoundingRule(ONE, ZERO)),
    "whole": (_("Nearest whole unit"), RoundingRule(ONE, ZERO, RoundingDirection.NEAREST)),
    "nearest_5": (_("Nearest 5"), RoundingRule(Decimal(5), ZERO, RoundingDirection.NEAREST)),
    "nearest_10": (_("Nearest 10"), RoundingRule(Decimal(10), ZERO, RoundingDirection.NEAREST)),
    "nearest_100": (_("Nearest 100"), RoundingRule(Decimal(100), ZERO, RoundingDirection.NEAREST)),
}


def preset_for(rule: RoundingRule) -> str | None:
    for key, (_label, preset) in ROUNDING_PRESETS.items():
        if preset == rule:
            return key
    return None


def convert_price(
    *, amount: Decimal, rate: Decimal, adjustment_percent: Decimal, rule: RoundingRule, currency: str
) -> Decimal:
    """Shopify's rule: amount x rate x (1 + adjustment/100), to minor units, then the rounding rule."""
    return rule.apply(amount * rate * (ONE + adjustment_percent / 100), currency)


# --- Tax ---------------------------------------------------------------------------------------


def tax_from_inclusive(price: Decimal, rate: Decimal) -> Decimal:
    """Backing tax out of a tax-inclusive price: price x r / (1 + r), unrounded."""
    return price * rate / (ONE + rate)


def exclusive_from_inclusive(price: Decimal, rate: Decimal, currency: str) -> Decimal:
    return quantize(price - tax_from_inclusive(price, rate), currency)


def inclusive_from_exclusive(price: Decimal, rate: Decimal, currency: str) -> Decimal:
    return quantize(price * (ONE + rate), currency)
