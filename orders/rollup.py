"""The daily sales rollups behind the dashboard (orders.models.DailySales, DailyProductSales).

Each order's share of the rollups is kept beside it (RollupShare). When an order is
imported, changes status, is cancelled or refunded, its share is read again from the order
and only the difference is added to the rollup rows (`INSERT … ON CONFLICT DO UPDATE` with
the signed delta): an import costs the same few queries on the first order of a day and on
the ten-thousandth. A row whose last order is taken out goes. Days are the shop's local days.

The rollups stay equal to a recomputation from the orders (`sales_rollup_computed`, which the
rebuild writes after a bulk load or a change of time zone): both count a line's revenue at its
order's rate rounded to the mill, so adding shares gives the same sums as grouping orders.
Concurrent imports of a day only meet on the rollup rows they update, for the time it takes
to commit; the rebuild holds off imports of the shop while it runs (an advisory lock).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Round, TruncDate

from orders.models import DailyProductSales, DailySales, Lifecycle, Order, OrderLine, RollupShare
from shopadmin.tenancy import current_shop_id

NOT_SALES = (Lifecycle.CANCELLED, Lifecycle.REFUNDED)
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=3)
SHARE_BATCH = 2000


def local_day(when: dt.datetime, tz_name: str) -> dt.date:
    return when.astimezone(ZoneInfo(tz_name or "UTC")).date()


def _lock_shop(shop_id: int, *, exclusive: bool = False) -> None:
    """Imports share the shop's rollup lock; a rebuild takes it alone."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(hashtextextended(%s, 0))", [f"orders:rollup:{shop_id}"])


def _sold(prefix: str = "") -> ExpressionWrapper:
    return ExpressionWrapper(F(f"{prefix}quantity") - F(f"{prefix}quantity_cancelled"), output_field=IntegerField())


def _line_revenue(line: str, rate: str) -> Round:
    """A line in the shop currency at its order's rate, rounded to the mill (the rollup's unit)."""
    return Round(ExpressionWrapper(F(line) * F(rate), output_field=MONEY), 3, output_field=MONEY)


def _money(value) -> Decimal:
    """An amount as the database gave it, to the mill (SQLite returns floats)."""
    return ZERO if value is None else Decimal(str(value)).quantize(Decimal("0.001"))


# --- An order's share ---------------------------------------------------------------------------


def _shares(orders: QuerySet, tz_name: str) -> dict[int, dict]:
    """The share of each order of `orders` that is a sale, by order id: one grouped query (the
    order's fields, and its lines summed per product)."""
    rows = (
        orders.exclude(status__in=NOT_SALES)
        .exclude(placed_at=None)
        .values(
            "id",
            "placed_at",
            "total_shop",
            "account_id",
            "channel",
            "market_id",
            product=F("lines__variant__product_id"),
        )
        .annotate(
            units=Sum(_sold("lines__")),
            revenue=Sum(_line_revenue("lines__line_total", "rate")),
            lines=Count("lines__id"),
        )
        .order_by()
    )
    shares: dict[int, dict] = {}
    for r in rows:
        share = shares.get(r["id"])
        if share is None:
            share = shares[r["id"]] = {
                "day": local_day(r["placed_at"], tz_name).isoformat(),
                "account": r["account_id"],
                "channel": r["channel"],
                "market": r["market_id"],
                "revenue": str(_money(r["total_shop"])),
                "units": 0,
                "products": {},
            }
        share["units"] += r["units"] or 0
        if r["product"] is not None:
            share["products"][str(r["product"])] = [str(_money(r["revenue"])), r["units"] or 0, r["lines"]]
    return shares


# --- Adding and taking out shares ---------------------------------------------------------------


def _upsert(model, conflict: list[str], added: list[str], rows: list[dict]) -> None:
    """Insert the rows, or add their `added` columns to the rows already there (one statement)."""
    table = model._meta.db_table
    columns = ["shop_id", *rows[0]]
    values = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _row in rows)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608 — our table and columns
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
    )
    shop_id = current_shop_id()
    with connection.cursor() as cursor:
        cursor.execute(sql, [v for row in rows for v in (shop_id, *row.values())])


def _add(changes: list[tuple[dict | None, dict | None]]) -> None:
    """For each (old, new) pair, add `new` and take `old` out of the rollup rows: only the sum
    of the differences is written, one statement per rollup table."""
    sales: dict[tuple, list] = defaultdict(lambda: [None, ZERO, 0, 0])  # market, revenue, orders, units
    products: dict[tuple, list] = defaultdict(lambda: [ZERO, 0, 0])  # revenue, units, lines
    signed = [(share, sign) for old, new in changes for share, sign in ((old, -1), (new, 1)) if share is not None]
    for share, sign in signed:
        row = sales[(share["day"], share["account"], share["channel"], share["market"] or 0)]
        row[0] = share["market"]
        row[1] += sign * Decimal(share["revenue"])
        row[2] += sign
        row[3] += sign * share["units"]
        for product, (revenue, units, lines) in share["products"].items():
            row = products[(share["day"], share["channel"], int(product))]
            row[0] += sign * Decimal(revenue)
            row[1] += sign * units
            row[2] += sign * lines
    sales = {key: row for key, row in sales.items() if any(row[1:])}
    products = {key: row for key, row in products.items() if any(row)}
    gone = set()
    if any(old is not None for old, _new in changes) and products:
        # A product deleted since took its rollup rows with it: nothing of it is left to take out.
        from catalog.models import Product

        wanted = {key[2] for key in products}
        gone = wanted - set(Product.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    # Rows are written in key order, so two imports touching the same rows never wait on each other in a cycle.
    if sales:
        _upsert(
            DailySales,
            ["shop_id", "day", "account_id", "channel", "market_key"],
            ["revenue", "orders", "units"],
            [
                {
                    "day": day,
                    "account_id": account,
                    "channel": channel,
                    "market_key": market_key,
                    "market_id": market,
                    "revenue": revenue,
                    "orders": orders,
                    "units": units,
                }
                for (day, account, channel, market_key), (market, revenue, orders, units) in sorted(sales.items())
            ],
        )
    kept = sorted((key, row) for key, row in products.items() if key[2] not in gone)
    if kept:
        _upsert(
            DailyProductSales,
            ["shop_id", "day", "channel", "product_id"],
            ["revenue", "units", "lines"],
            [
                {
                    "day": day,
                    "channel": channel,
                    "product_id": product,
                    "revenue": revenue,
                    "units": units,
                    "lines": lines,
                }
                for (day, channel, product), (revenue, units, lines) in kept
            ],
        )
    emptied = [key for key, row in sales.items() if row[2] < 0]
    if emptied:
        keys = Q()
        for day, account, channel, market_key in emptied:
            keys |= Q(day=day, account_id=account, channel=channel, market_key=market_key)
        DailySales.objects.filter(keys, orders__lte=0).delete()
    emptied = [key for key, row in kept if row[2] < 0]
    if emptied:
        keys = Q()
        for day, channel, product in emptied:
            keys |= Q(day=day, channel=channel, product_id=product)
        DailyProductSales.objects.filter(keys, lines__lte=0).delete()


def sales_rollup_touch(order: Order, *, tz_name: str, also: dt.datetime | None = None) -> None:
    """Bring the rollups up to date with an order that was created or changed (call inside the
    transaction that changed it, after the change). `also` (the order's placing time before the
    change) is not needed: the share kept for the order says where it was counted."""
    _lock_shop(current_shop_id())
    kept = RollupShare.objects.select_for_update().filter(order_id=order.pk).first()
    old = kept.share if kept is not None else None
    new = _shares(Order.objects.filter(pk=order.pk), tz_name).get(order.pk)
    if old == new:
        return
    _add([(old, new)])
    if new is None:
        kept.delete()
    elif kept is None:
        RollupShare.objects.create(order_id=order.pk, share=new)
    else:
        kept.share = new
        kept.save(update_fields=["share"])


def sales_rollup_created(orders: list[Order], *, tz_name: str) -> None:
    """`sales_rollup_touch` for orders created in this transaction, in a few statements for all
    of them (they have no share kept yet)."""
    if not orders:
        return
    _lock_shop(current_shop_id())
    shares = _shares(Order.objects.filter(pk__in=[order.pk for order in orders]), tz_name)
    if not shares:
        return
    _add([(None, share) for _order_id, share in sorted(shares.items())])
    shop_id = current_shop_id()
    RollupShare.objects.bulk_create(
        RollupShare(shop_id=shop_id, order_id=order_id, share=share) for order_id, share in shares.items()
    )


# --- Recomputing from the orders ----------------------------------------------------------------


def sales_rollup_computed(*, tz_name: str) -> tuple[list[dict], list[dict]]:
    """The rollup rows of the current shop as grouping its orders gives them (DailySales rows,
    DailyProductSales rows, as dicts of their fields): what the kept rollups must equal."""
    tz = ZoneInfo(tz_name or "UTC")
    orders = Order.objects.exclude(status__in=NOT_SALES).exclude(placed_at=None)
    lines = OrderLine.objects.filter(order__in=orders.values("pk"))
    units = {
        (r["day"], r["order__account_id"], r["order__market_id"]): r["units"] or 0
        for r in lines.values("order__account_id", "order__market_id", day=TruncDate("order__placed_at", tzinfo=tz))
        .annotate(units=Sum(_sold()))
        .order_by()
    }
    sales = [
        {
            "day": r["day"],
            "account_id": r["account_id"],
            "channel": r["channel"],
            "market_id": r["market_id"],
            "market_key": r["market_id"] or 0,
            "revenue": _money(r["revenue"]),
            "orders": r["orders"],
            "units": units.get((r["day"], r["account_id"], r["market_id"]), 0),
        }
        for r in orders.values("account_id", "channel", "market_id", day=TruncDate("placed_at", tzinfo=tz))
        .annotate(revenue=Coalesce(Sum("total_shop"), Value(ZERO), output_field=MONEY), orders=Count("id"))
        .order_by()
    ]
    products = [
        {
            "day": r["day"],
            "channel": r["order__channel"],
            "product_id": r["variant__product_id"],
            "revenue": _money(r["revenue"]),
            "units": r["units"] or 0,
            "lines": r["lines"],
        }
        for r in lines.filter(variant__isnull=False)
        .values("order__channel", "variant__product_id", day=TruncDate("order__placed_at", tzinfo=tz))
        .annotate(
            revenue=Coalesce(Sum(_line_revenue("line_total", "order__rate")), Value(ZERO), output_field=MONEY),
            units=Sum(_sold()),
            lines=Count("id"),
        )
        .order_by()
    ]
    return sales, products


@contextmanager
def _whole_shop_reads():
    """Hash joins for reads that take every order of the shop, whatever the statistics say:
    right after a bulk load they are stale, and a nested loop over the lines would run for hours."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")


@transaction.atomic
def sales_rollup_rebuild(*, tz_name: str) -> int:
    """Recompute the current shop's rollups and its orders' shares from the orders (after a bulk
    load or a change of time zone); returns the number of days with sales."""
    shop_id = current_shop_id()
    _lock_shop(shop_id, exclusive=True)
    DailySales.objects.all().delete()
    DailyProductSales.objects.all().delete()
    RollupShare.objects.all().delete()
    with _whole_shop_reads():
        sales, products = sales_rollup_computed(tz_name=tz_name)
    DailySales.objects.bulk_create((DailySales(shop_id=shop_id, **row) for row in sales), batch_size=SHARE_BATCH)
    DailyProductSales.objects.bulk_create(
        (DailyProductSales(shop_id=shop_id, **row) for row in products), batch_size=SHARE_BATCH
    )
    ids = list(Order.objects.exclude(status__in=NOT_SALES).exclude(placed_at=None).values_list("pk", flat=True))
    for start in range(0, len(ids), SHARE_BATCH):
        shares = _shares(Order.objects.filter(pk__in=ids[start : start + SHARE_BATCH]), tz_name)
        RollupShare.objects.bulk_create(
            RollupShare(shop_id=shop_id, order_id=order_id, share=share) for order_id, share in shares.items()
        )
    return len({row["day"] for row in sales})
