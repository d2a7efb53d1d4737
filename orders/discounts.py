"""Discount codes at checkout: quote a code against a basket, then redeem it when the order is placed.

The storefront (and Meta's `coupon` parameter) calls these two functions; nothing else of the
discount codes is its business.

- `discount_quote(...)` only reads: it finds the code in the current shop and says how much it
  takes off the basket, or raises `DiscountRefused` with a stable `.code` and a translated
  `.message` for the buyer.
- `discount_redeem(quote=...)` runs inside the caller's transaction (the one that places the
  order) and counts the use with one conditional UPDATE, so a code with a usage limit is never
  used more often than the limit, however many buyers redeem it at once.

A fixed amount and a minimum basket are written in the shop currency; a basket in another
currency has them converted the way the market converts its prices (the market's exchange rate
and adjustment, rounded to the currency's minor unit). With no rate known the code is refused
with the code "currency".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


class DiscountRefused(Exception):
    """A code that does not apply to this basket now.

    `.code` is stable (the API and the storefront may branch on it): unknown, inactive,
    not_started, expired, used_up, below_minimum, currency. `.message` is for the buyer, in the
    active language.
    """

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code


@dataclass(frozen=True)
class DiscountQuote:
    discount_id: int
    code: str  # as the merchant wrote it
    amount: Decimal  # in the basket currency, never more than the subtotal, rounded to its minor unit


def discount_quote(
    *, code: str, subtotal: Decimal, currency: str, market=None, at: dt.datetime | None = None
) -> DiscountQuote:
    """How much `code` takes off a basket of `subtotal` in `currency` (current shop); reads only."""
    raise NotImplementedError


def discount_redeem(*, quote: DiscountQuote, order=None) -> None:
    """Count one use of the quoted code inside the caller's transaction; with `order`, record that
    the order used it. Raises DiscountRefused (used_up, inactive, not_started, expired) when the
    code can no longer be used."""
    raise NotImplementedError
