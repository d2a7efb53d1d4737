"""Google Merchant Center: an RSS 2.0 feed with the g: namespace, fetched from our URL."""

from __future__ import annotations

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
# Google spells availability with underscores, unlike Meta.
AVAILABILITY = {
    Availability.IN_STOCK: "in_stock",
    Availability.OUT_OF_STOCK: "out_of_stock",
    Availability.PREORDER: "preorder",
    Availability.BACKORDER: "backorder",
    Availability.DISCONTINUED: "out_of_stock",
}
CONDITIONS = ("new", "refurbished", "used")
FEED_COLUMNS = (
    "id", "title", "description", "link", "image_link", "availability", "price", "sale_price",
    "sale_price_effective_date", "condition", "brand", "gtin", "mpn", "item_group_id", "google_product_category",
    "size", "color", *(f"custom_label_{i}" for i in range(5)),
)  # fmt: skip


class GoogleMerchantAdapter(ChannelAdapter):
    channel = "google_merchant"
    feed_only = True
    feed_formats = ("xml",)
    feed_columns = FEED_COLUMNS
    feed_availability_words = ("in_stock", "out_of_stock", "preorder", "backorder")
    max_lengths = {"id": 50, "title": 150, "description": 5000}

    def build_payload(self, item: ChannelItem) -> dict:
        """The `g:` elements of one <item>, in feed order; empty optional ones left out."""
        fields = product_attributes(item, AVAILABILITY)
        if item.sale_price is not None:
            fields["sale_price"] = format_price(item.sale_price, item.currency)
            fields["sale_price_effective_date"] = item.sale_price_effective_date
        fields.update(custom_label_fields(item))
        required = {"id", "title", "description", "link", "image_link", "availability", "price", "condition"}
        return {k: v for k, v in fields.items() if v or k in required}

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = super().validate_item(item)
        if item.condition not in CONDITIONS:
            errors.append(ItemError(f"condition must be one of {', '.join(CONDITIONS)}.", "invalid", "condition"))
        if not (item.gtin or item.mpn or item.brand):
            errors.append(ItemError("gtin, or brand and mpn, identify the product.", "missing_field", "gtin"))
        return errors
