"""The demo shop's markets: the EU, the UK, Japan and Canada, priced from manual rates."""

from __future__ import annotations

from decimal import Decimal

DEMO_MARKETS = [
    {
        "name": "European Union",
        "countries": ["FR", "DE", "IT", "ES", "NL", "BE", "AT", "IE"],
        "currency": "EUR",
        "languages": ["en", "fr", "de"],
        "tax_inclusive": True,
        "duty_mode": "DDP",
        "adjustment_percent": Decimal("1.5"),
        "rounding": "end_90",
        "rate_mode": "manual",
    },
    {
        "name": "United Kingdom",
        "countries": ["GB"],
        "currency": "GBP",
        "languages": ["en-GB"],
        "tax_inclusive": True,
        "duty_mode": "DDP",
        "rounding": "end_99",
        "rate_mode": "manual",
    },
    {
        "name": "Japan",
        "countries": ["JP"],
        "currency": "JPY",
        "languages": ["ja"],
        "tax_inclusive": True,
        "duty_mode": "DAP",
        "rounding": "nearest_100",
        "rate_mode": "manual",
    },
    {
        "name": "Canada",
        "countries": ["CA"],
        "currency": "CAD",
        "languages": ["en-CA", "fr-CA"],
        "tax_inclusive": False,
        "duty_mode": "DAP",
        "rounding": "end_99",
        "rate_mode": "manual",
    },
]

# The demo's markets price from manual rates, so every market has prices on a machine that
# cannot reach the ECB (switch a market to automatic once the daily fetch has run).
DEMO_RATES = {("USD", "EUR"): "0.867519", ("USD", "GBP"): "0.7640", ("USD", "JPY"): "157.70", ("USD", "CAD"): "1.4126"}


def seed_demo_markets(*, shop, fresh, owner=None, base_url="") -> None:
    from localization.models import ExchangeRate, Market
    from localization.services import exchange_rate_set_manual, market_create

    if not fresh:
        return
    for (base, quote), rate in DEMO_RATES.items():
        if base != shop.default_currency:
            continue
        if not ExchangeRate.objects.filter(shop=shop, base=base, quote=quote).exists():
            exchange_rate_set_manual(shop=shop, base=base, quote=quote, rate=rate)
    for spec in DEMO_MARKETS:
        if not Market.objects.filter(name=spec["name"]).exists():
            market_create(shop=shop, **spec)
