"""Landed-cost quotes priced with a shipping rate: the service, the API and the calculator page.

The worked example is export.gov's CIF example (DESIGN.md §5) with its freight coming from a rate:

    2 scarves at $466.00, 0.600 kg each          goods       $932.00
    parcel 1,200 g → 2 started kg
    rate "Courier": $48.00 + $2.00 per started kg  shipping     $52.00   (48 + 2 x 2)
    insurance                                                  $16.00
                                                  CIF       $1,000.00
    duty 7% of CIF                                              $70.00
    VAT 18% of CIF + duty ($1,070.00)                          $192.60
    landed                                                   $1,262.60

The same basket with a "free from $900" rate ships for $0.00: CIF $948.00, duty $66.36, VAT 18% of
$1,014.36 = $182.58 (182.5848), landed $1,196.94.

A rate of a market in another currency is priced in that currency and converted: a UK market in
GBP (1 GBP = 1.25 USD, set as the shop's manual rates) with "Royal Mail" £8.00, free from £700.00.
One scarf ($466.00 = £372.80, below £700) pays £8.00 = $10.00: with the $16.00 insurance CIF
$492.00, duty 7% $34.44, VAT 18% of $526.44 = $94.76 (94.7592), landed $621.20. Two scarves
($932.00 = £745.60) ship free.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from localization import services
from localization.api import LandedCostQuoteSerializer
from localization.landed_cost import QuoteItem, QuoteRequest, basket_weight_grams, quote_landed_cost
from localization.models import Market
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db
D = Decimal
SCARF = {"unit_price": D("466.00"), "hs_code": "621410", "weight_kg": D("0.600"), "duty_rate": D("0.07")}


@pytest.fixture
def uk_usd(in_shop_a):
    """A market for the UK priced in US dollars (the shop's currency)."""
    return services.market_create(shop=in_shop_a, name="UK in USD", countries=["GB"], currency="USD", languages=["en"])


@pytest.fixture
def courier(uk_usd):
    return services.shipping_rate_create(
        market=uk_usd, name="Courier", kind="weight", amount=D("48.00"), per_kg_amount=D("2.00")
    )


def quote(shop, *, scarves=2, **kw):
    request = QuoteRequest(
        destination_country="GB",
        currency="USD",
        quote_currency="USD",
        insurance=D("16"),
        tax_rate=D("0.18"),
        items=[QuoteItem(quantity=scarves, **SCARF)],
        **kw,
    )
    result = quote_landed_cost(request, shop_id=shop.pk)
    return result, LandedCostQuoteSerializer(result).data


def test_the_parcel_weighs_every_unit_in_whole_grams_up():
    assert basket_weight_grams([QuoteItem(quantity=2, unit_price=D("1"), weight_kg=D("0.600"))]) == 1200
    assert basket_weight_grams([QuoteItem(quantity=3, unit_price=D("1"), weight_kg=D("0.0001"))]) == 1  # 0.3 g
    assert basket_weight_grams([QuoteItem(quantity=1, unit_price=D("1"))]) == 0


def test_worked_example_a_rate_by_weight_is_the_freight_of_the_cif_example(in_shop_a, ecb_rates, courier):
    _, data = quote(in_shop_a, shipping_rate_id=courier.pk)
    assert (data["goods"], data["shipping"], data["insurance"]) == ("932.00", "52.00", "16.00")
    assert (data["duty"], data["import_tax"], data["total"]) == ("70.00", "192.60", "1262.60")
    assert data["shipping_rate"] == {"id": courier.pk, "name": "Courier", "amount": "52.00", "currency": "USD"}
    assert data["weight_grams"] == 1200
    assert data["warnings"] == [] or all("shipping" not in w for w in data["warnings"])


def test_worked_example_free_over_ships_free_at_or_above_its_threshold(in_shop_a, ecb_rates, uk_usd):
    free = services.shipping_rate_create(
        market=uk_usd, name="Free over $900", kind="free_over", amount=D("25.00"), free_over=D("900.00")
    )
    _, data = quote(in_shop_a, shipping_rate_id=free.pk)
    assert (data["shipping"], data["duty"], data["import_tax"], data["total"]) == ("0.00", "66.36", "182.58", "1196.94")
    # At exactly the threshold it is free too; a cent below, it costs its amount.
    services.shipping_rate_update(rate=free, free_over=D("932.00"))
    assert quote(in_shop_a, shipping_rate_id=free.pk)[1]["shipping"] == "0.00"
    services.shipping_rate_update(rate=free, free_over=D("932.01"))
    assert quote(in_shop_a, shipping_rate_id=free.pk)[1]["shipping"] == "25.00"


def test_worked_example_a_rate_in_another_currency_is_converted(in_shop_a, ecb_rates):
    services.exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="GBP", rate="0.8")
    services.exchange_rate_set_manual(shop=in_shop_a, base="GBP", quote="USD", rate="1.25")
    uk = services.market_create(shop=in_shop_a, name="UK", countries=["GB"], currency="GBP", languages=["en-GB"])
    royal_mail = services.shipping_rate_create(
        market=uk, name="Royal Mail", kind="free_over", amount=D("8.00"), free_over=D("700.00")
    )
    _, data = quote(in_shop_a, scarves=1, shipping_rate_id=royal_mail.pk)
    assert data["shipping_rate"] == {"id": royal_mail.pk, "name": "Royal Mail", "amount": "8.00", "currency": "GBP"}
    assert (data["goods"], data["shipping"], data["duty"], data["import_tax"], data["total"]) == (
        "466.00",
        "10.00",
        "34.44",
        "94.76",
        "621.20",
    )
    assert "GBP/USD" in {rate["pair"] for rate in data["exchange_rates"]}
    _, two = quote(in_shop_a, scarves=2, shipping_rate_id=royal_mail.pk)
    assert two["shipping"] == "0.00"  # $932.00 = £745.60, over £700.00


def test_without_a_rate_the_shipping_amount_is_used_as_before(in_shop_a, ecb_rates, courier):
    _, data = quote(in_shop_a, shipping=D("52"))
    assert (data["shipping"], data["total"], data["shipping_rate"], data["weight_grams"]) == (
        "52.00",
        "1262.60",
        None,
        None,
    )


def test_a_rate_outside_its_band_or_inactive_is_refused_with_the_reason(in_shop_a, ecb_rates, courier):
    services.shipping_rate_update(rate=courier, max_weight_grams=1000)
    with pytest.raises(ValidationError) as caught:
        quote(in_shop_a, shipping_rate_id=courier.pk)
    (error,) = caught.value.error_dict["shipping_rate"]
    assert error.code == "shipping_rate_not_offered" and "1200 grams" in error.message
    services.shipping_rate_update(rate=courier, max_weight_grams=None, is_active=False)
    with pytest.raises(ValidationError) as caught:
        quote(in_shop_a, shipping_rate_id=courier.pk)
    assert "not active" in caught.value.error_dict["shipping_rate"][0].message


def test_a_rate_of_a_market_that_does_not_ship_there_is_used_with_a_warning(in_shop_a, ecb_rates):
    home = Market.objects.get(is_home=True)  # the US
    rate = services.shipping_rate_create(market=home, name="USPS", kind="flat", amount=D("52.00"))
    _, data = quote(in_shop_a, shipping_rate_id=rate.pk)
    assert data["shipping"] == "52.00"
    assert any("does not ship to GB" in w for w in data["warnings"])


# --- The API -----------------------------------------------------------------------------------

QUOTES = "/api/v1/landed-cost/quotes/"


def api_quote(**over):
    return {
        "destination_country": "GB",
        "currency": "USD",
        "quote_currency": "USD",
        "insurance": "16",
        "tax_rate": "0.18",
        "items": [
            {"unit_price": "466.00", "hs_code": "621410", "weight_kg": "0.6", "duty_rate": "0.07", "quantity": 2}
        ],
        **over,
    }


def test_the_api_quotes_with_a_shipping_rate(api_a, shop_a, ecb_rates, courier):
    response = api_a.post(QUOTES, api_quote(shipping_rate=courier.pk), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["shipping"], body["total"], body["shipping_rate"]["name"]) == ("52.00", "1262.60", "Courier")


def test_the_api_refuses_a_rate_and_an_amount_together(api_a, courier):
    response = api_a.post(QUOTES, api_quote(shipping_rate=courier.pk, shipping="10"), format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["shipping"]


def test_the_api_names_why_a_rate_cannot_be_used(api_a, shop_a, courier):
    with shop_context(shop_a):
        services.shipping_rate_update(rate=courier, min_weight_grams=5000)
    response = api_a.post(QUOTES, api_quote(shipping_rate=courier.pk), format="json")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert {e["field"]: e["code"] for e in response.json()["errors"]} == {"shipping_rate": "shipping_rate_not_offered"}
    response = api_a.post(QUOTES, api_quote(shipping_rate=2**62), format="json")
    assert {e["field"]: e["code"] for e in response.json()["errors"]} == {"shipping_rate": "shipping_rate_not_found"}


def test_charlie_cannot_quote_with_alices_rate(api_b, ecb_rates, courier):
    response = api_b.post(QUOTES, api_quote(shipping_rate=courier.pk), format="json")
    assert response.status_code == 400
    assert {e["field"]: e["code"] for e in response.json()["errors"]} == {"shipping_rate": "shipping_rate_not_found"}


# --- The calculator page -----------------------------------------------------------------------


def calculator_post(**over):
    data = {
        "destination_country": "GB",
        "currency": "USD",
        "quote_currency": "USD",
        "incoterm": "DDP",
        "shipping": "0",
        "insurance": "16",
        "tax_rate": "0.18",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "20",
        "items-0-unit_price": "466",
        "items-0-quantity": "2",
        "items-0-weight_kg": "0.6",
        "items-0-hs_code": "621410",
        "items-0-duty_rate": "0.07",
    }
    data.update(over)
    return data


def test_the_calculator_offers_the_markets_rates_and_uses_the_one_picked(alice_client, shop_a, ecb_rates, courier):
    url = reverse("localization:calculator", args=[shop_a.slug])
    page = alice_client.get(url).content.decode()
    assert "UK in USD" in page and "Courier — $48.00 + $2.00 per kg" in page
    # The rate prices the shipping; an amount typed in the shipping box is not added to it.
    response = alice_client.post(url, calculator_post(shipping_rate=str(courier.pk), shipping="99"))
    result = response.context["result"]
    assert result is not None, response.context["problems"] or response.context["form"].errors
    assert (result.shipping, result.total, result.shipping_rate.name) == (D("52.00"), D("1262.60"), "Courier")
    assert "Courier: $52.00 for 1,200 g" in response.content.decode()


def test_the_calculator_says_why_a_rate_cannot_be_used(alice_client, shop_a, ecb_rates, courier):
    with shop_context(shop_a):
        services.shipping_rate_update(rate=courier, max_weight_grams=1000)
    url = reverse("localization:calculator", args=[shop_a.slug])
    response = alice_client.post(url, calculator_post(shipping_rate=str(courier.pk)))
    assert response.status_code == 200 and response.context["result"] is None
    assert "1200 grams" in " ".join(response.context["form"].errors["shipping_rate"])


def test_charlie_cannot_pick_alices_rate_in_his_calculator(charlie_client, shop_b, ecb_rates, courier):
    url = reverse("localization:calculator", args=[shop_b.slug])
    response = charlie_client.post(url, calculator_post(shipping_rate=str(courier.pk)))
    assert response.status_code == 200 and response.context["result"] is None
    assert "shipping_rate" in response.context["form"].errors
