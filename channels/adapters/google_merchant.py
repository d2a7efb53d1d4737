"""Google Merchant Center: an RSS 2.0 feed with the g: namespace, fetched from our URL.

Attribute names, values, lengths and formats follow Google's product data specification
(support.google.com/merchants/answer/7052112 and one page per attribute); docs/channels.md
lists each fact with its page.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from channels.adapters.base import (
    Availability,
    ChannelAdapter,
    ChannelItem,
    ItemError,
    custom_label_fields,
    format_price,
    product_attributes,
)

NAMESPACE = "http://base.google.com/ns/1.0"
# Google spells availability with underscores, unlike Meta (answer/6324448).
AVAILABILITY = {
    Availability.IN_STOCK: "in_stock",
    Availability.OUT_OF_STOCK: "out_of_stock",
    Availability.PREORDER: "preorder",
    Availability.BACKORDER: "backorder",
    Availability.DISCONTINUED: "out_of_stock",
}
# availability_date is required with these (answer/6324470).
DATED_AVAILABILITY = ("preorder", "backorder")
CONDITIONS = ("new", "refurbished", "used")
FEED_COLUMNS = (
    "id", "title", "description", "link", "image_link", "availability", "availability_date", "price", "sale_price",
    "sale_price_effective_date", "condition", "brand", "gtin", "mpn", "identifier_exists", "item_group_id",
    "google_product_category", "size", "color", *(f"custom_label_{i}" for i in range(5)),
)  # fmt: skip
# GTIN (answer/6324461): UPC 12 digits, EAN 13, JAN 8 or 13, ISBN 13, ITF-14 14.
GTIN_LENGTHS = (8, 12, 13, 14)
# availability_date: 1 to 25 characters; sale_price_effective_date: 0 to 51 characters.
AVAILABILITY_DATE_MAX = 25
SALE_PRICE_EFFECTIVE_DATE_MAX = 51
# item_group_id: 1 to 50 characters (answer/6324507).
ITEM_GROUP_ID_MAX = 50
# "up to 1 year in the future" (answer/6324470).
AVAILABILITY_DATE_HORIZON = timedelta(days=365)


def google_datetime(value: str) -> str:
    """An ISO 8601 date-time as the spec writes it: `YYYY-MM-DDThh:mm±hhmm` (answer/6324470,
    answer/6324460). A value without a time zone is taken as UTC; "" when it is no date."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M%z")


def google_interval(value: str) -> str:
    """A `start/end` interval with both ends as `google_datetime`; "" when either is no date."""
    start, _, end = (value or "").partition("/")
    start, end = google_datetime(start), google_datetime(end)
    return f"{start}/{end}" if start and end else ""


def google_item_group_id(value: str) -> str:
    """The group id within Google's 50 characters: a longer one (a long product handle) keeps
    its start and gains a hash of the whole, so every variant of a product still shares it and
    two products whose handles only differ late do not."""
    if len(value) <= ITEM_GROUP_ID_MAX:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{value[: ITEM_GROUP_ID_MAX - 9]}-{digest}"


def has_identifiers(item: ChannelItem) -> bool:
    """Unique product identifiers: a GTIN, or a brand with an MPN (answer/6324478)."""
    return bool(item.gtin or (item.brand and item.mpn))


class GoogleMerchantAdapter(ChannelAdapter):
    channel = "google_merchant"
    feed_only = True
    # sale_price with sale_price_effective_date: Google switches prices itself (answer/6324460).
    sale_prices = "with_dates"
    feed_formats = ("xml",)
    feed_columns = FEED_COLUMNS
    feed_availability_words = ("in_stock", "out_of_stock", "preorder", "backorder")
    # id at most 50 (answer/7052112), brand 1 to 70 (answer/6324351); item_group_id is made
    # to fit its 50 (google_item_group_id). title 150, description 5000 and mpn 70: no Google
    # page read here settles them; kept at the commonly stated limits, the strictest at hand.
    max_lengths = {"id": 50, "title": 150, "description": 5000, "brand": 70, "mpn": 70}

    def build_payload(self, item: ChannelItem) -> dict:
        """The `g:` elements of one <item>, in feed order; empty optional ones left out."""
        fields = product_attributes(item, AVAILABILITY)
        fields["item_group_id"] = google_item_group_id(item.item_group_id)
        if fields["availability"] in DATED_AVAILABILITY and item.availability_date:
            fields["availability_date"] = google_datetime(item.availability_date)
        if item.sale_price is not None:
            fields["sale_price"] = format_price(item.sale_price, item.currency)
            fields["sale_price_effective_date"] = google_interval(item.sale_price_effective_date)
        if not has_identifiers(item):
            # "no" tells Google the product has no GTIN or brand + MPN (custom or handmade goods).
            fields["identifier_exists"] = "no"
        fields.update(custom_label_fields(item))
        required = {"id", "title", "description", "link", "image_link", "availability", "price", "condition"}
        return {k: v for k, v in fields.items() if v or k in required}

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = super().validate_item(item)
        if item.condition not in CONDITIONS:
            errors.append(ItemError(f"condition must be one of {', '.join(CONDITIONS)}.", "invalid", "condition"))
        if item.gtin and not (item.gtin.isdigit() and len(item.gtin) in GTIN_LENGTHS):
            errors.append(ItemError("gtin must be 8, 12, 13 or 14 digits.", "invalid", "gtin"))
        if AVAILABILITY.get(item.availability) in DATED_AVAILABILITY:
            errors.extend(self._availability_date_errors(item))
        if item.sale_price is not None and item.sale_price_effective_date:
            interval = google_interval(item.sale_price_effective_date)
            if not interval or len(interval) > SALE_PRICE_EFFECTIVE_DATE_MAX:
                errors.append(
                    ItemError(
                        "sale_price_effective_date must be two ISO 8601 date-times (YYYY-MM-DDThh:mm±hhmm) "
                        "separated by /.",
                        "invalid",
                        "sale_price_effective_date",
                    )
                )
        return errors

    def _availability_date_errors(self, item: ChannelItem) -> list[ItemError]:
        words = AVAILABILITY[item.availability]
        if not item.availability_date:
            return [
                ItemError(
                    f"availability_date is required when availability is {words}.",
                    "missing_field",
                    "availability_date",
                )
            ]
        value = google_datetime(item.availability_date)
        if not value or len(value) > AVAILABILITY_DATE_MAX:
            return [
                ItemError(
                    "availability_date must be an ISO 8601 date-time (YYYY-MM-DDThh:mm±hhmm).",
                    "invalid",
                    "availability_date",
                )
            ]
        if datetime.strptime(value, "%Y-%m-%dT%H:%M%z") > datetime.now(UTC) + AVAILABILITY_DATE_HORIZON:
            return [ItemError("availability_date is at most one year ahead.", "invalid", "availability_date")]
        return []
