"""Identifiers that travel to channels and customs: GTIN barcodes and HS codes.

Messages say what is wrong and what is expected, because merchants paste these from
spreadsheets and supplier sheets where spaces, dots and typos are common.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from catalog.errors import CatalogErrorCode

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3,1,3,… from the right)."""
    total = 0
    for index, char in enumerate(reversed(body)):
        total += int(char) * (3 if index % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalize_gtin(value: str | None) -> str:
    """Drop the spaces and hyphens people type into barcodes; keep everything else to validate."""
    return re.sub(r"[\s-]", "", value or "")


def validate_gtin(value: str) -> None:
    """GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13) or GTIN-14, with a correct check digit."""
    if not value:
        return
    if not value.isdigit() or not value.isascii():
        raise ValidationError(
            _("“%(value)s” is not a GTIN: use digits only (8, 12, 13 or 14 of them)."),
            code=CatalogErrorCode.INVALID_GTIN,
            params={"value": value},
        )
    if len(value) not in GTIN_LENGTHS:
        raise ValidationError(
            _("“%(value)s” has %(length)d digits; a GTIN has 8, 12 (UPC-A), 13 (EAN-13) or 14 digits."),
            code=CatalogErrorCode.INVALID_GTIN_LENGTH,
            params={"value": value, "length": len(value)},
        )
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValidationError(
            _(
                "“%(value)s” has a wrong check digit: it ends in %(actual)s, "
                "but the digits before it need %(expected)d."
            ),
            code=CatalogErrorCode.INVALID_GTIN_CHECK_DIGIT,
            params={"value": value, "actual": value[-1], "expected": expected},
        )


def normalize_hs_code(value: str | None) -> str:
    """HS codes are written 6109.10.00 or 6109 10 00; store the digits only."""
    return re.sub(r"[\s.]", "", value or "")


def validate_hs_code(value: str) -> None:
    """6 to 10 digits once dots and spaces are removed (HS-6 plus national subheadings)."""
    if not value:
        return
    digits = normalize_hs_code(value)
    if not digits.isdigit() or not digits.isascii() or not 6 <= len(digits) <= 10:
        raise ValidationError(
            _("“%(value)s” is not an HS code: expected 6 to 10 digits, dots allowed (e.g. 6109.10 or 6109.10.0010)."),
            code=CatalogErrorCode.INVALID_HS_CODE,
            params={"value": value},
        )
