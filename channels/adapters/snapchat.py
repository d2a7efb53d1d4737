"""Snapchat: a catalog feed (CSV) that Snapchat fetches from our URL; no publishing API here.

No page of Snap's own settles the feed's fields here (businesshelp.snapchat.com was not at
hand); the columns, values and limits below are the strictest of the restatements of Snap's
"Product Catalog Field List" found (see docs/channels.md, Snapchat).
"""

from __future__ import annotations

from channels.adapters.base import Availability, ChannelAdapter, ChannelItem, ItemError, product_attributes

AVAILABILITY = {
    Availability.IN_STOCK: "in stock",
    Availability.OUT_OF_STOCK: "out of stock",
    Availability.PREORDER: "preorder",
    Availability.BACKORDER: "available for order",
    Availability.DISCONTINUED: "discontinued",
}
CONDITIONS = ("new", "refurbished", "used")
FEED_FIELDS = (
    "id", "title", "description", "link", "image_link", "availability", "price", "condition",
    "brand", "gtin", "mpn", "item_group_id", "google_product_category", "size", "color",
)  # fmt: skip


class SnapchatAdapter(ChannelAdapter):
    channel = "snapchat"
    feed_only = True
    feed_formats = ("csv",)
    feed_columns = FEED_FIELDS
    feed_availability_words = tuple(dict.fromkeys(AVAILABILITY.values()))
    # Restatements disagree (id 50 or 128, title 150 or 375): the strictest reading.
    max_lengths = {"id": 50, "title": 150, "description": 5000, "brand": 70, "gtin": 70, "mpn": 50}

    def build_payload(self, item: ChannelItem) -> dict:
        row = product_attributes(item, AVAILABILITY)
        return {name: row[name] for name in FEED_FIELDS}

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = super().validate_item(item)
        if item.condition not in CONDITIONS:
            errors.append(ItemError(f"condition must be one of {', '.join(CONDITIONS)}.", "invalid", "condition"))
        if not (item.brand or item.gtin or item.mpn):
            errors.append(ItemError("brand, gtin or mpn is required.", "missing_field", "brand"))
        return errors
