"""alice (owner) / bob (editor) / charlie (other shop) / a viewer, for every view and endpoint."""

from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import api_client_for, login, make_user
from localization.models import ExchangeRate, Market
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def home_market(shop):
    with shop_context(shop):
        return Market.objects.get(is_home=True)


def test_every_shop_gets_a_home_market(shop_a, shop_b):
    a, b = home_market(shop_a), home_market(shop_b)
    assert (a.countries, a.currency, a.languages, a.tax_inclusive) == (["US"], "USD", ["en"], False)
    assert (b.countries, b.currency, b.languages, b.tax_inclusive) == (["FR"], "EUR", ["fr"], True)


@pytest.fixture
def viewer_client(client, shop_a):
    user = make_user("vera@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=user, role=Role.VIEWER)
    return login(client, user)


PAGES = ["localization:market-list", "localization:exchange-rates", "localization:calculator"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_for_members_and_strangers(name, alice_client, shop_a):
    assert alice_client.get(reverse(name, args=[shop_a.slug])).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_charlie_cannot_see_shop_a_pages(name, charlie_client, shop_a):
    assert charlie_client.get(reverse(name, args=[shop_a.slug])).status_code == 404


def market_post(name="United Kingdom", rounding="end_99", currency="GBP"):
    return {
        "name": name,
        "countries": "GB",
        "currency": currency,
        "languages": "en-GB",
        "tax_inclusive": "on",
        "duty_mode": "DDP",
        "ddp_pricing": "absorb",
        "rate_mode": "automatic",
        "adjustment_percent": "2.5",
        "rounding": rounding,
        "is_active": "on",
    }


def test_bob_the_editor_creates_and_edits_a_market(bob_client, shop_a):
    url = reverse("localization:market-create", args=[shop_a.slug])
    assert bob_client.get(url).status_code == 200
    response = bob_client.post(url, market_post())
    assert response.status_code == 302
    with shop_context(shop_a):
        market = Market.objects.get(name="United Kingdom")
        assert market.rounding_preset == "end_99" and str(market.adjustment_percent) == "2.500"
    edit = reverse("localization:market-edit", args=[shop_a.slug, market.pk])
    assert bob_client.post(edit, market_post(rounding="end_90")).status_code == 302
    with shop_context(shop_a):
        assert Market.objects.get(pk=market.pk).rounding_preset == "end_90"


def test_form_rejects_a_cent_ending_in_yen(alice_client, shop_a):
    url = reverse("localization:market-create", args=[shop_a.slug])
    response = alice_client.post(url, market_post(name="Japan", currency="JPY", rounding="end_99"))
    assert response.status_code == 200
    assert "cannot end in" in response.content.decode()


def test_viewer_cannot_write(viewer_client, shop_a):
    assert viewer_client.get(reverse("localization:market-list", args=[shop_a.slug])).status_code == 200
    assert viewer_client.get(reverse("localization:market-create", args=[shop_a.slug])).status_code == 403
    rates = reverse("localization:exchange-rates", args=[shop_a.slug])
    assert viewer_client.post(rates, {"base": "USD", "quote": "GBP", "rate": "0.76"}).status_code == 403


def test_charlie_cannot_edit_shop_a_market(charlie_client, shop_a, shop_b):
    market = home_market(shop_a)
    assert charlie_client.get(reverse("localization:market-edit", args=[shop_a.slug, market.pk])).status_code == 404
    # Nor through his own shop's URL: the object is not in his shop.
    assert charlie_client.get(reverse("localization:market-edit", args=[shop_b.slug, market.pk])).status_code == 404


def test_home_market_cannot_be_deleted(alice_client, shop_a):
    market = home_market(shop_a)
    alice_client.post(reverse("localization:market-delete", args=[shop_a.slug, market.pk]))
    with shop_context(shop_a):
        assert Market.objects.filter(pk=market.pk).exists()


def test_calculator_page_quotes(alice_client, shop_a, ecb_rates):
    data = {
        "destination_country": "GB",
        "currency": "USD",
        "quote_currency": "USD",
        "incoterm": "DDP",
        "shipping": "52",
        "insurance": "16",
        "tax_rate": "0.18",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "Widget",
        "items-0-hs_code": "999999",
        "items-0-unit_price": "932",
        "items-0-quantity": "1",
    }
    response = alice_client.post(reverse("localization:calculator", args=[shop_a.slug]), data)
    assert response.status_code == 200
    # No duty rate for 999999: 18% of CIF 1,000.
    assert response.context["result"].import_tax.amount == Decimal("180.00")


def test_rates_page_sets_a_manual_rate(bob_client, shop_a):
    rates = reverse("localization:exchange-rates", args=[shop_a.slug])
    assert bob_client.post(rates, {"base": "USD", "quote": "GBP", "rate": "0.76"}).status_code == 302
    with shop_context(shop_a):
        assert ExchangeRate.objects.filter(source="manual").count() == 1


# --- API -------------------------------------------------------------------------------------


def test_api_markets_are_scoped_to_the_key(api_a, api_b, shop_a):
    market = home_market(shop_a)
    assert [m["id"] for m in api_a.get("/api/v1/markets/").json()["results"]] == [market.pk]
    assert api_b.get(f"/api/v1/markets/{market.pk}/").status_code == 404
    assert api_b.patch(f"/api/v1/markets/{market.pk}/", {"name": "x"}, format="json").status_code == 404


def test_api_create_market_and_validation(api_a):
    response = api_a.post(
        "/api/v1/markets/",
        {
            "name": "EU",
            "countries": ["fr", "DE"],
            "currency": "EUR",
            "languages": ["fr"],
            "adjustment_percent": "1.5",
            "rounding": "end_90",
            "duty_mode": "DDP",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["countries"] == ["FR", "DE"] and body["rounding_preset"] == "end_90"
    bad = api_a.post(
        "/api/v1/markets/",
        {"name": "JP", "countries": ["ZZ"], "currency": "JPY", "languages": ["ja"], "rounding": "end_99"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json()["errors"]} == {"countries.0"}


def test_api_manual_rate_contract(api_a, shop_a):
    response = api_a.post("/api/v1/exchange-rates/", {"base": "USD", "quote": "GBP", "rate": "0.76"}, format="json")
    assert response.status_code == 201
    assert response.json()["source"] == "manual"
    listed = api_a.get("/api/v1/exchange-rates/?source=manual").json()["results"]
    assert [(r["base"], r["quote"], r["rate"]) for r in listed] == [("USD", "GBP", "0.7600000000")]


def test_api_manual_rates_of_other_shops_are_invisible(api_a, api_b):
    api_a.post("/api/v1/exchange-rates/", {"base": "USD", "quote": "GBP", "rate": "0.76"}, format="json")
    assert api_b.get("/api/v1/exchange-rates/").json()["results"] == []


def test_api_scopes(shop_a):
    read_only = api_client_for(shop_a, ["localization:read"], name="ro")
    assert read_only.get("/api/v1/markets/").status_code == 200
    assert (
        read_only.post(
            "/api/v1/exchange-rates/", {"base": "USD", "quote": "GBP", "rate": "1"}, format="json"
        ).status_code
        == 403
    )
    quote = {
        "destination_country": "GB",
        "currency": "USD",
        "items": [{"unit_price": "10", "quantity": 1, "hs_code": "610910"}],
    }
    assert read_only.post("/api/v1/landed-cost/quotes/", quote, format="json").status_code != 403
    catalog_only = api_client_for(shop_a, ["catalog:read"], name="cat")
    assert catalog_only.get("/api/v1/markets/").status_code == 403
    assert catalog_only.post("/api/v1/landed-cost/quotes/", quote, format="json").status_code == 403


ISSUE_REQUEST = {
    "destination_country": "GB",
    "origin_country": "US",
    "currency": "USD",
    "quote_currency": "USD",
    "incoterm": "DDP",
    "shipping": "30.00",
    "insurance": "0.00",
    "tax_rate": "0.20",
    "items": [
        {"sku": "TEE-RED-M", "quantity": 1},
        {
            "description": "Silk scarf",
            "hs_code": "6214.10",
            "unit_price": "180.00",
            "quantity": 1,
            "weight_kg": "0.2",
            "origin_country": "CN",
            "duty_rate": "0.045",
        },
    ],
}


def test_api_quote_with_the_issue_request(api_a, shop_a, ecb_rates):
    from catalog.tests.factories import make_product

    with shop_context(shop_a):
        make_product("Red tee", skus=["TEE-RED-M"], price="25.00", hs_code="6109.10", country_of_origin="US")
    response = api_a.post("/api/v1/landed-cost/quotes/", ISSUE_REQUEST, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    for key in (
        "quote_currency",
        "goods",
        "shipping",
        "insurance",
        "duty",
        "import_tax",
        "fees",
        "total",
        "lines",
        "basis",
        "de_minimis",
        "exchange_rates",
        "dataset_version",
    ):
        assert key in body
    assert body["goods"] == "205.00" and body["basis"] == "CIF"
    assert body["lines"][0]["hs_code"] == "610910" and body["lines"][1]["duty_rate"] == "0.04500"
    assert set(body["de_minimis"]) >= {"duty_exempt", "tax_exempt", "tax_collected_at_checkout", "rule"}


def test_api_quote_names_each_bad_field(api_a):
    response = api_a.post(
        "/api/v1/landed-cost/quotes/",
        {
            "destination_country": "XX",
            "currency": "DOLLARS",
            "shipping": "-1",
            "items": [{"sku": "NOPE", "quantity": 1}, {"unit_price": "-5", "quantity": 1, "hs_code": "62.14"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"destination_country", "currency", "shipping", "items.1.unit_price", "items.1.hs_code"} <= fields


def test_api_quote_unknown_sku(api_a):
    response = api_a.post(
        "/api/v1/landed-cost/quotes/",
        {"destination_country": "GB", "currency": "GBP", "items": [{"sku": "NOPE", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["items.0.sku"]


def test_api_quote_cannot_use_another_shops_sku(api_b, shop_a):
    from catalog.tests.factories import make_product

    with shop_context(shop_a):
        make_product("Red tee", skus=["TEE-RED-M"], price="25.00")
    response = api_b.post(
        "/api/v1/landed-cost/quotes/",
        {"destination_country": "GB", "currency": "EUR", "items": [{"sku": "TEE-RED-M", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400


def test_market_prices_page(bob, charlie, shop_a, shop_b):
    from django.test import Client

    from catalog.tests.factories import make_product
    from localization.pricing import market_prices_recompute

    with shop_context(shop_a):
        make_product("Tee", skus=["TEE-1"], price="10.00")
        market_prices_recompute(shop_id=shop_a.pk)
    market = home_market(shop_a)
    bob_c, charlie_c = Client(), Client()
    bob_c.force_login(bob)
    charlie_c.force_login(charlie)
    url = reverse("localization:market-prices", args=[shop_a.slug, market.pk])
    response = bob_c.get(url)
    assert response.status_code == 200 and "TEE-1" in response.content.decode()
    assert bob_c.post(url, {"sku": "TEE-1", "fixed_price": "12.00"}).status_code == 302
    with shop_context(shop_a):
        from localization.models import MarketVariantPrice

        assert MarketVariantPrice.objects.get().fixed_price == 12
    assert bob_c.post(url, {"sku": "NOPE", "fixed_price": "12.00"}).status_code == 200
    assert charlie_c.get(url).status_code == 404
    assert charlie_c.get(reverse("localization:market-prices", args=[shop_b.slug, market.pk])).status_code == 404


def test_tax_page_and_override(bob, shop_a, viewer_client):
    from django.test import Client

    url = reverse("localization:tax-rates", args=[shop_a.slug])
    assert viewer_client.get(url).status_code == 200
    assert (
        viewer_client.post(
            url, {"country": "US", "region": "NY", "category": "standard", "rate": "0.08875"}
        ).status_code
        == 403
    )
    bob_c = Client()
    bob_c.force_login(bob)
    assert (
        bob_c.post(url, {"country": "US", "region": "NY", "category": "standard", "rate": "0.08875"}).status_code == 302
    )
    with shop_context(shop_a):
        from localization.models import ShopTaxRate

        assert ShopTaxRate.objects.get().rate == Decimal("0.08875")
