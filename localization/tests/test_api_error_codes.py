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


def test_a_price_override_for_an_unknown_market_or_sku_names_which(api_a, api_b):
    market = api_a.post("/api/v1/markets/", EU, format="json").json()["id"]
    payload = {"market": market, "sku": "NOPE-1", "fixed_price": "9.90"}
    assert _codes(api_a.post("/api/v1/prices/overrides/", payload, format="json")) == {"sku": "sku_not_found"}
    # Charlie's key knows neither alice's market nor her SKUs.
    codes = _codes(api_b.post("/api/v1/prices/overrides/", payload, format="json"))
    assert codes == {"market": "market_not_found", "sku": "sku_not_found"}


def test_a_quote_in_a_currency_without_a_rate_is_rate_not_found(api_a):
    quote = {
        "destination_country": "GB",
        "currency": "USD",
        "quote_currency": "XAU",
        "items": [{"unit_price": "10", "quantity": 1, "hs_code": "610910"}],
    }
    assert _codes(api_a.post("/api/v1/landed-cost/quotes/", quote, format="json")) == {
        "quote_currency": "rate_not_found"
    }
