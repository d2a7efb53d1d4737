"""Validators for codes that travel to channels and customs: say what is wrong and what is expected."""

import re
import zoneinfo
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from shopadmin.errors import ShopErrorCode


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    # CLDR also names groupings and placeholders that are not countries.
    not_countries = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    return frozenset(
        code for code in Locale("en").territories if re.fullmatch(r"[A-Z]{2}", code) and code not in not_countries
    )


def validate_currency_code(value: str) -> None:
    if not isinstance(value, str) or value not in currency_codes():
        raise ValidationError(
            _("“%(value)s” is not an ISO 4217 currency code; expected three capital letters such as USD or EUR."),
            code=ShopErrorCode.INVALID_CURRENCY,
            params={"value": value},
        )


def validate_country_code(value: str) -> None:
    if not isinstance(value, str) or value not in country_codes():
        raise ValidationError(
            _("“%(value)s” is not an ISO 3166-1 country code; expected two capital letters such as US or FR."),
            code=ShopErrorCode.INVALID_COUNTRY,
            params={"value": value},
        )


def validate_language(value: str) -> None:
    """A BCP 47-style language tag that babel knows: en, fr, fr-CA, pt-BR."""
    try:
        Locale.parse(value, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValidationError(
            _("“%(value)s” is not a language tag; expected something like en, fr or fr-CA."),
            code=ShopErrorCode.INVALID_LANGUAGE,
            params={"value": value},
        ) from None


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone; expected an IANA name such as Europe/Paris."),
            code=ShopErrorCode.INVALID_TIMEZONE,
            params={"value": value},
        )
