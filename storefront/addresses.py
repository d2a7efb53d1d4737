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
    choices: tuple[tuple[str, str], ...] = ()  # a pick list (stored: the code) instead of free text


LINE1 = AddressField("line1", _("Address (house, road, area)"), True, "address-line1")
LINE2 = AddressField("line2", _("Address line 2"), False, "address-line2")
CITY = AddressField("city", _("City or town"), True, "address-level2")


# The code is what is stored and what sales tax is looked up by (localization's TaxRate.region).
US_STATES = (
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"),
    ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"),
    ("ME", "Maine"), ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"),
    ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"), ("SD", "South Dakota"),
    ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"), ("VA", "Virginia"),
    ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
    ("AS", "American Samoa"), ("GU", "Guam"), ("MP", "Northern Mariana Islands"), ("PR", "Puerto Rico"),
    ("VI", "U.S. Virgin Islands"), ("AA", "Armed Forces Americas"), ("AE", "Armed Forces Europe"),
    ("AP", "Armed Forces Pacific"),
)  # fmt: skip
CA_PROVINCES = (
    ("AB", "Alberta"), ("BC", "British Columbia"), ("MB", "Manitoba"), ("NB", "New Brunswick"),
    ("NL", "Newfoundland and Labrador"), ("NS", "Nova Scotia"), ("NT", "Northwest Territories"),
    ("NU", "Nunavut"), ("ON", "Ontario"), ("PE", "Prince Edward Island"), ("QC", "Quebec"),
    ("SK", "Saskatchewan"), ("YT", "Yukon"),
)  # fmt: skip


def _region(label, required=True, choices=()) -> AddressField:
    return AddressField("region", label, required, "address-level1", choices)


def _postcode(label, required) -> AddressField:
    return AddressField("postcode", label, required, "postal-code")


def _district(required=True) -> AddressField:
    return AddressField("district", _("District"), required, "address-level2")


SOUTH_ASIA_CITY = AddressField("city", _("Area, thana or town"), True, "address-level3")

FORMATS: dict[str, tuple[AddressField, ...]] = {
    "BD": (LINE1, LINE2, SOUTH_ASIA_CITY, _district(), _region(_("Division"), False), _postcode(_("Postcode"), False)),
    "IN": (LINE1, LINE2, SOUTH_ASIA_CITY, _district(), _region(_("State")), _postcode(_("PIN code"), False)),
    "PK": (LINE1, LINE2, SOUTH_ASIA_CITY, _district(), _region(_("Province")), _postcode(_("Postal code"), False)),
    "US": (LINE1, LINE2, CITY, _region(_("State"), choices=US_STATES), _postcode(_("ZIP code"), True)),
    "CA": (LINE1, LINE2, CITY, _region(_("Province"), choices=CA_PROVINCES), _postcode(_("Postal code"), True)),
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


def tax_region(address: dict) -> str:
    """The region sales tax is looked up by: the state or province code of a country whose
    regions are picked from a list (US, CA), else none (the country's rate applies)."""
    country = (address.get("country") or "").upper()
    region = (address.get("region") or "").strip().upper()
    codes = {code for spec in FORMATS.get(country, ()) for code, _name in spec.choices}
    return region if region in codes else ""


def postcode_valid(country: str, value: str) -> bool:
    pattern = POSTCODE_PATTERNS.get((country or "").upper())
    if pattern is None:
        return 2 <= len(value) <= 12 and bool(re.fullmatch(r"[A-Z0-9 -]+", value))
    return bool(re.fullmatch(pattern, value))
