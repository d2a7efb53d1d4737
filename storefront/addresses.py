"""Address fields per country, as data: which fields a buyer fills in, what they are called
there, which are required and what a postcode looks like. Countries not listed get the default.

Keys stored in the order's shipping address: line1, line2, city, district, region, postcode,
country (the region's label changes: state, province, division).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from localization.models import EU_MEMBERS


@dataclass(frozen=True)
class AddressField:
    key: str
    label: str
    required: bool = True
    autocomplete: str = ""


LINE1 = AddressField("line1", _("Address (house, road, area)"), True, "address-line1")
LINE2 = AddressField("line2", _("Address line 2"), False, "address-line2")
CITY = AddressField("city", _("City or town"), True, "address-level2")


def _region(label, required=True) -> AddressField:
    return AddressField("region", label, required, "address-level1")


def _postcode(label, required) -> AddressField:
    return AddressField("postcode", label, required, "postal-code")


def _district(required=True) -> AddressField:
    return AddressField("district", _("District"), required, "address-level2")


SOUTH_ASIA_CITY = AddressField("city", _("Area, thana or town"), True, "address-level3")

FORMATS: dict[str, tuple[AddressField, ...]] = {
    "BD": (LINE1, LINE2, SOUTH_ASIA_CITY, _district(), _region(_("Division"), False), _postcode(_("Postcode"), False)),
    "IN": (LINE1, LINE2, SOUTH_ASIA_CITY, _district(), _region(_("State")), _postcode(_("PIN code"), False)),
    "PK": (LINE1, LINE2, SOUTH_ASIA_CITY, _district(), _region(_("Province")), _postcode(_("Postal code"), False)),
    "US": (LINE1, LINE2, CITY, _region(_("State")), _postcode(_("ZIP code"), True)),
    "CA": (LINE1, LINE2, CITY, _region(_("Province")), _postcode(_("Postal code"), True)),
}
POSTCODE_FIRST = (LINE1, LINE2, _postcode(_("Postcode"), True), CITY)  # EU and GB
DEFAULT = (LINE1, LINE2, CITY, _region(_("State, province or region"), False), _postcode(_("Postcode"), False))

POSTCODE_PATTERNS = {
    "US": r"\d{5}(-\d{4})?",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "BD": r"\d{4}",
    "IN": r"\d{6}",
    "PK": r"\d{5}",
    "FR": r"\d{5}",
    "DE": r"\d{5}",
    "NL": r"\d{4} ?[A-Z]{2}",
}


def address_fields(country: str) -> tuple[AddressField, ...]:
    country = (country or "").upper()
    if country in FORMATS:
        return FORMATS[country]
    if country in EU_MEMBERS or country == "GB":
        return POSTCODE_FIRST
    return DEFAULT


def postcode_valid(country: str, value: str) -> bool:
    pattern = POSTCODE_PATTERNS.get((country or "").upper())
    if pattern is None:
        return 2 <= len(value) <= 12 and bool(re.fullmatch(r"[A-Z0-9 -]+", value))
    return bool(re.fullmatch(pattern, value))
