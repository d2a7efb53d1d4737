"""The daily sales rollups behind the dashboard (orders.models.DailySales, DailyProductSales).

A day's rows are recomputed from its orders whenever an order of that day is imported,
changes status, is cancelled or refunded: recomputing (rather than adding deltas) keeps the
rollup right whatever changed, and a day holds few enough orders for it to be cheap (three
grouped reads over the `order_recent` index). Days are the shop's local days.

Concurrent imports of the same day are serialised by a transaction-scoped advisory lock, so
the later one recomputes after the earlier one committed and sees both orders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, DecimalField, ExpressionWrapper, F, IntegerField, Sum, Value
from django.db.models.functions import Coalesce, TruncDay

from orders.models import DailyProductSales, DailySales, Lifecycle, Order, OrderLine
from shopadmin.tenancy import current_shop_id

NOT_SALES = (Lifecycle.CANCELLED, Lifecycle.REFUNDED)
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=3)


def local_day(when: dt.datetime, tz_name: str) -> dt.date:
    return when.astimezone(ZoneInfo(tz_name or "UTC")).date()


def _day_bounds(day: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(tz_name or "UTC")
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _lock_day(shop_id: int, day: dt.date) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"orders:rollup:{shop_id}:{day}"])


def sales_rollup_refresh(*, days: Iterable[dt.date], tz_name: str) -> None:
    """Recompute the rollup rows of these local days of the current shop (call inside the
    transaction that changed the orders)."""
    shop_id = current_shop_id()
    sold = ExpressionWrapper(F("quantity") - F("quantity_cancelled"), output_field=IntegerField())
    for day in sorted(set(days)):
        start, end = _day_bounds(day, tz_name)
        _lock_day(shop_id, day)
        DailySales.objects.filter(day=day).delete()
        DailyProductSales.objects.filter(day=day).delete()
        orders = Order.objects.filter(placed_at__gte=start, placed_at__lt=end).exclude(status__in=NOT_SALES)
        lines = OrderLine.objects.filter(
            order__placed_at__gte=start, order__placed_at__lt=end, order__shop_id=shop_id
        ).exclude(order__status__in=NOT_SALES)
        units = {
            (r["order__account_id"], r["order__market_id"]): r["units"] or 0
            for r in lines.values("order__account_id", "order__market_id").annotate(units=Sum(sold)).order_by()
        }
        DailySales.objects.bulk_create(
            DailySales(
                shop_id=shop_id,
                day=day,
                account_id=r["account_id"],
                channel=r["channel"],
                market_id=r["market_id"],
                revenue=r["revenue"],
                orders=r["n"],
                units=units.get((r["account_id"], r["market_id"]), 0),
            )
            for r in orders.values("account_id", "channel", "market_id")
            .annotate(revenue=Coalesce(Sum("total_shop"), Value(ZERO), output_field=MONEY), n=Count("id"))
            .order_by()
        )
        line_revenue = ExpressionWrapper(F("line_total") * F("order__rate"), output_field=MONEY)
        DailyProductSales.objects.bulk_create(
            DailyProductSales(
                shop_id=shop_id,
                day=day,
                channel=r["order__channel"],
                product_id=r["variant__product_id"],
                revenue=r["revenue"],
                units=r["units"] or 0,
            )
            for r in lines.filter(variant__isnull=False)
            .values("order__channel", "variant__product_id")
            .annotate(revenue=Coalesce(Sum(line_revenue), Value(ZERO), output_field=MONEY), units=Sum(sold))
            .order_by()
        )


def sales_rollup_touch(order: Order, *, tz_name: str, also: dt.datetime | None = None) -> None:
    """Refresh the day of an order that changed (and the day it was on before, if it moved)."""
    days = {local_day(when, tz_name) for when in (order.placed_at, also) if when is not None}
    if days:
        sales_rollup_refresh(days=days, tz_name=tz_name)


def sales_rollup_rebuild(*, tz_name: str) -> int:
    """Recompute every day that has orders (after a bulk load or a change of time zone)."""
    DailySales.objects.all().delete()
    DailyProductSales.objects.all().delete()
    tz = ZoneInfo(tz_name or "UTC")
    days = {
        when.astimezone(tz).date()
        for when in Order.objects.exclude(placed_at=None)
        .annotate(day=TruncDay("placed_at", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
    }
    sales_rollup_refresh(days=days, tz_name=tz_name)
    return len(days)
