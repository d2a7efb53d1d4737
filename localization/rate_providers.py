"""A second source of exchange rates, for the currencies the ECB does not publish (BDT, PKR,
LKR, NPR…).

A deployment names a provider class in `EXCHANGE_RATE_PROVIDER` (default: `JsonRatesProvider`)
and its address in `EXCHANGE_RATE_PROVIDER_URL`; without an address nothing is fetched. A
provider's `fetch` returns one day of rates from a single base currency; the
`localization.provider_rates_fetch` task stores them as shared rows (no shop, source
`provider`) that every shop reads after the ECB's (localization.rates.rate_for).

`JsonRatesProvider` reads the shape most rate services answer with:
`{"base": "USD", "date": "2026-12-01", "rates": {"BDT": 122.35, "PKR": 280.1}}` — or a Unix
`timestamp` instead of `date` — sending `EXCHANGE_RATE_PROVIDER_KEY`, when set, as a bearer
token. Another service is a class with the same `fetch`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from shopadmin.validators import validate_currency_code


class ProviderError(ValueError):
    """The provider answered something that is not a day of rates."""


@dataclass(frozen=True)
class ProviderDay:
    base: str
    date: dt.date
    effective_at: dt.datetime
    rates: dict[str, Decimal]


class JsonRatesProvider:
    def __init__(self, url: str, key: str = ""):
        self.url, self.key = url, key

    def fetch(self, client: httpx.Client) -> ProviderDay:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        response = client.get(self.url, headers=headers)
        response.raise_for_status()
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError("The rate provider did not answer JSON.") from exc
        return parse_rates(body)


def _currency(code) -> str:
    code = str(code or "").upper()
    try:
        validate_currency_code(code)
    except Exception as exc:
        raise ProviderError(f"{code!r} is not a currency code.") from exc
    return code


def parse_rates(body) -> ProviderDay:
    """A day of rates from the provider's JSON; anything else is a ProviderError."""
    if not isinstance(body, dict) or not isinstance(body.get("rates"), dict):
        raise ProviderError("The answer has no `rates` object.")
    base = _currency(body.get("base"))
    if isinstance(body.get("timestamp"), int):
        effective_at = dt.datetime.fromtimestamp(body["timestamp"], tz=dt.UTC)
        date = effective_at.date()
    else:
        try:
            date = dt.date.fromisoformat(str(body.get("date")))
        except ValueError as exc:
            raise ProviderError("The answer has neither a `date` nor a `timestamp`.") from exc
        effective_at = dt.datetime.combine(date, dt.time(0, 0), tzinfo=dt.UTC)
    rates = {}
    for code, value in body["rates"].items():
        code = _currency(code)
        try:
            rate = Decimal(str(value))
        except InvalidOperation as exc:
            raise ProviderError(f"The rate of {code} is not a number.") from exc
        if not rate.is_finite() or rate <= 0:
            raise ProviderError(f"The rate of {code} is not a positive number.")
        if code != base:
            rates[code] = rate
    if not rates:
        raise ProviderError("The answer holds no rates.")
    return ProviderDay(base=base, date=date, effective_at=effective_at, rates=rates)


def configured_provider():
    """The deployment's provider, or None when no address is configured."""
    url = getattr(settings, "EXCHANGE_RATE_PROVIDER_URL", "")
    if not url:
        return None
    path = getattr(settings, "EXCHANGE_RATE_PROVIDER", "") or "localization.rate_providers.JsonRatesProvider"
    return import_string(path)(url=url, key=getattr(settings, "EXCHANGE_RATE_PROVIDER_KEY", ""))
