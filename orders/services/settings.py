"""The shop's order settings and which location serves each market."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Location
from localization.models import Market
from orders.models import (
    MarketLocation,
    OrderSettings,
)
from shopadmin.audit import audit_record
from shopadmin.tenancy import current_shop_id


def settings_get() -> OrderSettings:
    """The shop's order settings, read only: a shop that never changed them gets the
    defaults, unsaved (order imports read this on every order and write nothing)."""
    return OrderSettings.objects.filter(shop_id=current_shop_id()).first() or OrderSettings(shop_id=current_shop_id())


@transaction.atomic
def settings_update(*, default_location: Location | None = None, retention_days: int | None = None) -> OrderSettings:
    settings, _created = OrderSettings.objects.get_or_create(shop_id=current_shop_id())
    settings = OrderSettings.objects.select_for_update().get(pk=settings.pk)
    before = {"default_location": settings.default_location_id, "retention_days": settings.retention_days}
    settings.default_location = default_location
    settings.retention_days = retention_days
    settings.full_clean()
    settings.save()
    after = {"default_location": settings.default_location_id, "retention_days": settings.retention_days}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(action="order_settings.update", instance=settings, changes=changes)
    return settings


@transaction.atomic
def market_location_set(*, market: Market, location: Location | None) -> None:
    MarketLocation.objects.filter(market=market).delete()
    if location is not None:
        MarketLocation.objects.create(market=market, location=location)
    audit_record(
        action="market_location.set",
        model_label="orders.MarketLocation",
        object_id=str(market.pk),
        object_repr=f"{market.name} → {location.name if location else '—'}",
        shop_id=current_shop_id(),
        changes={"location": [None, location.pk if location else None]},
    )
