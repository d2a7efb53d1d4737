"""Locale-aware money and number formatting for every app's templates.

`{% load formats %}` then `{{ amount|money:currency }}`, `{{ count|number }}`. Babel knows
each locale's separators, grouping and each currency's minor units (JPY 0, EUR 2, KWD 3), so
the same amount reads `€1,234.56` in English, `1 234,56 €` in French and `১২,৩৪,৫৬৭.৫০৳` in
Bengali (lakh grouping, Bengali digits: shopadmin.numerals).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal, get_currency_precision
from django import template
from django.utils.translation import get_language, get_language_bidi, to_locale

from shopadmin.numerals import locale_digits

register = template.Library()

EMPTY = "—"


def current_locale() -> str:
    return to_locale(get_language() or "en")


def _isolated(text: str) -> str:
    """In a right-to-left page an amount keeps its own order (`-12.50 Rs`, `+15%`): it is set
    apart with Unicode's first-strong isolate, which works in text and in attributes alike."""
    return f"\u2068{text}\u2069" if get_language_bidi() else text


def format_money(amount, currency=None, locale: str | None = None) -> str:
    """A Money, or an amount and a currency code, in the given (default: active) locale."""
    if amount is None or amount == "":
        return EMPTY
    if hasattr(amount, "amount") and hasattr(amount, "currency"):
        amount, currency = amount.amount, str(amount.currency)
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    locale = locale or current_locale()
    if not currency:
        return _isolated(locale_digits(format_decimal(amount, locale=locale), locale))
    currency = str(currency)
    # Half up, as prices are rounded everywhere else (babel alone would round half to even).
    amount = amount.quantize(Decimal(1).scaleb(-get_currency_precision(currency)), rounding=ROUND_HALF_UP)
    return _isolated(locale_digits(format_currency(amount, currency, locale=locale), locale))


def _decimal(value) -> Decimal | str:
    """The value as a Decimal to format, or the text to show instead (— for nothing)."""
    if value is None or value == "":
        return EMPTY
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return str(value)


@register.filter
def money(amount, currency=None):
    """19.9|money:"USD" -> $19.90 (en), 19,90 $US (fr); rounded to the currency's minor units."""
    return format_money(amount, currency)


@register.filter
def number(value, decimals=None):
    """1234.5|number -> 1,234.5 (en), 1 234,5 (fr); number:2 fixes two decimals."""
    value = _decimal(value)
    if not isinstance(value, Decimal):
        return value
    locale = current_locale()
    if decimals is not None and decimals != "":
        places = int(decimals)
        pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
        return _isolated(locale_digits(format_decimal(value, format=pattern, locale=locale), locale))
    return _isolated(locale_digits(format_decimal(value, locale=locale), locale))


@register.filter
def percent(value):
    """A fraction as a percentage: 0.08875|percent -> 8.875% (en), 8,875 % (fr)."""
    from babel.numbers import format_percent

    value = _decimal(value)
    if not isinstance(value, Decimal):
        return value
    locale = current_locale()
    shown = format_percent(value.normalize(), locale=locale, decimal_quantization=False)
    return _isolated(locale_digits(shown, locale))


@register.filter
def country(code):
    """FR|country -> France (en), France (fr); DE -> Germany, Allemagne."""
    from shopadmin.inputs import country_name

    return country_name(code) if code else EMPTY


@register.filter
def countries(codes):
    """["FR", "DE"]|countries -> France, Germany (in the active language)."""
    from shopadmin.inputs import country_name

    return ", ".join(country_name(code) for code in codes or ())
