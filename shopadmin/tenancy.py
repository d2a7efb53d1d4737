"""The tenancy core: which shop the running code acts for, and models that respect it.

The current tenant lives in a ContextVar. Exactly three things set it: the merchant UI
middleware (from the URL, after checking membership), API-key authentication (from the
key) and the task wrapper (from the task's shop_id). Webhooks resolve it from the channel
account key. Staff admin and platform jobs enter the explicit all-shops context.

A tenant model declares ``class Product(TenantModel)`` and gets:
- a ``shop`` foreign key (column ``shop_id``);
- ``objects``: scoped to the current shop, and raising when no shop is set (fail closed);
- ``all_shops``: every shop's rows, usable only inside ``all_shops_access()``;
- row-level security on PostgreSQL, installed by the migration autodetector hook in
  ``shopadmin.db.rls`` and verified for every tenant model by the test suite.
"""

from __future__ import annotations

from django.db import models

from shopadmin.context import (  # noqa: F401 — the public tenancy API lives here
    TenantContext,
    TenantContextError,
    _current,
    all_shops_access,
    current_context,
    current_shop_id,
    no_shop,
    reset_context,
    set_context,
    shop_context,
)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Scoped to the current shop; raises with no shop set; all rows in the all-shops path."""

    def get_queryset(self):
        ctx = _current.get()
        if ctx is None:
            raise TenantContextError(
                f"{self.model.__name__} is tenant data: select a shop first "
                "(shop_context) or use the explicit all-shops path."
            )
        queryset = super().get_queryset()
        if ctx.all_shops:
            return queryset
        return queryset.filter(shop_id=ctx.shop_id)


class AllShopsManager(models.Manager.from_queryset(TenantQuerySet)):
    """Every shop's rows; refuses to run outside ``all_shops_access()``."""

    def get_queryset(self):
        ctx = _current.get()
        if ctx is None or not ctx.all_shops:
            raise TenantContextError(
                f"{self.model.__name__}.all_shops is the cross-shop path: enter all_shops_access() first."
            )
        return super().get_queryset()


class TenantModel(models.Model):
    """Base of every tenant-owned model. Unique constraints must include ``shop``."""

    shop = models.ForeignKey("shopadmin.Shop", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    all_shops = AllShopsManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.shop_id is None:
            self.shop_id = current_shop_id()
        super().save(*args, **kwargs)
