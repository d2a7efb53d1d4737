"""`date` and `time` in the reader's digits: Django's own filters, then the digits of the active
language's numbering system (shopadmin.numerals), so a Bengali reader sees ৭ নভে., not 7 নভে.

Installed as a template builtin (settings.TEMPLATES): it replaces the two default filters in
every template without a `{% load %}`. Any other language reads exactly as Django writes it.
"""

from django import template
from django.template import defaultfilters
from django.utils.translation import get_language, to_locale

from shopadmin.numerals import locale_digits

register = template.Library()


def _digits(text: str) -> str:
    return locale_digits(text, to_locale(get_language() or "en")) if text else text


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    return _digits(defaultfilters.date(value, arg))


@register.filter(expects_localtime=True, is_safe=False)
def time(value, arg=None):
    return _digits(defaultfilters.time(value, arg))
