"""The functions the storefront uses from the other apps' parts, imported in one place:
shipping rates (localization.shipping), discount codes (orders.discounts) and attribution
(orders.attribution)."""

from __future__ import annotations

from localization.shipping import ShippingOption, shipping_options
from orders.attribution import Landing, landing_from_params, traffic_count
from orders.discounts import DiscountQuote, DiscountRefused, discount_quote, discount_redeem

# The landing parameters a page keeps in its links and the checkout form carries to the order
# (Meta's checkout URL passes these along).
LANDING_KEYS = ("cart_origin", "fbclid", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
LANDING_VALUE_MAX = 200


def landing_params(params) -> dict[str, str]:
    """The landing parameters of a query or form, verbatim and length-capped."""
    kept = {}
    for key in LANDING_KEYS:
        value = params.get(key)
        if isinstance(value, str) and value:
            kept[key] = value[:LANDING_VALUE_MAX]
    return kept


__all__ = [
    "LANDING_KEYS",
    "DiscountQuote",
    "DiscountRefused",
    "Landing",
    "ShippingOption",
    "discount_quote",
    "discount_redeem",
    "landing_from_params",
    "landing_params",
    "shipping_options",
    "traffic_count",
]
