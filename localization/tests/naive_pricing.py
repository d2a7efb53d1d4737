"""The per-object ORM loop that `localization.pricing.market_prices_recompute` replaces.

Not used by the app: test_pricing checks that the bulk path agrees with it, and
bench/bench_localization.py measures how much faster the bulk path is.
"""

from __future__ import annotations

from localization.models import Market, MarketPrice
from localization.pricing import market_params
from shopadmin.models import Shop


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
