"""What shipping costs a buyer of a market: the shipping rates the merchant set, priced for a basket.

The contract the checkout and the landed-cost quotes rely on:

    shipping_options(market=market, weight_grams=1200, subtotal=Decimal("45.00"))
    -> [ShippingOption(rate_id=3, name="Courier", amount=Decimal("9.00"), currency="EUR"), …]

- only the market's active rates, of the current shop (the market's), whose amounts are in the
  market's current currency;
- a rate with a weight band is offered only when `min_weight_grams <= weight_grams <=
  max_weight_grams` (either bound may be missing);
- flat: its amount; by weight: base amount + amount per kg x every started kilogram (0 g: the
  base amount only; 1–1,000 g: one kg; 1,001 g: two); free over: 0 when `subtotal` is at or above
  the threshold, else its amount;
- amounts rounded half up to the currency's minor unit;
- ordered by the merchant's position, then cheapest first, then by id.

`subtotal` is the basket's goods in the market's currency, as the caller computes it (the
checkout decides whether a discount comes off first); `weight_grams` the parcel's weight in whole
grams (a ValueError when negative or not an int). Reads only: call it inside the market's shop
context (a request of that shop has it); in another shop's context it offers nothing.
`shipping_option_for` re-prices the one rate a buyer picked (None when it is not offered for
the basket), so a checkout can check the choice when the order is placed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from localization.models import Market, ShippingKind, ShippingRate
from localization.money import quantize

GRAMS_PER_KG = 1000


@dataclass(frozen=True)
class ShippingOption:
    rate_id: int
    name: str  # the merchant's words
    amount: Decimal  # in the market's currency, rounded to its minor unit
    currency: str


def started_kilograms(weight_grams: int) -> int:
    """Every started kilogram counts: 0 g → 0, 1–1,000 g → 1, 1,001 g → 2."""
    return -(-weight_grams // GRAMS_PER_KG)


def rate_amount(rate: ShippingRate, *, weight_grams: int, subtotal: Decimal) -> Decimal:
    """What `rate` costs for a parcel of `weight_grams` and a basket of `subtotal`, unrounded."""
    if rate.kind == ShippingKind.WEIGHT:
        return rate.amount + (rate.per_kg_amount or Decimal("0")) * started_kilograms(weight_grams)
    if rate.kind == ShippingKind.FREE_OVER and rate.free_over is not None and subtotal >= rate.free_over:
        return Decimal("0")
    return rate.amount


def rate_fits_weight(rate: ShippingRate, weight_grams: int) -> bool:
    above_min = rate.min_weight_grams is None or weight_grams >= rate.min_weight_grams
    below_max = rate.max_weight_grams is None or weight_grams <= rate.max_weight_grams
    return above_min and below_max


def _check(weight_grams, subtotal) -> tuple[int, Decimal]:
    if isinstance(weight_grams, bool) or not isinstance(weight_grams, int) or weight_grams < 0:
        raise ValueError(f"weight_grams must be a whole number of grams, 0 or more (got {weight_grams!r})")
    subtotal = Decimal(subtotal)
    if not subtotal.is_finite():
        raise ValueError(f"subtotal must be a finite amount (got {subtotal!r})")
    return weight_grams, subtotal


def shipping_options(*, market: Market, weight_grams: int, subtotal: Decimal) -> list[ShippingOption]:
    """The market's shipping rates a basket of `weight_grams` and `subtotal` can use, priced."""
    weight_grams, subtotal = _check(weight_grams, subtotal)
    currency = market.currency
    rates = ShippingRate.objects.filter(
        shop_id=market.shop_id, market_id=market.pk, is_active=True, currency=currency
    ).order_by("position", "id")
    priced = [
        (rate.position, quantize(rate_amount(rate, weight_grams=weight_grams, subtotal=subtotal), currency), rate)
        for rate in rates
        if rate_fits_weight(rate, weight_grams)
    ]
    priced.sort(key=lambda row: (row[0], row[1], row[2].pk))
    return [
        ShippingOption(rate_id=rate.pk, name=rate.name, amount=amount, currency=currency) for _, amount, rate in priced
    ]


def shipping_option_for(*, market: Market, rate_id: int, weight_grams: int, subtotal: Decimal) -> ShippingOption | None:
    """The option of one rate for this basket, or None when the market does not offer it for it
    (unknown id, another market's rate, inactive, outside its weight band)."""
    for option in shipping_options(market=market, weight_grams=weight_grams, subtotal=subtotal):
        if option.rate_id == rate_id:
            return option
    return None
