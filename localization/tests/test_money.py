from decimal import Decimal

import pytest

from localization.money import (
    ROUNDING_PRESETS,
    RoundingRule,
    convert_price,
    exclusive_from_inclusive,
    inclusive_from_exclusive,
    minor_units,
    quantize,
    tax_from_inclusive,
)

D = Decimal


def test_minor_units_come_from_iso_4217_via_babel():
    assert (minor_units("JPY"), minor_units("EUR"), minor_units("KWD")) == (0, 2, 3)


def test_shopify_published_check_is_eight_ninety():
    # $10 x 0.867519 x (1 + 1.5%) = €8.805… → €8.81, then up to the .90 ending.
    price = convert_price(
        amount=D("10"),
        rate=D("0.867519"),
        adjustment_percent=D("1.5"),
        rule=ROUNDING_PRESETS["end_90"][1],
        currency="EUR",
    )
    assert price == D("8.90")


def test_negative_adjustment_lowers_prices():
    rule = ROUNDING_PRESETS["none"][1]
    assert convert_price(amount=D("100"), rate=D("1"), adjustment_percent=D("-5"), rule=rule, currency="EUR") == D(
        "95.00"
    )


@pytest.mark.parametrize(
    ("preset", "amount", "currency", "expected"),
    [
        ("end_99", "8.81", "EUR", "8.99"),
        ("end_99", "8.99", "EUR", "8.99"),
        ("end_99", "9.00", "EUR", "9.99"),
        ("end_95", "12.96", "GBP", "13.95"),
        ("end_00", "12.01", "USD", "13.00"),
        ("whole", "12.49", "USD", "12.00"),
        ("whole", "12.50", "USD", "13.00"),
        ("nearest_5", "12.4", "USD", "10.00"),
        ("nearest_10", "15", "SEK", "20.00"),
        ("nearest_100", "1449", "JPY", "1400"),
        ("nearest_100", "1450.4", "JPY", "1500"),
        ("nearest_100", "20", "JPY", "100"),
        ("none", "1449.6", "JPY", "1450"),
        ("none", "1.23456", "KWD", "1.235"),
        ("end_99", "1.23456", "KWD", "1.990"),
        ("none", "0", "EUR", "0.00"),
    ],
)
def test_rounding_presets(preset, amount, currency, expected):
    assert ROUNDING_PRESETS[preset][1].apply(D(amount), currency) == D(expected)


def test_fractional_endings_do_not_fit_zero_decimal_currencies():
    assert ROUNDING_PRESETS["end_99"][1].validate_for("JPY")
    assert not ROUNDING_PRESETS["nearest_100"][1].validate_for("JPY")
    assert not ROUNDING_PRESETS["end_99"][1].validate_for("KWD")
    assert RoundingRule(D("0.0005"), D("0")).validate_for("KWD")


def test_backing_tax_out_of_an_inclusive_price():
    assert quantize(tax_from_inclusive(D("120.00"), D("0.20")), "EUR") == D("20.00")
    assert exclusive_from_inclusive(D("120.00"), D("0.20"), "EUR") == D("100.00")
    assert inclusive_from_exclusive(D("100.00"), D("0.20"), "EUR") == D("120.00")
