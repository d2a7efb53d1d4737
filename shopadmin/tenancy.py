"""The tenancy core: which shop the running code acts for, and models that respect it.

The current tenant lives in a ContextVar. Exactly three things set it: the merchant UI
middleware (from the URL, after checking membership), API-key authentication (from the
key) and the task wrapper (from the task's shop_id). Webhooks resolve it from the channel
account key. Staff admin and platform jobs enter the explicit all-shops context.

A tenant model declares ``class Product(TenantModel)`` and gets:
- a ``shop`` foreign key (column ``shop_id``);
- ``objects``: scoped to the current shop, and raising when run with no shop set (fail
  closed; the scope is read when the query executes, see ``CurrentShopId``);
- ``all_shops``: every shop's rows, usable only inside ``all_shops_access()``;
- row-level security on PostgreSQL, installed by the migration autodetector hook in
  ``shopadmin.db.rls`` and verified for every tenant model by the test suite.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Expression, F

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


class CurrentShopId(Expression):
    """The current shop's id, read when the query is compiled — not when it is built.

    Querysets are lazy (a view may declare ``queryset = Product.objects.all()`` at import
    time), so the tenant scope is resolved at execution: with no shop selected the query
    raises; in the all-shops path it compiles to the column itself (no restriction).
    """

    def __init__(self, *, all_shops_only: bool = False):
        super().__init__(output_field=models.BigIntegerField())
        self.all_shops_only = all_shops_only
        self.column = None

    def __repr__(self):
        return f"{self.__class__.__name__}(all_shops_only={self.all_shops_only})"

    def get_source_expressions(self):
        return [self.column] if self.column is not None else []

    def set_source_expressions(self, exprs):
        if exprs:
            (self.column,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        if self.column is not None:
            # Already bound to its own query; embedding that query as a subquery re-resolves
            # the WHERE clause against the outer query, which must not rebind the column.
            return self
        clone = self.copy()
        clone.column = F("shop_id").resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return clone

    def as_sql(self, compiler, connection):
        ctx = _current.get()
        model = self.column.target.model.__name__ if self.column is not None else "tenant data"
        if ctx is not None and ctx.all_shops:
            return compiler.compile(self.column)
        if self.all_shops_only:
            raise TenantContextError(f"{model}.all_shops is the cross-shop path: enter all_shops_access() first.")
        if ctx is None or ctx.shop_id is None:
            raise TenantContextError(
                f"{model} is tenant data: select a shop first (shop_context) or use the explicit all-shops path."
            )
        return "%s", [ctx.shop_id]


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Scoped to the current shop; raises when run with no shop; all rows in the all-shops path."""

    def get_queryset(self):
        return super().get_queryset().filter(shop_id=CurrentShopId())


class AllShopsManager(models.Manager.from_queryset(TenantQuerySet)):
    """Every shop's rows; refuses to run outside ``all_shops_access()``."""

    def get_queryset(self):
        return super().get_queryset().filter(shop_id=CurrentShopId(all_shops_only=True))


class TenantModel(models.Model):
    """Base of every tenant-owned model. Unique constraints must include ``shop``."""

    # No index of its own: every tenant table has the unique (shop_id, id) index of its composite
    # keys, which serves any lookup by shop. A second, smaller index on shop_id alone only costs
    # a write per row, and a planner with stale statistics for a fast-growing shop picks it over
    # the index a query was written for.
    shop = models.ForeignKey("shopadmin.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)

    objects = TenantManager()
    all_shops = AllShopsManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.shop_id is None:
            self.shop_id = current_shop_id()
        super().save(*args, **kwargs)


def current_shop():
    """The shop of the current context, read from the database."""
    from shopadmin.models import Shop

    return Shop.objects.get(pk=current_shop_id())
