"""Fields and helpers shared by the catalog API's serializers."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from catalog.services import money_out


class MoneyAmountField(serializers.DecimalField):
    """In: "19.99" (shop currency). Out: the amount rounded to the currency's minor units."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return money_out(value)


def service_fields(data: dict, allowed) -> dict:
    return {k: v for k, v in data.items() if k in allowed}
