"""Numbers as people write them: Bengali and Arabic-Indic digits, lakh grouping, each
language's separators — shown that way and read back whatever digits were typed."""

from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from shopadmin.inputs import (
    LocalizedDecimalField,
    LocalizedIntegerField,
    format_localized_decimal,
    parse_localized_decimal,
)
from shopadmin.numerals import ascii_digits, locale_digits
from shopadmin.templatetags.formats import format_money, number, percent

LOCALES = ["bn", "ur", "en", "fr"]

amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(value=amounts, locale=st.sampled_from(LOCALES), grouping=st.booleans())
def test_a_number_shown_in_a_language_reads_back_as_the_same_number(value, locale, grouping):
    shown = format_localized_decimal(value, locale=locale, grouping=grouping)
    assert parse_localized_decimal(shown, locale=locale) == value


@settings(max_examples=200, deadline=None)
@given(value=amounts, locale=st.sampled_from(LOCALES))
def test_any_digits_typed_read_as_the_ascii_number(value, locale):
    plain = format(value, "f")
    for digits in ("০১২৩৪৫৬৭৮৯", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"):
        typed = plain.translate(str.maketrans("0123456789", digits))
        assert parse_localized_decimal(typed, locale=locale) == value


def test_bengali_shows_bengali_digits_and_lakh_grouping():
    assert format_money(Decimal("1234567.5"), "BDT", locale="bn") == "১২,৩৪,৫৬৭.৫০৳"
    assert locale_digits("12,34,567.50", "bn") == "১২,৩৪,৫৬৭.৫০"
    with translation.override("bn"):
        assert number(Decimal("1234567")) == "১২,৩৪,৫৬৭"
        assert percent(Decimal("0.15")) == "১৫%"
    # Urdu as written in Pakistan keeps ASCII digits (CLDR's default numbering for `ur`).
    assert format_money(Decimal("1234567.5"), "PKR", locale="ur") == "Rs1,234,567.50"
    assert format_money(Decimal("19.9"), "USD", locale="en") == "$19.90"


@pytest.mark.parametrize(
    "typed, locale, expected",
    [
        ("১২.৫০", "bn", "12.50"),
        ("১২,৩৪,৫৬৭.৫০", "bn", "1234567.50"),
        ("۱۲٫۵۰", "ur", "12.50"),
        ("١٢٫٥٠", "ur", "12.50"),
        ("12.50", "ur", "12.50"),
        ("۱۲,۵۰", "fr", "12.50"),
    ],
)
def test_the_form_field_reads_the_digits_people_type(typed, locale, expected):
    with translation.override(locale):
        assert LocalizedDecimalField().clean(typed) == Decimal(expected)


def test_the_whole_number_field_reads_any_digits_and_shows_the_users():
    field = LocalizedIntegerField(min_value=0)
    assert field.clean("১২") == 12 and field.clean("۴۲") == 42 and field.clean(" 7 ") == 7
    with translation.override("bn"):
        assert field.prepare_value(125) == "১২৫"
    with pytest.raises(Exception, match="whole number"):
        field.clean("১২.৫")


def test_letters_and_exponents_stay_refused_in_any_digits():
    for typed in ("১e৫", "NaN", "১২abc", "--১"):
        assert parse_localized_decimal(typed, locale="bn") is None
    assert ascii_digits("SKU-০০৭ costs ৳১২") == "SKU-007 costs ৳12"


def test_dates_in_templates_use_the_readers_digits():
    import datetime as dt

    from django.template import Context, Template

    template = Template('{{ day|date:"j F Y" }} {{ at|time:"H:i" }}')
    context = Context({"day": dt.date(2026, 12, 6), "at": dt.time(14, 5)})
    with translation.override("bn"):
        assert template.render(context) == "৬ ডিসেম্বর ২০২৬ ১৪:০৫"
    with translation.override("en"):
        assert template.render(context) == "6 December 2026 14:05"
