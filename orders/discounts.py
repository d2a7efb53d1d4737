"""Discount codes at checkout: quote a code against a basket, then redeem it when the order is placed.

The storefront (and Meta's `coupon` parameter) calls these functions; nothing else of the
discount codes is its business.

- `discount_quote(...)` only reads: it finds the code in the current shop and says how much it
  takes off the basket, or raises `DiscountRefused` with a stable `.code` and a translated
  `.message` for the buyer.
- `discount_redeem(quote=..., order=...)` runs inside the caller's transaction (the one that
  places the order) and counts the use with one conditional UPDATE, so a code with a usage
  limit is never used more often than the limit, however many buyers redeem it at once. With
  `order` it also records that the order used the code (a `DiscountRedemption`, shown on the
  merchant's order page); `discount_record(quote=..., order=...)` attaches the order later
  when the use was counted before the order existed.

The usual checkout, in one transaction:

    quote = discount_quote(code=typed, subtotal=subtotal, currency=market.currency, market=market)
    with transaction.atomic():
        order = order_import(...)                       # discounts=quote.amount
        discount_redeem(quote=quote, order=order)       # raises DiscountRefused: roll back, tell the buyer

A fixed amount and a minimum basket are written in the shop currency; a basket in another
currency has them converted the way the market converts its prices: the market's exchange
rate (its manual rate when the market uses manual rates, else the ECB's or the configured
provider's) times (1 + the market's adjustment), rounded half up to the currency's minor unit
(`localization.money.convert_price`). The market's price endings (.99, nearest 5) are for
prices and are not applied to a discount. With no rate known the code is refused with the code
"currency".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from localization.money import RoundingRule, convert_price, quantize
from localization.rates import RateNotFound, rate_for
from orders.models import DISCOUNT_CODE_MAX, DISCOUNT_CODE_PATTERN, DiscountCode, DiscountRedemption
from shopadmin.audit import audit_record
from shopadmin.templatetags.formats import format_money
from shopadmin.tenancy import current_shop
from shopadmin.validators import currency_codes

ZERO = Decimal("0")
HUNDRED = Decimal("100")
# The stable reasons a code is refused (DiscountRefused.code).
REFUSAL_CODES = ("unknown", "inactive", "not_started", "expired", "used_up", "below_minimum", "currency")


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
    currency: str = ""  # the basket currency the amount is in


def _shown(text: str) -> str:
    """The code the buyer typed, as it may be quoted back (bounded, one line)."""
    printable = "".join(c for c in str(text) if c.isprintable())
    return " ".join(printable.split())[:DISCOUNT_CODE_MAX] or "—"


def _when(value: dt.datetime, shop) -> str:
    return date_format(timezone.localtime(value, ZoneInfo(shop.timezone or "UTC")), "SHORT_DATETIME_FORMAT")


def _refuse_if_unusable(discount: DiscountCode, at: dt.datetime, shop) -> None:
    """The reason a buyer cannot use the code now, in the order a buyer would want to hear it."""
    code = discount.code
    if not discount.is_active:
        raise DiscountRefused("inactive", _("The code “%(code)s” is no longer valid.") % {"code": code})
    if discount.starts_at is not None and discount.starts_at > at:
        raise DiscountRefused(
            "not_started",
            _("The code “%(code)s” can be used from %(when)s.")
            % {"code": code, "when": _when(discount.starts_at, shop)},
        )
    if discount.ends_at is not None and discount.ends_at <= at:
        raise DiscountRefused(
            "expired",
            _("The code “%(code)s” expired on %(when)s.") % {"code": code, "when": _when(discount.ends_at, shop)},
        )
    if discount.usage_limit is not None and discount.times_used >= discount.usage_limit:
        raise DiscountRefused("used_up", _("The code “%(code)s” has been used up.") % {"code": code})


def _converter(*, shop, currency: str, market, at: dt.datetime, code: str):
    """A function taking an amount in the shop currency into `currency`, as the market converts prices."""
    base = shop.default_currency
    if currency == base:
        return lambda amount: quantize(amount, currency)
    adjustment = ZERO
    mode = "auto"
    if market is not None and market.currency == currency:
        mode = "manual" if market.rate_mode == "manual" else "automatic"
        adjustment = market.adjustment_percent or ZERO
    try:
        used = rate_for(base, currency, shop_id=shop.pk, mode=mode, at=at)
    except RateNotFound:
        raise DiscountRefused(
            "currency",
            _("The code “%(code)s” cannot be used with prices in %(currency)s.") % {"code": code, "currency": currency},
        ) from None
    return lambda amount: convert_price(
        amount=amount, rate=used.rate, adjustment_percent=adjustment, rule=RoundingRule(), currency=currency
    )


def _subtotal(value) -> Decimal:
    try:
        subtotal = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"subtotal must be a decimal amount, not {value!r}") from None
    if not subtotal.is_finite() or subtotal < 0:
        raise ValueError(f"subtotal must be a finite amount of at least zero, not {value!r}")
    return subtotal


def discount_quote(
    *, code: str, subtotal: Decimal, currency: str, market=None, at: dt.datetime | None = None
) -> DiscountQuote:
    """How much `code` takes off a basket of `subtotal` in `currency` (current shop); reads only.

    Raises DiscountRefused (unknown, inactive, not_started, expired, used_up, below_minimum,
    currency). `market` is the market the basket is priced in (its rate and adjustment convert
    the fixed amount and the minimum); `at` is the moment of the checkout (default now).
    """
    at = at or timezone.now()
    subtotal = _subtotal(subtotal)
    typed = (code or "").strip()
    shop = current_shop()
    discount = None
    # What cannot be a code (spaces, other letters, a NUL byte) is never looked up.
    if len(typed) <= DISCOUNT_CODE_MAX and re.fullmatch(DISCOUNT_CODE_PATTERN, typed):
        discount = DiscountCode.objects.filter(shop_id=shop.pk, code__iexact=typed).first()
    if discount is None:
        raise DiscountRefused("unknown", _("There is no discount code “%(code)s”.") % {"code": _shown(typed)})
    _refuse_if_unusable(discount, at, shop)
    currency = (currency or "").strip().upper()
    if currency not in currency_codes():
        raise DiscountRefused(
            "currency",
            _("The code “%(code)s” cannot be used with prices in %(currency)s.")
            % {"code": discount.code, "currency": _shown(currency)},
        )
    # A percentage without a minimum needs no exchange rate; anything in the shop currency does.
    needs_rate = discount.kind == DiscountCode.Kind.FIXED or bool(discount.minimum_subtotal)
    convert = _converter(shop=shop, currency=currency, market=market, at=at, code=discount.code) if needs_rate else None
    if discount.minimum_subtotal:
        minimum = convert(discount.minimum_subtotal)
        if subtotal < minimum:
            raise DiscountRefused(
                "below_minimum",
                _("The code “%(code)s” applies to baskets of %(minimum)s or more.")
                % {"code": discount.code, "minimum": format_money(minimum, currency)},
            )
    if discount.kind == DiscountCode.Kind.PERCENTAGE:
        amount = quantize(subtotal * discount.value / HUNDRED, currency)
    else:
        amount = convert(discount.value)
    amount = min(amount, quantize(subtotal, currency))
    return DiscountQuote(discount_id=discount.pk, code=discount.code, amount=amount, currency=currency)


def _why_not(discount_id: int, at: dt.datetime) -> DiscountRefused:
    """Why the conditional UPDATE counted nothing."""
    discount = DiscountCode.objects.filter(pk=discount_id).first()
    shop = current_shop()
    if discount is None:
        return DiscountRefused("unknown", _("This discount code no longer exists."))
    try:
        _refuse_if_unusable(discount, at, shop)
    except DiscountRefused as refused:
        return refused
    return DiscountRefused("used_up", _("The code “%(code)s” has been used up.") % {"code": discount.code})


@transaction.atomic
def discount_redeem(*, quote: DiscountQuote, order=None, at: dt.datetime | None = None) -> DiscountRedemption:
    """Count one use of the quoted code, inside the caller's transaction (the one placing the order).

    One conditional UPDATE: `times_used = times_used + 1` where the code is still active, within
    its dates and under its limit. Concurrent redemptions wait for each other on the row and
    re-check the condition, so a code with 10 uses left gives exactly 10. Raises DiscountRefused
    (used_up, inactive, not_started, expired, unknown) when nothing was counted; the caller's
    transaction then decides (roll the order back, or place it without the discount).

    With `order`, the use is recorded against the order (an order already recorded with a code
    counts nothing more); without, `discount_record` attaches the order later. Returns the
    recorded use.
    """
    at = at or timezone.now()
    if order is not None:
        # An order uses a code once: placing it again (a retried checkout) counts nothing more.
        already = DiscountRedemption.objects.filter(order=order).first()
        if already is not None:
            return already
    counted = (
        DiscountCode.objects.filter(pk=quote.discount_id, is_active=True)
        .filter(Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")))
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .update(times_used=F("times_used") + 1, updated_at=at)
    )
    if not counted:
        raise _why_not(quote.discount_id, at)
    currency = quote.currency or (order.currency if order is not None else "")
    redemption = DiscountRedemption.objects.create(
        discount_id=quote.discount_id,
        order=order,
        code=quote.code,
        amount=quote.amount,
        currency=currency,
        created_at=at,
    )
    discount = DiscountCode.objects.only("id", "shop_id", "code", "times_used").get(pk=quote.discount_id)
    audit_record(
        action="discount_code.redeem",
        instance=discount,
        changes={
            "times_used": [discount.times_used - 1, discount.times_used],
            "order": [None, order.pk if order is not None else None],
            "amount": [None, f"{quote.amount} {currency}".strip()],
        },
    )
    return redemption


@transaction.atomic
def discount_record(*, quote: DiscountQuote, order) -> DiscountRedemption:
    """Record that `order` used the quoted code, whose use `discount_redeem` counted before the
    order existed (in the same checkout). Counts nothing: the newest use of the code not yet
    tied to an order, with the quote's amount, gets the order. An order already recorded with
    the code is left as it is."""
    existing = DiscountRedemption.objects.filter(order=order).first()
    if existing is not None:
        return existing
    redemption = (
        DiscountRedemption.objects.select_for_update()
        .filter(discount_id=quote.discount_id, order__isnull=True, amount=quote.amount)
        .order_by("-created_at", "-id")
        .first()
    )
    if redemption is None:
        raise ValueError("No counted use of this code waits for an order: call discount_redeem(quote=..., order=...).")
    redemption.order = order
    if not redemption.currency:
        redemption.currency = order.currency
    redemption.save(update_fields=["order", "currency"])
    audit_record(
        action="discount_code.record",
        instance=redemption.discount,
        changes={"order": [None, order.pk]},
    )
    return redemption
