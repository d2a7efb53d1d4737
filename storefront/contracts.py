"""The functions the storefront uses from the shipping rates (localization), discount codes and
attribution (orders), imported in one place.

Each is imported by its published name; where a part is not installed in this deployment yet
the storefront works without it, as documented in docs/storefront.md: no shipping rates means
no shipping charge, no discount codes means every coupon is refused with a reason, and no
attribution module means the landing parameters are kept in the order's raw data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

try:  # localization/shipping.py
    from localization.shipping import ShippingOption, shipping_options
except ImportError:  # pragma: no cover - depends on what is installed

    @dataclass(frozen=True)
    class ShippingOption:  # type: ignore[no-redef]
        rate_id: int
        name: str
        amount: Decimal
        currency: str

    def shipping_options(*, market, weight_grams: int, subtotal: Decimal) -> list[ShippingOption]:  # type: ignore[misc]
        return []


try:  # orders/discounts.py
    from orders.discounts import DiscountQuote, DiscountRefused, discount_quote, discount_redeem
except ImportError:  # pragma: no cover

    class DiscountRefused(Exception):  # type: ignore[no-redef]
        def __init__(self, code: str = "unknown", message: str = ""):
            super().__init__(message)
            self.code = code
            self.message = message or str(_("Discount codes are not available in this shop."))

    @dataclass(frozen=True)
    class DiscountQuote:  # type: ignore[no-redef]
        discount_id: int
        code: str
        amount: Decimal

    def discount_quote(*, code: str, subtotal: Decimal, currency: str, market=None, at=None):  # type: ignore[misc]
        raise DiscountRefused("unknown", str(_("Discount codes are not available in this shop.")))

    def discount_redeem(*, quote) -> None:  # type: ignore[misc]
        raise DiscountRefused("unknown", str(_("Discount codes are not available in this shop.")))


# The landing parameters kept with an order (Meta's checkout URL passes these along).
LANDING_KEYS = ("cart_origin", "fbclid", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
LANDING_VALUE_MAX = 200

try:  # orders/attribution.py
    from orders.attribution import Landing, landing_from_params, traffic_count

    ATTRIBUTION = True
except ImportError:  # pragma: no cover
    ATTRIBUTION = False

    @dataclass(frozen=True)
    class Landing:  # type: ignore[no-redef]
        source: str
        campaign: str
        params: dict[str, str] = field(default_factory=dict)

        def as_attribution(self) -> dict:
            return {"source": self.source, "campaign": self.campaign, "landing": dict(self.params)}

    def landing_from_params(params) -> Landing:  # type: ignore[misc]
        kept = {k: str(params.get(k))[:LANDING_VALUE_MAX] for k in LANDING_KEYS if params.get(k)}
        if kept.get("utm_source"):
            source = kept["utm_source"]
        elif kept.get("cart_origin") or kept.get("fbclid"):
            source = "meta"
        else:
            source = "direct"
        return Landing(source=source[:40], campaign=kept.get("utm_campaign", "")[:200], params=kept)

    def traffic_count(*, landing, kind: str, day=None) -> None:  # type: ignore[misc]
        return None


def landing_params(params) -> dict[str, str]:
    """The landing parameters of a query or form, verbatim and length-capped."""
    kept = {}
    for key in LANDING_KEYS:
        value = params.get(key)
        if isinstance(value, str) and value:
            kept[key] = value[:LANDING_VALUE_MAX]
    return kept


__all__ = [
    "ATTRIBUTION",
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
