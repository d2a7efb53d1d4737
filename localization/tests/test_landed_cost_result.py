"""The landed-cost quote as a typed result, formatted by the API and by the calculator page,
which takes every field of the request the API takes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from localization.api import LandedCostQuoteSerializer
from localization.landed_cost import DutyLine, ImportTax, LandedCostQuote, QuoteItem, QuoteRequest, quote_landed_cost
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db
D = Decimal
ON = dt.date(2025, 11, 21)  # the day of the sample ECB feed

# A shirt to Ontario as of the feed's day, with the item's own duty rate.
API_REQUEST = {
    "destination_country": "CA",
    "destination_region": "ON",
    "currency": "USD",
    "quote_currency": "CAD",
    "incoterm": "DAP",
    "shipping": "20",
    "date": ON.isoformat(),
    "items": [{"description": "Shirt", "hs_code": "610910", "unit_price": "100", "quantity": 2, "duty_rate": "0.05"}],
}


def engine_request(**changes):
    item = QuoteItem(quantity=2, unit_price=D("100"), hs_code="610910", description="Shirt", duty_rate=D("0.05"))
    request = QuoteRequest(
        destination_country="CA",
        destination_region="ON",
        currency="USD",
        quote_currency="CAD",
        incoterm="DAP",
        shipping=D("20"),
        date=ON,
        items=[item],
    )
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def test_the_quote_is_typed_and_the_api_formats_it(in_shop_a, ecb_rates):
    quote = quote_landed_cost(engine_request(), shop_id=in_shop_a.pk)
    assert isinstance(quote, LandedCostQuote) and isinstance(quote.import_tax, ImportTax)
    assert quote.quote_currency == "CAD" and quote.date == ON and quote.duties_paid_by == "buyer"
    [line] = quote.lines
    assert isinstance(line, DutyLine) and line.duty_rate == D("0.05") and line.sku is None
    assert all(isinstance(v, Decimal) for v in (quote.goods, quote.duty, quote.import_tax.amount, quote.total))
    assert quote.total == quote.goods + quote.shipping + quote.insurance + quote.duty + quote.import_tax.amount
    data = LandedCostQuoteSerializer(quote).data
    assert data["total"] == str(quote.total) and data["import_tax"] == str(quote.import_tax.amount)
    assert data["import_tax_detail"]["rate"] == str(quote.import_tax.rate)
    assert data["lines"][0]["duty_rate"] == "0.05" and data["lines"][0]["sku"] is None
    assert data["date"] == "2025-11-21" and data["de_minimis"]["rule"] == data["de_minimis"]["duty_rule"]
    assert [r["pair"] for r in data["exchange_rates"]] == ["USD/CAD"]


def test_the_region_changes_the_import_tax(in_shop_a, ecb_rates):
    ontario = quote_landed_cost(engine_request(), shop_id=in_shop_a.pk).import_tax
    federal = quote_landed_cost(engine_request(destination_region=""), shop_id=in_shop_a.pk).import_tax
    assert ontario.rate != federal.rate


def test_the_calculator_page_takes_the_region_date_and_duty_rate_the_api_takes(alice_client, api_a, shop_a, ecb_rates):
    page = alice_client.post(
        reverse("localization:calculator", args=[shop_a.slug]),
        {
            "destination_country": "CA",
            "destination_region": "ON",
            "currency": "USD",
            "quote_currency": "CAD",
            "incoterm": "DAP",
            "shipping": "20",
            "insurance": "0",
            "date": ON.isoformat(),
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-description": "Shirt",
            "items-0-hs_code": "610910",
            "items-0-unit_price": "100",
            "items-0-quantity": "2",
            "items-0-duty_rate": "0.05",
        },
    )
    assert page.status_code == 200 and page.context["problems"] == []
    quote = page.context["result"]
    assert quote.date == ON and quote.lines[0].duty_rate == D("0.05")
    with shop_context(shop_a):
        assert quote == quote_landed_cost(engine_request(), shop_id=shop_a.pk)
    # The page and the API quote the same request alike.
    api = api_a.post("/api/v1/landed-cost/quotes/", API_REQUEST, format="json")
    assert api.status_code == 200, api.json()
    assert api.json() == LandedCostQuoteSerializer(quote).data
    html = page.content.decode()
    assert 'name="destination_region"' in html and 'name="date"' in html and 'name="items-0-duty_rate"' in html


def test_the_calculator_explains_in_the_readers_language_and_the_api_in_english(alice_client, api_a, shop_a, ecb_rates):
    form = {
        "destination_country": "CA",
        "currency": "USD",
        "quote_currency": "CAD",
        "incoterm": "DAP",
        "shipping": "0",
        "insurance": "0",
        "date": ON.isoformat(),
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-0-description": "Shirt",
        "items-0-hs_code": "610910",
        "items-0-unit_price": "100",
        "items-0-quantity": "1",
        "items-0-duty_rate": "0.05",
        "items-1-description": "Mystery",
        "items-1-hs_code": "999999",
        "items-1-unit_price": "100",
        "items-1-quantity": "1",
    }
    alice_client.post("/i18n/setlang/", {"language": "fr", "next": f"/app/{shop_a.slug}/"})
    page = alice_client.post(reverse("localization:calculator", args=[shop_a.slug]), form)
    assert page.status_code == 200 and page.context["problems"] == []
    html = page.content.decode()
    assert "taux propre à l\u2019article, 0.05 ad valorem sur FOB" in html
    assert "aucun taux de droit pour le SH 999999 vers CA" in html and "droit de 0 retenu" in html
    assert "duty 0 assumed" not in html and "ad valorem on" not in html
    assert "cross via EUR" not in html  # the rate's source in words too

    request = {
        **API_REQUEST,
        "destination_region": "",
        "shipping": "0",
        "items": [
            {"description": "Shirt", "hs_code": "610910", "unit_price": "100", "quantity": 1, "duty_rate": "0.05"},
            {"description": "Mystery", "hs_code": "999999", "unit_price": "100", "quantity": 1},
        ],
    }
    api = api_a.post("/api/v1/landed-cost/quotes/", request, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert api.status_code == 200, api.json()
    body = api.json()
    assert body["lines"][0]["rule"] == "the item's own rate, 0.05 ad valorem on FOB"
    assert body["warnings"] == ["items.1: no duty rate for HS 999999 to CA; duty 0 assumed"]
