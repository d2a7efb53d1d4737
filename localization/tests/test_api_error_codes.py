"""The localization app's domain error codes reach a partner in problem+json (`errors[].code`)."""

import pytest

pytestmark = pytest.mark.django_db

EU = {"name": "EU", "countries": ["FR", "DE"], "currency": "EUR", "languages": ["fr"], "duty_mode": "DDP"}


def _codes(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_a_taken_market_name_is_market_name_taken(api_a):
    assert api_a.post("/api/v1/markets/", EU, format="json").status_code == 201
    assert _codes(api_a.post("/api/v1/markets/", EU, format="json")) == {"name": "market_name_taken"}


def test_market_checks_carry_codes(api_a):
    codes = _codes(api_a.post("/api/v1/markets/", {**EU, "adjustment_percent": "-100"}, format="json"))
    assert codes == {"adjustment_percent": "adjustment_too_low"}


def test_an_exchange_rate_to_its_own_currency_is_same_currency(api_a):
    response = api_a.post("/api/v1/exchange-rates/", {"base": "USD", "quote": "USD", "rate": "1"}, format="json")
    assert _codes(response) == {"quote": "same_currency"}
