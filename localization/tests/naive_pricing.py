"""Plain references for `localization.pricing.market_prices_recompute`, one object at a time.

Not used by the app. `market_prices_reference` states every stored column of every price the
documented way (the exactness tests compare the SQL path and the batched path with it);
`market_prices_recompute_naive` is the per-object ORM loop bench/bench_localization.py
measures the bulk path against.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from localization.models import DutyKind, DutyRate, Market, MarketPrice, MarketVariantPrice
from localization.money import quantize
from localization.pricing import market_params
from shopadmin.models import Shop

# Wide enough that products of prices, rates, adjustments, duties and taxes are exact, as
# PostgreSQL's numeric is.
EXACT_DIGITS = 80


def _duty_rate(params: dict, hs_code: str, origin: str) -> DutyRate | None:
    """The ad valorem (or compound) duty of the longest HS prefix; a preferential origin wins a tie."""
    on = params["on"]
    candidates = [
        rate
        for rate in DutyRate.objects.filter(
            destination__in=params["dests"], kind__in=(DutyKind.AD_VALOREM, DutyKind.COMPOUND)
        )
        if rate.effective_from <= on
        and (rate.effective_to is None or rate.effective_to > on)
        and hs_code.startswith(rate.hs_prefix)
        and rate.origin in ("", origin)
    ]
    return max(candidates, key=lambda rate: (len(rate.hs_prefix), rate.origin != ""), default=None)


def market_prices_reference(*, shop_id: int, market: Market) -> dict[int, dict] | None:
    """The stored columns of `market`'s price of every variant, by variant id; None without a rate."""
    from catalog.models import ProductVariant

    params = market_params(market, Shop.objects.get(pk=shop_id))
    if params is None:
        return None
    rule, currency, rate, tax = market.rounding_rule, market.currency, params["rate"], params["tax"]
    factor = 1 + market.adjustment_percent / 100
    overrides = {row.variant_id: row for row in MarketVariantPrice.objects.filter(market=market)}
    prices = {}
    with localcontext(prec=EXACT_DIGITS):
        for variant in ProductVariant.objects.select_related("product").order_by("pk"):
            product, base = variant.product, variant.price.amount
            duty = None
            if params["price_in"] and product.hs_code:
                duty = _duty_rate(params, product.hs_code, product.country_of_origin or params["origin"])
            converted = base * rate * factor
            landed = Decimal(0)
            if params["price_in"]:
                landed = converted * (1 + (duty.ad_valorem if duty else 0)) * (1 + tax) - converted
            compare_at = None
            if variant.compare_at_price is not None and converted:
                compare_at = rule.apply(
                    variant.compare_at_price.amount * rate * factor * (converted + landed) / converted, currency
                )
            override = overrides.get(variant.pk)
            fixed = override.fixed_price if override else None
            prices[variant.pk] = {
                "currency": currency,
                "amount": fixed if fixed is not None else rule.apply(converted + landed, currency),
                "compare_at_amount": override.compare_at_price if fixed is not None else compare_at,
                "sale_amount": override.sale_price if override else None,
                "sale_starts_at": override.sale_starts_at if override else None,
                "sale_ends_at": override.sale_ends_at if override else None,
                "base_amount": base,
                "base_currency": str(variant.price.currency),
                "origin": "fixed" if fixed is not None else "rule",
                "rate": rate,
                "rate_source": params["rate_source"],
                "rate_date": params["rate_date"],
                "rule": params["rule"],
                "landed_cost_amount": Decimal(0) if fixed is not None else quantize(landed, currency),
                "duty_rate_id": duty.pk if duty else None,
            }
    return prices


def market_prices_recompute_naive(*, shop_id: int, market_ids: list[int] | None = None, variant_ids=None) -> int:
    """The per-object ORM loop the bulk path replaces (kept for the benchmark's comparison)."""
    from catalog.models import ProductVariant
    from localization.money import convert_price

    shop = Shop.objects.get(pk=shop_id)
    markets = Market.objects.filter(is_active=True)
    if market_ids:
        markets = markets.filter(pk__in=market_ids)
    variants = ProductVariant.objects.all()
    if variant_ids is not None:
        variants = variants.filter(pk__in=variant_ids)
    count = 0
    for market in markets:
        params = market_params(market, shop)
        if params is None:
            continue
        for variant in variants.iterator():
            amount = convert_price(
                amount=variant.price.amount,
                rate=params["rate"],
                adjustment_percent=market.adjustment_percent,
                rule=market.rounding_rule,
                currency=market.currency,
            )
            MarketPrice.objects.update_or_create(
                shop_id=shop_id,
                market=market,
                variant=variant,
                defaults={
                    "currency": market.currency,
                    "amount": amount,
                    "base_amount": variant.price.amount,
                    "base_currency": str(variant.price.currency),
                    "origin": "rule",
                    "rate": params["rate"],
                    "rate_source": params["rate_source"],
                    "rate_date": params["rate_date"],
                    "rule": params["rule"],
                },
            )
            count += 1
    return count
