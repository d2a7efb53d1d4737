"""The South Asia dataset (2025.12-south-asia): its rows, its dated changes, and hand-worked
landed-cost quotes into Bangladesh and Pakistan."""

import datetime as dt
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from localization.api import LandedCostQuoteSerializer
from localization.datasets import south_asia_2025_12 as data
from localization.landed_cost import QuoteItem, QuoteRequest, quote_landed_cost, tax_rate_lookup
from localization.models import CustomsRegime, DutyRate, TaxRate
from localization.services import exchange_rate_set_manual

pytestmark = pytest.mark.django_db
D = Decimal
migration = import_module("localization.migrations.0008_south_asia_dataset")


def rate_in_force(country, on, category="standard"):
    """(rate, rule) of the reference row in force that day."""
    return tax_rate_lookup(country=country, category=category, on=on, shop_id=None)


def quote(shop, **kw):
    items = kw.pop("items")
    return LandedCostQuoteSerializer(quote_landed_cost(QuoteRequest(items=items, **kw), shop_id=shop.pk)).data


def set_rate(shop, quote_currency, rate):
    """A manual rate set the day before the quotes below (2025-12-01); the ECB publishes no BDT or PKR."""
    exchange_rate_set_manual(
        shop=shop,
        base="USD",
        quote=quote_currency,
        rate=rate,
        effective_at=dt.datetime(2025, 11, 30, 12, tzinfo=dt.UTC),
    )


def test_rows_load_with_the_migration():
    for country, region, category, _name, rate, start, end, source in data.TAX_RATES:
        row = TaxRate.objects.get(country=country, region=region, category=category, effective_from=start)
        assert (row.rate, row.effective_to, row.source, row.last_checked) == (D(rate), end, source, data.CHECKED)
    assert {r.country: (r.duty_basis, r.tax_base) for r in CustomsRegime.objects.filter(country__in=["BD", "PK"])} == {
        "BD": ("CIF", "cif_plus_duty"),
        "PK": ("CIF", "cif_plus_duty"),
    }
    assert set(DutyRate.objects.filter(destination="BD").values_list("hs_prefix", "ad_valorem")) == {
        ("61", D("0.25")),
        ("62", D("0.25")),
    }
    rows = [
        *TaxRate.objects.filter(country__in=["BD", "PK", "IN", "LK"]),
        *CustomsRegime.objects.filter(country__in=["BD", "PK"]),
        *DutyRate.objects.filter(destination="BD"),
    ]
    for row in rows:
        row.full_clean()  # within the model's limits (source length, codes, rate a fraction)


def test_unload_removes_only_its_rows_and_reopens_india():
    before = TaxRate.objects.count()
    editor = SimpleNamespace(connection=connection)
    migration.unload_south_asia(apps, editor)
    assert not TaxRate.objects.filter(country__in=["BD", "PK", "LK"]).exists()
    assert not CustomsRegime.objects.filter(country__in=["BD", "PK"]).exists()
    assert not DutyRate.objects.filter(destination="BD").exists()
    assert set(TaxRate.objects.filter(country="IN").values_list("category", "rate", "effective_to")) == {
        ("standard", D("0.18"), None),
        ("reduced", D("0.05"), None),
    }
    assert CustomsRegime.objects.filter(country="IN").exists()  # the starter's

    migration.load_south_asia(apps, editor)
    assert TaxRate.objects.count() == before
    assert rate_in_force("IN", dt.date(2025, 9, 21))[1] != rate_in_force("IN", dt.date(2025, 9, 22))[1]


def test_india_gst_on_21_and_22_september_2025():
    """18% and 5% hold across the reform; the rows in force change to notification 9/2025."""
    before, after = dt.date(2025, 9, 21), dt.date(2025, 9, 22)
    for category, rate in (("standard", D("0.18")), ("reduced", D("0.05"))):
        rate_before, rule_before = rate_in_force("IN", before, category)
        rate_after, rule_after = rate_in_force("IN", after, category)
        assert rate_before == rate_after == rate
        assert "9/2025" not in rule_before
        assert "9/2025-Integrated Tax (Rate)" in rule_after


def test_pakistan_sales_tax_around_its_changes():
    assert rate_in_force("PK", dt.date(2023, 2, 14))[0] == D("0.17")
    assert rate_in_force("PK", dt.date(2023, 2, 15))[0] == D("0.18")
    # The Finance Act 2023 year starts at the rate already in force since February.
    assert rate_in_force("PK", dt.date(2023, 6, 30))[0] == D("0.18")
    assert rate_in_force("PK", dt.date(2023, 7, 1))[0] == D("0.18")
    assert rate_in_force("PK", dt.date(2013, 6, 12))[0] == D("0")  # before the dataset's first row


def test_bangladesh_and_sri_lanka_standard_rates():
    assert rate_in_force("BD", dt.date(2019, 6, 30))[0] == D("0")  # the 1991 Act is not in the dataset
    assert rate_in_force("BD", dt.date(2019, 7, 1))[0] == D("0.15")
    assert rate_in_force("LK", dt.date(2022, 8, 31))[0] == D("0")
    assert rate_in_force("LK", dt.date(2022, 9, 1))[0] == D("0.15")
    assert rate_in_force("LK", dt.date(2023, 12, 31))[0] == D("0.15")
    assert rate_in_force("LK", dt.date(2024, 1, 1))[0] == D("0.18")


def test_landed_cost_into_bangladesh_worked_by_hand(in_shop_a):
    """Two knitted cotton T-shirts (HS 6109.10) into Bangladesh on 1 Dec 2025, at 1 USD = 120 BDT.

    goods 2 x $450 = $900, freight $80, insurance $20: CIF $1,000 = BDT 120,000.00 (assessable
    value; the 1% landing charge is not modelled)
    customs duty 25% x 120,000 = BDT 30,000.00 (supplementary duty is not in the dataset; the 3%
    regulatory duty on apparel was proposed for withdrawal in the 2023-24 budget)
    VAT 15% x (120,000 + 30,000) = BDT 22,500.00
    landed: 120,000 + 30,000 + 22,500 = BDT 172,500.00
    """
    set_rate(in_shop_a, "BDT", "120")
    result = quote(
        in_shop_a,
        destination_country="BD",
        origin_country="IN",
        currency="USD",
        quote_currency="BDT",
        shipping=D("80"),
        insurance=D("20"),
        items=[QuoteItem(quantity=2, unit_price=D("450"), hs_code="61091000")],
        date=dt.date(2025, 12, 1),
    )
    assert result["basis"] == "CIF"
    assert (result["goods"], result["shipping"], result["insurance"]) == ("108000.00", "9600.00", "2400.00")
    assert result["duty"] == "30000.00"
    assert result["lines"][0]["duty_rate"] == "0.25000"
    assert result["import_tax_detail"]["name"] == "VAT"
    assert (result["import_tax_detail"]["taxable_amount"], result["import_tax"]) == ("150000.00", "22500.00")
    assert result["total"] == "172500.00"
    assert result["warnings"] == []


def test_landed_cost_into_pakistan_worked_by_hand(in_shop_a):
    """A consignment into Pakistan on 1 Dec 2025, at 1 USD = 250 PKR.

    Pakistan's garment duties are not in the dataset, so the item carries its own rate, as a
    merchant's classification would: 20% customs duty + 4% additional customs duty on CIF, the
    rates of the worked example summarised by geratools.com (PKR 1,000,000 CIF).

    goods 4 x $900 = $3,600, freight $350, insurance $50: CIF $4,000 = PKR 1,000,000.00
    duty (20% + 4%) x 1,000,000 = PKR 240,000.00
    sales tax 18% x (1,000,000 + 240,000) = PKR 223,200.00
    landed: 1,000,000 + 240,000 + 223,200 = PKR 1,463,200.00 (the 3% value addition tax and
    advance income tax of commercial importers are prepayments, not modelled)
    """
    set_rate(in_shop_a, "PKR", "250")
    result = quote(
        in_shop_a,
        destination_country="PK",
        origin_country="BD",
        currency="USD",
        quote_currency="PKR",
        shipping=D("350"),
        insurance=D("50"),
        items=[QuoteItem(quantity=4, unit_price=D("900"), hs_code="62044200", duty_rate=D("0.24"))],
        date=dt.date(2025, 12, 1),
    )
    assert result["basis"] == "CIF"
    assert result["duty"] == "240000.00"
    assert result["import_tax_detail"]["name"] == "sales tax"
    assert (result["import_tax_detail"]["taxable_amount"], result["import_tax"]) == ("1240000.00", "223200.00")
    assert result["import_tax_detail"]["rate"] == "0.18000"
    assert result["total"] == "1463200.00"


def test_pakistan_quote_before_february_2023_takes_17_percent(in_shop_a):
    """The same goods on 14 Feb 2023: sales tax 17% x 1,240,000 = PKR 210,800.00."""
    exchange_rate_set_manual(
        shop=in_shop_a, base="USD", quote="PKR", rate="250", effective_at=dt.datetime(2023, 2, 13, tzinfo=dt.UTC)
    )
    result = quote(
        in_shop_a,
        destination_country="PK",
        currency="USD",
        quote_currency="PKR",
        shipping=D("350"),
        insurance=D("50"),
        items=[QuoteItem(quantity=4, unit_price=D("900"), hs_code="62044200", duty_rate=D("0.24"))],
        date=dt.date(2023, 2, 14),
    )
    assert result["import_tax"] == "210800.00"


def test_bangladesh_supplementary_duty_as_the_items_combined_rate(in_shop_a):
    """The cascade of charteredjournal.com's example (AV 100, CD 25%, RD 3%, SD 20%, VAT 15%),
    for goods whose supplementary duty the dataset does not hold, at 1 USD = 120 BDT.

    assessable value: $1,000 CIF (no freight or insurance billed apart) = BDT 120,000.00
    CD 25% = 30,000.00; RD 3% = 3,600.00; SD 20% x (120,000 + 30,000 + 3,600) = 30,720.00
    combined rate 0.25 + 0.03 + 0.20 x 1.28 = 0.536: duty 0.536 x 120,000 = BDT 64,320.00
    VAT 15% x (120,000 + 64,320) = BDT 27,648.00; landed BDT 211,968.00
    """
    set_rate(in_shop_a, "BDT", "120")
    result = quote(
        in_shop_a,
        destination_country="BD",
        currency="USD",
        quote_currency="BDT",
        items=[QuoteItem(quantity=1, unit_price=D("1000"), hs_code="62034200", duty_rate=D("0.536"))],
        date=dt.date(2025, 12, 1),
    )
    assert result["duty"] == "64320.00"
    assert (result["import_tax_detail"]["taxable_amount"], result["import_tax"]) == ("184320.00", "27648.00")
    assert result["total"] == "211968.00"
