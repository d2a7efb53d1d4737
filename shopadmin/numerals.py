"""Digits as people write them: Bengali (০–৯), Arabic-Indic (٠–٩) and Extended Arabic-Indic
(۰–۹) besides ASCII.

Every number a person types (a form, a CSV file, an API request) is read through
`ascii_digits` first, so `১২৫০.৫০` and `۱۲۵۰٫۵۰` are the same amount as `1250.50`. Numbers shown
to a person use the digits of their language's default numbering system (CLDR: Bengali for
`bn`, ASCII for `ur` as written in Pakistan, Extended Arabic-Indic for `ur_IN`); the API and the
files we write keep ASCII.
"""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError

DIGITS = {
    "beng": "০১২৩৪৫৬৭৮৯",
    "arab": "٠١٢٣٤٥٦٧٨٩",
    "arabext": "۰۱۲۳۴۵۶۷۸۹",
    "deva": "०१२३४५६७८९",
}

# Every native digit to its ASCII one; the Arabic decimal and group separators (٫ ٬) to the
# ASCII ones they stand for, so a number typed on an Arabic keyboard reads as written.
_TO_ASCII = str.maketrans(
    {native: str(value) for digits in DIGITS.values() for value, native in enumerate(digits)}
    | {"\u066b": ".", "\u066c": ","}
)


def ascii_digits(text: str) -> str:
    """`text` with every native digit (and Arabic separator) written in ASCII."""
    return text.translate(_TO_ASCII)


@cache
def _locale_digits(locale: str) -> str | None:
    try:
        system = Locale.parse(locale).default_numbering_system
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return DIGITS.get(system)


def locale_digits(text: str, locale: str) -> str:
    """`text` (formatted with ASCII digits) in the digits `locale` writes numbers with."""
    digits = _locale_digits(locale)
    if digits is None:
        return text
    return text.translate(str.maketrans("0123456789", digits))
