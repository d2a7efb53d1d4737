"""Input: what can never be valid is refused where it enters, before any view sees it; and the
form fields that read what people type in their own language (amounts, currencies, countries).

PostgreSQL refuses NUL characters in text, so a NUL byte in the path, a query parameter or
a form field would otherwise surface as a server error deep inside a query. Bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE (or with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS) are
refused here too. Under /api/ the answer is application/problem+json (400 or 413); in the
merchant UI a short page says what was wrong.

JSON bodies are checked by the API's parser (shopadmin.api.parsers), which knows their shape.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from shopadmin.numerals import ascii_digits, locale_digits

API_PREFIX = "/api/"
# Webhooks verify signatures over the raw body: their forms are not parsed here.
RAW_BODY_PREFIXES = ("/webhooks/", "/sandbox/")
NUL = "\x00"


def has_nul(querydict) -> str | None:
    """The name of the first parameter whose name or a value holds a NUL, else None."""
    for name, values in querydict.lists():
        if NUL in name or any(NUL in value for value in values if isinstance(value, str)):
            return name.replace(NUL, "\\0")
    return None


def _refuse(request, status: int, detail: str, field: str | None = None):
    if request.path_info.startswith(API_PREFIX):
        from shopadmin.api.errors import PROBLEM_CONTENT_TYPE, ErrorCode, problem

        if status == 413:
            body = problem(ErrorCode.PAYLOAD_TOO_LARGE, 413, detail)
        else:
            errors = [{"field": field, "code": "null_character", "message": detail}] if field else None
            body = problem(ErrorCode.VALIDATION_ERROR, 400, detail, errors)
        return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    template = "413.html" if status == 413 else "400.html"
    return render(request, template, {"message": detail}, status=status)


def _too_big_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _("The request is larger than the %(size)s this server accepts.") % {
        "size": f"{limit // 1024} KB" if limit and limit < 1024 * 1024 else f"{(limit or 0) // (1024 * 1024)} MB"
    }


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info:
            return _refuse(request, 400, _("The address contains a NUL character."), field="path")
        name = has_nul(request.GET)
        if name is not None:
            return _refuse(request, 400, _("The parameter “%(name)s” contains a NUL character.") % {"name": name}, name)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.META.get("CONTENT_TYPE", "")
        if limit is not None and not content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return _refuse(request, 413, _too_big_message())
        if (
            request.method == "POST"
            and not request.path_info.startswith(RAW_BODY_PREFIXES)
            and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
        ):
            try:
                name = has_nul(request.POST)
            except RequestDataTooBig:
                return _refuse(request, 413, _too_big_message())
            except TooManyFieldsSent:
                return _refuse(request, 400, _("The form sent more fields than this server accepts."))
            if name is not None:
                return _refuse(request, 400, _("The field “%(name)s” contains a NUL character.") % {"name": name}, name)
        return self.get_response(request)


# --- Form fields for what people type in their own language ------------------------------------
#
# Amounts are typed the way the user's language writes them (12,50 in French, 12.50 in English),
# currencies are picked from the ones in use today, countries by their name in the user's language.
# Every form of every app that asks for one of these uses these fields.


def _active_locale() -> str:
    from django.utils.translation import get_language, to_locale

    return to_locale(get_language() or settings.LANGUAGE_CODE)


def _sort_key(text: str) -> str:
    """Alphabetical order without ICU: accents folded away, case ignored (É sorts with E)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=4)
def current_currency_codes(on: dt.date) -> frozenset[str]:
    """ISO 4217 currencies that are legal tender somewhere on `on` (CLDR's territory data).

    That leaves out historic codes (ADP, FRF), funds and other non-tender codes (BOV, CLF,
    USN), precious metals, test and placeholder codes (XAU, XTS, XXX), while keeping the
    X-codes that countries really use (XAF, XOF, XCD, XPF).
    """
    from babel.numbers import get_territory_currencies

    from shopadmin.validators import country_codes

    codes = set()
    for territory in country_codes():
        codes.update(get_territory_currencies(territory, on, tender=True))
    return frozenset(codes)


@lru_cache(maxsize=8)
def _currency_names(locale: str, on: dt.date) -> tuple[tuple[str, str], ...]:
    from babel.numbers import get_currency_name

    names = [(code, get_currency_name(code, locale=locale)) for code in current_currency_codes(on)]
    return tuple(sorted(names, key=lambda pair: (_sort_key(pair[1]), pair[0])))


def currency_label(code: str, locale: str | None = None) -> str:
    from babel.numbers import get_currency_name

    return f"{code} — {get_currency_name(code, locale=locale or _active_locale())}"


def currency_choices(*, first: str | None = None, keep: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(code, "EUR — euro") for today's currencies, by name in the active language; `first`
    (the shop's currency) leads, and the codes in `keep` (values already stored) stay offered."""
    from shopadmin.validators import currency_codes

    locale = _active_locale()
    listed = list(_currency_names(locale, dt.date.today()))
    codes = {code for code, _name in listed}
    extra = [c for c in {first, *keep} if c and c not in codes and c in currency_codes()]
    for code in sorted(extra):
        listed.append((code, currency_label(code, locale).split(" — ", 1)[1]))
    choices = [(code, f"{code} — {name}") for code, name in listed]
    if first:
        choices.sort(key=lambda choice: choice[0] != first)  # stable: the rest keeps its order
    return choices


@lru_cache(maxsize=8)
def _country_names(locale: str) -> tuple[tuple[str, str], ...]:
    from babel import Locale

    from shopadmin.validators import country_codes

    territories = Locale.parse(locale).territories
    names = [(code, territories.get(code, code)) for code in country_codes()]
    return tuple(sorted(names, key=lambda pair: (_sort_key(pair[1]), pair[0])))


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every ISO 3166-1 country, named and sorted in the active language."""
    return list(_country_names(_active_locale()))


def country_name(code: str) -> str:
    return dict(_country_names(_active_locale())).get(code, code)


class _LanguageChoiceField(forms.ChoiceField, ABC):
    """A choice field whose choices are made in the language active when the form is made."""

    empty_label = "—"

    def __init__(self, *, empty_label=None, **kwargs):
        if empty_label is not None:
            self.empty_label = empty_label
        super().__init__(choices=(), **kwargs)

    def __deepcopy__(self, memo):
        # Each form gets a copy of its fields: that is when the request's language is known.
        result = super().__deepcopy__(memo)
        result.refresh()
        return result

    def to_python(self, value):
        # Codes are case-insensitive to send; they are stored upper-case.
        return super().to_python(value).strip().upper()

    @abstractmethod
    def make_choices(self) -> list[tuple[str, str]]:
        """(code, label) in the active language."""

    def refresh(self) -> None:
        choices = self.make_choices()
        self.choices = choices if self.required else [("", self.empty_label), *choices]


class CurrencyChoiceField(_LanguageChoiceField):
    """A currency in use today, labelled “EUR — euro”; the shop's currency first.

    `first` is the shop's currency (set it with `put_first`); `keep` are codes already stored
    that are no longer current, still offered so saving the form does not change them.
    """

    default_error_messages = {
        "invalid_choice": _lazy("“%(value)s” is not an ISO 4217 currency in use today; choose one from the list."),
    }

    def __init__(self, *, first: str | None = None, **kwargs):
        self.first = first
        self.keep: frozenset[str] = frozenset()
        super().__init__(**kwargs)

    def put_first(self, code: str | None, *, keep: Iterable[str] = ()) -> None:
        self.first = code or None
        self.keep = self.keep | {c for c in keep if c}  # a new set: copies of the field share the old one
        self.refresh()

    def make_choices(self):
        return currency_choices(first=self.first, keep=self.keep)


class CountryChoiceField(_LanguageChoiceField):
    """An ISO 3166-1 alpha-2 country, chosen by its name in the user's language."""

    default_error_messages = {
        "invalid_choice": _lazy("“%(value)s” is not an ISO 3166-1 country code; choose a country from the list."),
    }

    def make_choices(self):
        return country_choices()


class CheckedFirstCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes in a box that scrolls, with the checked ones on top: on a phone the chosen
    countries are in view without scrolling through two hundred names."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "choice-list", **(attrs or {})})

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        return sorted(groups, key=lambda group: not any(option["selected"] for option in group[1]))


class CountryMultipleChoiceField(forms.MultipleChoiceField):
    """Several countries (a market's), as a list of checkboxes named in the user's language."""

    widget = CheckedFirstCheckboxSelectMultiple
    default_error_messages = {
        "invalid_choice": _lazy("“%(value)s” is not an ISO 3166-1 country code; choose countries from the list."),
    }

    def __init__(self, **kwargs):
        super().__init__(choices=(), **kwargs)

    def to_python(self, value):
        return [code.strip().upper() for code in super().to_python(value)]

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.choices = country_choices()
        return result


# Spaces that people type, or that a locale uses, between groups of digits.
_SPACES = (" ", "\u00a0", "\u202f", "\u2009")


class LocalizedIntegerField(forms.IntegerField):
    """A whole number in any digits people type (`১২`, `۱۲`, `12`); shown in the user's."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "numeric")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        if isinstance(value, str):
            value = ascii_digits(value).strip()
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return locale_digits(str(value), _active_locale())
        return value


class LocalizedDecimalField(forms.DecimalField):
    """A number typed the way the user's language writes it: `12,50` or `1 234,50` in French,
    `12.50` or `1,234.50` in English, `১২.৫০` in Bengali, and `12.50` everywhere. Anything else (letters,
    exponents, misplaced group separators) is refused with the field's error. Initial values
    are shown in the same format."""

    default_error_messages = {
        "invalid": _lazy("Enter a number, e.g. %(example)s."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(**kwargs)
        # A phone shows its number pad; without a minus key, so only for amounts that cannot be negative.
        if self.min_value is not None and self.min_value >= 0:
            self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, int | float):
            return Decimal(str(value))
        parsed = parse_localized_decimal(str(value))
        if parsed is None:
            example = format_localized_decimal(Decimal("1234.5"), grouping=True)
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"example": example})
        return parsed

    def prepare_value(self, value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return format_localized_decimal(Decimal(str(value)))
        return value


def parse_localized_decimal(text: str, locale: str | None = None) -> Decimal | None:
    """The number in `text` written in `locale` (default: the active language), or None."""
    from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal

    locale = locale or _active_locale()
    text = ascii_digits(text).strip()
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
    if group in _SPACES:
        # People type a plain space where the locale writes a narrow no-break one.
        for space in _SPACES:
            text = text.replace(space, group)
    # Digits, one sign and the separators only: no exponents, NaN or Infinity.
    if not re.fullmatch(r"[+-]?[0-9" + re.escape(group + decimal) + r".]+", text) or not re.search(r"\d", text):
        return None
    try:
        value = parse_decimal(text, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        if decimal == "." or group == ".":
            return None
        try:
            # `12.50` is understood in every language (a dot when the locale writes a comma).
            value = Decimal(text) if re.fullmatch(r"[+-]?\d+(\.\d+)?", text) else None
        except InvalidOperation:
            value = None
    return value if value is not None and value.is_finite() else None


@lru_cache
def _grouped_integer(locale: str) -> str:
    """The integer part of the locale's number pattern: `#,##0`, or `#,##,##0` (lakh grouping)."""
    from babel import Locale

    pattern = Locale.parse(locale).decimal_formats.get(None)
    integer = (pattern.pattern if pattern is not None else "#,##0").split(";")[0].split(".")[0]
    return integer if "," in integer else "#,##0"


def format_localized_decimal(value: Decimal, *, locale: str | None = None, grouping: bool = False) -> str:
    """`value` as the user writes it, with its digits (at least two decimals when it has any)."""
    from babel.numbers import format_decimal

    value = value.normalize()
    exponent = value.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) and exponent < 0 else 0
    locale = locale or _active_locale()
    pattern = (_grouped_integer(locale) if grouping else "0") + ("." + "0" * places if places else "")
    return locale_digits(format_decimal(value, format=pattern, locale=locale, decimal_quantization=False), locale)


def shop_currency_first(form: forms.BaseForm, currency: str | None) -> None:
    """Offer `currency` (the shop's) first in every currency field of `form`, keeping each
    field's stored value on offer even when it is no longer current."""
    for name, field in form.fields.items():
        if isinstance(field, CurrencyChoiceField):
            initial = form.initial.get(name, field.initial)
            field.put_first(currency, keep=[initial] if isinstance(initial, str) else [])
