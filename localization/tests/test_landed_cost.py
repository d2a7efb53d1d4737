"""DESIGN.md §5 worked examples to the cent, de-minimis boundaries with their effective dates."""

import datetime as dt
from decimal import Decimal

import pytest

from localization.api import LandedCostQuoteSerializer
from localization.landed_cost import QuoteItem, QuoteRequest, duty_rate_lookup, quote_landed_cost
from localization.models import DutyRate
from localization.services import exchange_rate_set_manual

pytestmark = pytest.mark.django_db
D = Decimal


def quote(shop, **kw):
    """The quote as the API answers it (decimal strings)."""
    items = kw.pop("items")
    return LandedCostQuoteSerializer(quote_landed_cost(QuoteRequest(items=items, **kw), shop_id=shop.pk)).data


def test_export_gov_cif_example(in_shop_a, ecb_rates):
    # Goods $932 + insurance $16 + freight $52 = CIF $1,000; duty 7% = $70; VAT 18% on $1,070.
    result = quote(
        in_shop_a,
        destination_country="GB",
        currency="USD",
        quote_currency="USD",
        shipping=D("52"),
        insurance=D("16"),
        tax_rate=D("0.18"),
        items=[QuoteItem(quantity=1, unit_price=D("932"), hs_code="999999", duty_rate=D("0.07"))],
    )
    assert result["basis"] == "CIF"
    assert (result["goods"], result["duty"], result["import_tax"], result["total"]) == (
        "932.00",
        "70.00",
        "192.60",
        "1262.60",
    )


def test_export_gov_fob_example(in_shop_a, ecb_rates):
    # Duty 7% x $932 = $65.24; VAT 18% x $997.24 = $179.50; landed $1,176.74.
    result = quote(
        in_shop_a,
        destination_country="CA",
        currency="USD",
        quote_currency="USD",
        tax_rate=D("0.18"),
        items=[QuoteItem(quantity=1, unit_price=D("932"), hs_code="999999", duty_rate=D("0.07"))],
    )
    assert result["basis"] == "FOB"
    assert (result["duty"], result["import_tax"], result["total"]) == ("65.24", "179.50", "1176.74")
    assert result["de_minimis"]["duty_exempt"] is False


def test_fob_destination_ignores_freight_for_duty(in_shop_a, ecb_rates):
    result = quote(
        in_shop_a,
        destination_country="US",
        currency="USD",
        shipping=D("50"),
        items=[QuoteItem(quantity=2, unit_price=D("500"), hs_code="610910", origin_country="CN")],
        date=dt.date(2025, 11, 21),
    )
    assert result["duty"] == "165.00"  # 16.5% of $1,000, freight not included
    assert result["import_tax"] == "0.00"
    assert result["lines"][0]["duty_rate"] == "0.16500"


def test_longest_hs_prefix_and_preferential_origin_win(db):
    on = dt.date(2025, 11, 1)
    assert duty_rate_lookup(destination="FR", origin="CN", hs_code="6214100000", on=on).hs_prefix == "621410"
    assert duty_rate_lookup(destination="DE", origin="CN", hs_code="610910", on=on).ad_valorem == D("0.12")
    assert duty_rate_lookup(destination="CA", origin="US", hs_code="61091000", on=on).ad_valorem == D("0")
    assert duty_rate_lookup(destination="CA", origin="CN", hs_code="61091000", on=on).ad_valorem == D("0.18")
    assert duty_rate_lookup(destination="JP", origin="CN", hs_code="610910", on=on) is None


def test_specific_and_compound_rates(in_shop_a, ecb_rates):
    DutyRate.objects.create(
        destination="NO",
        hs_prefix="640399",
        description="test compound",
        kind="compound",
        ad_valorem=D("0.10"),
        specific_amount=D("5"),
        specific_currency="NOK",
        specific_unit="kg",
        effective_from=dt.date(2020, 1, 1),
        source="test",
        last_checked=dt.date(2025, 1, 1),
    )
    result = quote(
        in_shop_a,
        destination_country="NO",
        currency="NOK",
        quote_currency="NOK",
        tax_rate=D("0"),
        items=[QuoteItem(quantity=2, unit_price=D("4000"), hs_code="64039900", weight_kg=D("1.5"))],
    )
    # 10% of CIF 8,000 = 800 + NOK 5/kg x 3 kg = 15.
    assert result["duty"] == "815.00"


def test_sku_item_conversion_reports_rates(in_shop_a, ecb_rates):
    result = quote(
        in_shop_a,
        destination_country="FR",
        currency="USD",
        quote_currency="EUR",
        items=[QuoteItem(quantity=1, unit_price=D("1151.20"), hs_code="610910")],
        date=dt.date(2025, 11, 21),
    )
    assert result["goods"] == "1000.00"
    assert result["duty"] == "120.00"
    assert result["import_tax"] == "224.00"  # FR 20% on CIF + duty
    assert {"pair": "USD/EUR", "date": "2025-11-21", "source": "ecb"}.items() <= result["exchange_rates"][0].items()
    assert result["dataset_version"] == "2025.12-south-asia"  # the latest dataset shipped


def gb(shop, amount, on=dt.date(2025, 11, 21)):
    return quote(
        shop,
        destination_country="GB",
        currency="GBP",
        quote_currency="GBP",
        date=on,
        items=[QuoteItem(quantity=1, unit_price=D(amount), hs_code="610910")],
    )


@pytest.mark.parametrize(("amount", "within"), [("134.99", True), ("135.00", True), ("135.01", False)])
def test_uk_135_boundary(in_shop_a, amount, within):
    result = gb(in_shop_a, amount)
    assert result["de_minimis"]["duty_exempt"] is within
    assert result["de_minimis"]["tax_collected_at_checkout"] is within
    assert result["de_minimis"]["tax_exempt"] is False  # VAT is due either way
    assert (D(result["duty"]) == 0) is within


def eu(shop, amount, on, lines=1):
    return quote(
        shop,
        destination_country="DE",
        currency="EUR",
        quote_currency="EUR",
        date=on,
        items=[QuoteItem(quantity=1, unit_price=D(amount) / lines, hs_code=f"61091{n}00") for n in range(lines)],
    )


@pytest.mark.parametrize(("amount", "within"), [("149.99", True), ("150.00", True), ("150.01", False)])
def test_eu_ioss_150_boundary(in_shop_a, amount, within):
    result = eu(in_shop_a, amount, dt.date(2026, 6, 30))
    assert result["de_minimis"]["tax_collected_at_checkout"] is within
    assert result["de_minimis"]["duty_exempt"] is within


def test_eu_flat_three_euro_duty_from_1_july_2026(in_shop_a):
    before = eu(in_shop_a, "100", dt.date(2026, 6, 30), lines=2)
    after = eu(in_shop_a, "100", dt.date(2026, 7, 1), lines=2)
    assert before["duty"] == "0.00" and before["de_minimis"]["duty_exempt"] is True
    # Two lines, two distinct subheadings (610910, 610911): €3 each.
    assert after["duty"] == "6.00" and after["de_minimis"]["duty_rule"]["code"] == "eu-flat-duty-3"
    at_threshold = eu(in_shop_a, "150", dt.date(2026, 7, 1))
    assert at_threshold["duty"] == "18.00"  # "below €150": at €150 the normal 12% applies


def test_same_subheading_pays_the_flat_duty_once(in_shop_a):
    result = quote(
        in_shop_a,
        destination_country="FR",
        currency="EUR",
        date=dt.date(2026, 7, 1),
        items=[
            QuoteItem(quantity=1, unit_price=D("20"), hs_code="61091000"),
            QuoteItem(quantity=1, unit_price=D("20"), hs_code="61091090"),
        ],
    )
    assert result["duty"] == "3.00"


def au(shop, amount):
    return quote(
        shop,
        destination_country="AU",
        currency="AUD",
        date=dt.date(2025, 11, 21),
        items=[QuoteItem(quantity=1, unit_price=D(amount), hs_code="610910")],
    )


@pytest.mark.parametrize(("amount", "within"), [("999.99", True), ("1000.00", True), ("1000.01", False)])
def test_au_1000_boundary(in_shop_a, amount, within):
    result = au(in_shop_a, amount)
    assert result["de_minimis"]["tax_collected_at_checkout"] is within
    assert result["de_minimis"]["duty_exempt"] is within
    assert result["quote_currency"] == "AUD"


@pytest.mark.parametrize(("amount", "within"), [("999.99", True), ("1000.00", True), ("1000.01", False)])
def test_nz_1000_boundary(in_shop_a, amount, within):
    result = quote(
        in_shop_a,
        destination_country="NZ",
        currency="NZD",
        date=dt.date(2025, 11, 21),
        items=[QuoteItem(quantity=1, unit_price=D(amount), hs_code="610910")],
    )
    assert result["de_minimis"]["tax_collected_at_checkout"] is within


@pytest.mark.parametrize(("amount", "within"), [("2999.99", True), ("3000.00", False), ("3000.01", False)])
def test_norway_voec_per_item_boundary(in_shop_a, amount, within):
    result = quote(
        in_shop_a,
        destination_country="NO",
        currency="NOK",
        date=dt.date(2025, 11, 21),
        items=[QuoteItem(quantity=3, unit_price=D(amount), hs_code="610910")],
    )
    # Per item: three units of NOK 2,999.99 (8,999.97 in all) still qualify.
    assert result["de_minimis"]["tax_collected_at_checkout"] is within
    assert result["import_tax"] == str((D(amount) * 3 * D("0.25")).quantize(D("0.01")))


@pytest.mark.parametrize(
    ("on", "amount", "exempt"),
    [
        (dt.date(2025, 8, 28), "800.00", True),
        (dt.date(2025, 8, 28), "800.01", False),
        (dt.date(2025, 8, 28), "799.99", True),
        (dt.date(2025, 8, 29), "1.00", False),
        (dt.date(2025, 8, 29), "799.99", False),
    ],
)
def test_us_800_suspended_on_29_august_2025(in_shop_a, on, amount, exempt):
    result = quote(
        in_shop_a,
        destination_country="US",
        currency="USD",
        date=on,
        items=[QuoteItem(quantity=1, unit_price=D(amount), hs_code="610910")],
    )
    assert result["de_minimis"]["duty_exempt"] is exempt


def test_canada_cusma_origin_thresholds(in_shop_a, ecb_rates):
    us_origin = quote(
        in_shop_a,
        destination_country="CA",
        currency="CAD",
        origin_country="US",
        date=dt.date(2025, 11, 21),
        items=[QuoteItem(quantity=1, unit_price=D("150"), hs_code="610910")],
    )
    cn_origin = quote(
        in_shop_a,
        destination_country="CA",
        currency="CAD",
        origin_country="CN",
        date=dt.date(2025, 11, 21),
        items=[QuoteItem(quantity=1, unit_price=D("150"), hs_code="610910")],
    )
    assert us_origin["de_minimis"]["duty_exempt"] is True
    assert us_origin["de_minimis"]["tax_exempt"] is False  # C$40 for tax
    assert cn_origin["de_minimis"]["duty_exempt"] is False
    assert cn_origin["duty"] == "27.00"


def test_threshold_in_another_currency_uses_and_reports_the_rate(in_shop_a):
    exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="GBP", rate="0.75")
    under = quote(
        in_shop_a,
        destination_country="GB",
        currency="USD",
        quote_currency="USD",
        items=[QuoteItem(quantity=1, unit_price=D("180.00"), hs_code="610910")],
    )
    over = quote(
        in_shop_a,
        destination_country="GB",
        currency="USD",
        quote_currency="USD",
        items=[QuoteItem(quantity=1, unit_price=D("180.01"), hs_code="610910")],
    )
    assert under["de_minimis"]["duty_exempt"] is True  # $180 x 0.75 = £135
    assert over["de_minimis"]["duty_exempt"] is False
    assert any(r["pair"] == "USD/GBP" and r["source"] == "manual" for r in under["exchange_rates"])


def test_shop_tax_override_beats_reference(in_shop_a):
    from localization.services import shop_tax_rate_set

    shop_tax_rate_set(shop=in_shop_a, country="GB", rate="0.10")
    result = gb(in_shop_a, "1000")
    assert result["import_tax_detail"]["rate"] == "0.10000"
