from babel.numbers import format_currency
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()


@register.filter
def money(amount, currency):
    """19.9, "USD" -> $19.90 in the viewer's language, rounded to the currency's minor units."""
    if amount is None or amount == "":
        return "—"
    if hasattr(amount, "amount"):
        amount, currency = amount.amount, str(amount.currency)
    return format_currency(amount, currency, locale=to_locale(get_language() or "en"))


@register.filter
def signed(value):
    return f"{value:+d}" if isinstance(value, int) else value
