"""Stable codes of the storefront's errors (settings, checkout and orders taken in chat).

A service raises `ValidationError(message, code=StorefrontErrorCode.…)`. Values never change
once published; add new ones.
"""

from __future__ import annotations

import enum


class StorefrontErrorCode(enum.StrEnum):
    WHATSAPP_NUMBER_INVALID = "whatsapp_number_invalid"
    MESSENGER_PAGE_INVALID = "messenger_page_invalid"
    NO_PAYMENT_METHOD = "no_payment_method"  # the settings enable no way to buy
    CART_EMPTY = "cart_empty"  # nothing to order (every item unknown or sold out)
    CART_INVALID = "cart_invalid"  # the cart has items that cannot be ordered as they are
    OUT_OF_STOCK = "out_of_stock"  # fewer units left than ordered: refused, never oversold
    PAYMENT_METHOD_UNAVAILABLE = "payment_method_unavailable"
    PAYMENT_REFERENCE_REQUIRED = "payment_reference_required"
    SHIPPING_RATE_UNAVAILABLE = "shipping_rate_unavailable"
    DISCOUNT_REFUSED = "discount_refused"
    COUNTRY_NOT_SERVED = "country_not_served"  # the address is outside the market's countries
    TOTAL_CHANGED = "total_changed"  # the cart costs other than the total the buyer was shown
    CHAT_ITEMS_INVALID = "chat_items_invalid"  # an order from a chat: unknown SKU or bad quantity
    CHAT_DRAFT_CONFIRMED = "chat_draft_confirmed"  # cancelling a draft the buyer already confirmed
