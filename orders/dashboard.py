"""Reads behind the shop dashboard (the attention list is orders.attention).

The dashboard reads across every app (catalog, localization, channels, orders), which is
why it lives here, in the highest app. Every panel is one grouped query (two where orders
and their lines are summed separately, so a join never counts an order's total once per
line): the number of queries depends on the panels, never on the number of orders,
listings or variants. Amounts are in the shop currency (`Order.total_shop`, and lines
converted with the order's own rate), bucketed in the shop's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import INTERNAL_CHANNELS, Channel, ChannelAccount, ChannelListing, ListingStatus
from localization.models import Market
from orders.models import (
    DailyProductSales,
    DailySales,
    IssueKind,
    Lifecycle,
    Order,
    OrderLine,
    OrderSyncCursor,
    ReconciliationIssue,
)
from shopadmin.models import Shop

ZERO = Decimal("0")
# Cancelled and fully refunded orders are not sales; everything else counts at its total.
NOT_SALES = (Lifecycle.CANCELLED, Lifecycle.REFUNDED)
MONEY = DecimalField(max_digits=20, decimal_places=3)
TOP_PRODUCTS = 5
REJECTION_REASONS = 3
STOCK_OUTS_SHOWN = 10


# --- Periods --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A dashboard window: what the selector says (`label`, the window itself, so the selected
    choice and the sentence under it agree), its buckets and how they are named."""

    key: str
    label: str  # the selector: the window, e.g. "30 days"
    buckets: int
    trunc: type
    span: str  # the window in a sentence
    bucket: str  # one bucket, as a column heading: "Day"
    by: str  # how the window is cut, in a sentence: "day by day"


PERIODS = {
    "day": Period(
        "day",
        gettext_lazy("30 days"),
        30,
        TruncDay,
        gettext_lazy("the last 30 days"),
        gettext_lazy("Day"),
        gettext_lazy("day by day"),
    ),
    "week": Period(
        "week",
        gettext_lazy("12 weeks"),
        12,
        TruncWeek,
        gettext_lazy("the last 12 weeks"),
        gettext_lazy("Week"),
        gettext_lazy("week by week"),
    ),
    "month": Period(
        "month",
        gettext_lazy("12 months"),
        12,
        TruncMonth,
        gettext_lazy("the last 12 months"),
        gettext_lazy("Month"),
        gettext_lazy("month by month"),
    ),
}
DEFAULT_PERIOD = "day"


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def _bucket_start(period: Period, day: dt.date) -> dt.date:
    if period.key == "week":
        return day - dt.timedelta(days=day.weekday())
    if period.key == "month":
        return day.replace(day=1)
    return day


def _add_buckets(period: Period, day: dt.date, n: int) -> dt.date:
    if period.key == "month":
        return _shift_months(day, n)
    return day + dt.timedelta(days=n * (7 if period.key == "week" else 1))


@dataclass
class Window_:
    period: Period
    tz: ZoneInfo
    now: dt.datetime
    start: dt.datetime  # first bucket of the current window
    prev_start: dt.datetime  # the same number of buckets before
    prev_end: dt.datetime  # as far into the previous window as now is into this one
    bucket_days: list[dt.date]  # first day of each current bucket
    prev_bucket_days: list[dt.date]


def window_for(period_key: str, tz_name: str, now: dt.datetime | None = None) -> Window_:
    period = PERIODS.get(period_key) or PERIODS[DEFAULT_PERIOD]
    tz = ZoneInfo(tz_name or "UTC")
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    last = _bucket_start(period, today)
    first = _add_buckets(period, last, -(period.buckets - 1))
    prev_first = _add_buckets(period, first, -period.buckets)
    days = [_add_buckets(period, first, i) for i in range(period.buckets)]
    prev_days = [_add_buckets(period, prev_first, i) for i in range(period.buckets)]

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz)

    start = midnight(first)
    prev_start = midnight(prev_first)
    # Compare like with like: the previous window is cut at the same point of its last bucket.
    prev_end = prev_start + (now - start) if period.key != "month" else _month_aligned_end(now, tz, period.buckets)
    return Window_(period, tz, now, start, prev_start, prev_end, days, prev_days)


def _month_aligned_end(now: dt.datetime, tz: ZoneInfo, months: int) -> dt.datetime:
    local = now.astimezone(tz)
    shifted = _shift_months(local.date(), -months)
    # Same day of the month (clamped to the month's length) and time of day, N months back.
    last_day = (_shift_months(shifted, 1) - dt.timedelta(days=1)).day
    return dt.datetime.combine(shifted.replace(day=min(local.day, last_day)), local.time(), tzinfo=tz)


# --- Sales ----------------------------------------------------------------------------------------


def _change(current, previous) -> float | None:
    """Relative change in percent; None when there is nothing to compare with."""
    if not previous:
        return None
    return float((Decimal(current or 0) - Decimal(previous)) * 100 / Decimal(previous))


@dataclass
class SalesRow:
    key: object
    label: str
    revenue: Decimal = ZERO
    orders: int = 0
    units: int = 0
    prev_revenue: Decimal = ZERO
    prev_orders: int = 0
    prev_units: int = 0

    @property
    def aov(self) -> Decimal | None:
        return self.revenue / self.orders if self.orders else None

    @property
    def prev_aov(self) -> Decimal | None:
        return self.prev_revenue / self.prev_orders if self.prev_orders else None

    @property
    def revenue_change(self):
        return _change(self.revenue, self.prev_revenue)

    @property
    def orders_change(self):
        return _change(self.orders, self.prev_orders)

    @property
    def units_change(self):
        return _change(self.units, self.prev_units)

    @property
    def aov_change(self):
        return _change(self.aov, self.prev_aov) if self.aov is not None else None


@dataclass
class _Days:
    """The window in the rollup's local days: whole days read from DailySales, plus the part
    of one day where the previous window stops (as far into its last bucket as now is)."""

    current: tuple[dt.date, dt.date]  # first and last day, inclusive
    previous: tuple[dt.date, dt.date]  # first day inclusive, last day exclusive
    partial: tuple[dt.datetime, dt.datetime] | None  # [midnight, prev_end) of the cut day


def _days(w: Window_) -> _Days:
    local_end = w.prev_end.astimezone(w.tz)
    cut_day = local_end.date()
    midnight = dt.datetime.combine(cut_day, dt.time.min, tzinfo=w.tz)
    return _Days(
        current=(w.start.astimezone(w.tz).date(), w.now.astimezone(w.tz).date()),
        previous=(w.prev_start.astimezone(w.tz).date(), cut_day),
        partial=(midnight, w.prev_end) if w.prev_end > midnight else None,
    )


@dataclass
class _Sales:
    """Sales of the window by (day, channel, market): current and previous, as read once."""

    current: list[dict]
    previous: list[dict]
    markets: dict


def _read_sales(w: Window_) -> _Sales:
    """Three small queries whatever the number of orders: the rollup rows of both windows, the
    orders of the previous window's cut day (their lines' units separately), market names."""
    days = _days(w)
    rows = (
        DailySales.objects.filter(
            Q(day__gte=days.current[0], day__lte=days.current[1])
            | Q(day__gte=days.previous[0], day__lt=days.previous[1])
        )
        .values("day", "channel", "market_id")
        .annotate(revenue=Sum("revenue"), orders=Sum("orders"), units=Sum("units"))
        .order_by()
    )
    current, previous = [], []
    for r in rows:
        (current if r["day"] >= days.current[0] else previous).append(r)
    if days.partial is not None:
        since, until = days.partial
        cut = Order.objects.filter(placed_at__gte=since, placed_at__lt=until).exclude(status__in=NOT_SALES)
        sold = ExpressionWrapper(F("quantity") - F("quantity_cancelled"), output_field=IntegerField())
        units = {
            (r["order__channel"], r["order__market_id"]): r["units"] or 0
            for r in OrderLine.objects.filter(order__in=cut.values("pk"))
            .values("order__channel", "order__market_id")
            .annotate(units=Sum(sold))
            .order_by()
        }
        for r in (
            cut.values("channel", "market_id")
            .annotate(revenue=Coalesce(Sum("total_shop"), Value(ZERO), output_field=MONEY), orders=Count("id"))
            .order_by()
        ):
            previous.append({**r, "day": since.date(), "units": units.get((r["channel"], r["market_id"]), 0)})
    markets = dict(Market.objects.values_list("id", "name")) if any(r["market_id"] for r in current + previous) else {}
    return _Sales(current, previous, markets)


def _sales_by(sales: _Sales, key_of, label_of) -> list[SalesRow]:
    """Revenue, orders and units per group, this window and the previous one (from `_read_sales`)."""
    rows: dict[object, SalesRow] = {}
    for which, entries in (("", sales.current), ("prev_", sales.previous)):
        for r in entries:
            key = key_of(r)
            row = rows.get(key)
            if row is None:
                row = rows[key] = SalesRow(key=key, label=label_of(r))
            setattr(row, f"{which}revenue", getattr(row, f"{which}revenue") + (r["revenue"] or ZERO))
            setattr(row, f"{which}orders", getattr(row, f"{which}orders") + (r["orders"] or 0))
            setattr(row, f"{which}units", getattr(row, f"{which}units") + (r["units"] or 0))
    return sorted(rows.values(), key=lambda row: (-row.revenue, -row.prev_revenue, row.label))


def _total(rows: list[SalesRow]) -> SalesRow:
    total = SalesRow(key=None, label=_("All channels"))
    for row in rows:
        total.revenue += row.revenue
        total.orders += row.orders
        total.units += row.units
        total.prev_revenue += row.prev_revenue
        total.prev_orders += row.prev_orders
        total.prev_units += row.prev_units
    return total


def sales_over_time(w: Window_, sales: _Sales | None = None) -> list[dict]:
    """Revenue and orders per bucket of this window, each beside the same bucket of the previous one."""
    sales = sales or _read_sales(w)
    found: dict[dt.date, list] = defaultdict(lambda: [ZERO, 0])
    for r in sales.current + sales.previous:
        bucket = found[_bucket_start(w.period, r["day"])]
        bucket[0] += r["revenue"] or ZERO
        bucket[1] += r["orders"] or 0
    series = []
    for day, prev_day in zip(w.bucket_days, w.prev_bucket_days, strict=True):
        revenue, orders = found.get(day, (ZERO, 0))
        prev_revenue, prev_orders = found.get(prev_day, (ZERO, 0))
        series.append(
            {
                "day": day,
                "prev_day": prev_day,
                "revenue": revenue,
                "orders": orders,
                "prev_revenue": prev_revenue,
                "prev_orders": prev_orders,
            }
        )
    return series


def top_products_by_channel(w: Window_, limit: int = TOP_PRODUCTS) -> dict[str, list[dict]]:
    """The best sellers of each channel this window, by revenue: one query over the daily
    product rollup, ranked in the database.

    Raw SQL because the ORM ranks in the same query that groups, so it would join every
    product's title before grouping (a year is ~230k rollup rows in ~20k groups, grouped on
    the title too, and spilling to disk); here the rows are summed on (channel, product) alone
    and only the few ranked products are joined to their titles. Window functions run on both
    engines the project runs on.
    """
    from catalog.models import Product

    days = _days(w)
    sales, products = DailyProductSales._meta.db_table, Product._meta.db_table
    sql = f"""
        SELECT r.channel, r.product_id, p.title, r.revenue, r.units
        FROM (
            SELECT s.channel, s.product_id, s.revenue, s.units,
                   ROW_NUMBER() OVER (PARTITION BY s.channel ORDER BY s.revenue DESC, s.units DESC) AS rank
            FROM (
                SELECT channel, product_id, SUM(revenue) AS revenue, SUM(units) AS units
                FROM {sales}
                WHERE shop_id = %s AND day >= %s AND day <= %s
                GROUP BY channel, product_id
            ) s
        ) r
        JOIN {products} p ON p.id = r.product_id
        WHERE r.rank <= %s
        ORDER BY r.channel, r.rank"""  # noqa: S608 — the table names are ours, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [_current_shop_id(), days.current[0], days.current[1], limit])
        rows = cursor.fetchall()
    by_channel: dict[str, list[dict]] = defaultdict(list)
    for channel, product_id, title, revenue, units in rows:
        by_channel[channel].append(
            {"product_id": product_id, "title": title, "revenue": _decimal(revenue), "units": units or 0}
        )
    return dict(by_channel)


def _decimal(value) -> Decimal:
    """A summed amount as the ORM would give it (SQLite returns numbers, not Decimals)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.001"))


# --- Channels: listing health and sync lag ------------------------------------------------------------


def _rejection_reason_rows() -> list[tuple]:
    """(account id, field, message, listings) for every reason rejected listings carry.

    The reasons sit in a JSON list on each listing; unnesting it is the database's job
    (one query), which the ORM cannot express on both engines the project runs on. On
    PostgreSQL the listings are first grouped by their error list (rejections repeat a few
    lists), so each distinct list is unnested once rather than once per listing; DISTINCT
    inside keeps a listing that repeats a reason counted once for it.
    """
    table = ChannelListing._meta.db_table
    shop_id = _current_shop_id()
    if connection.vendor == "postgresql":
        sql = f"""
            SELECT g.account_id, r.field, r.message, SUM(g.n) AS n
            FROM (
                SELECT l.account_id, CASE WHEN jsonb_typeof(l.errors) = 'array' THEN l.errors ELSE '[]'::jsonb END
                       AS errors, COUNT(*) AS n
                FROM {table} l WHERE l.shop_id = %s AND l.status = %s
                GROUP BY 1, 2
            ) g CROSS JOIN LATERAL (
                SELECT DISTINCT e->>'field' AS field, e->>'message' AS message FROM jsonb_array_elements(g.errors) e
            ) r
            GROUP BY 1, 2, 3 ORDER BY n DESC, 3"""  # noqa: S608 — the table name is ours, values are parameters
    else:
        sql = f"""
            SELECT l.account_id, json_extract(e.value, '$.field'), json_extract(e.value, '$.message'),
                   COUNT(DISTINCT l.id) AS n
            FROM {table} l, json_each(CASE WHEN json_type(l.errors) = 'array' THEN l.errors ELSE '[]' END) e
            WHERE l.shop_id = %s AND l.status = %s
            GROUP BY 1, 2, 3 ORDER BY n DESC, 3"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop_id, ListingStatus.REJECTED])
        return cursor.fetchall()


def rejected_listings_with_reason(*, account_id: int, field: str, message: str, limit: int = 200):
    """The rejected listings of an account that carry one reason (the dashboard links here)."""
    table = ChannelListing._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"""
            SELECT l.id FROM {table} l
            WHERE l.shop_id = %s AND l.account_id = %s AND l.status = %s AND jsonb_typeof(l.errors) = 'array'
              AND l.errors @> jsonb_build_array(jsonb_build_object('field', %s::text, 'message', %s::text))
            ORDER BY l.item_id LIMIT %s"""  # noqa: S608
    else:
        sql = f"""
            SELECT DISTINCT l.id FROM {table} l, json_each(l.errors) e
            WHERE l.shop_id = %s AND l.account_id = %s AND l.status = %s
              AND json_extract(e.value, '$.field') = %s AND json_extract(e.value, '$.message') = %s
            ORDER BY l.item_id LIMIT %s"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [_current_shop_id(), account_id, ListingStatus.REJECTED, field, message, limit])
        ids = [row[0] for row in cursor.fetchall()]
    return list(ChannelListing.objects.filter(pk__in=ids).select_related("variant").order_by("item_id"))


def _current_shop_id() -> int:
    from shopadmin.tenancy import current_shop_id

    return current_shop_id()


@dataclass
class AccountHealth:
    account: ChannelAccount
    counts: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    last_published_at: dt.datetime | None = None
    last_order_at: dt.datetime | None = None
    last_polled_at: dt.datetime | None = None
    poll_error: str = ""

    @property
    def published(self) -> int:
        return self.counts.get(ListingStatus.PUBLISHED, 0)

    @property
    def pending(self) -> int:
        return self.counts.get(ListingStatus.PENDING, 0) + self.counts.get(ListingStatus.DRAFT, 0)

    @property
    def rejected(self) -> int:
        return self.counts.get(ListingStatus.REJECTED, 0)

    @property
    def invalid(self) -> int:
        return self.counts.get(ListingStatus.ERROR, 0)

    @property
    def total(self) -> int:
        return sum(n for status, n in self.counts.items() if status != ListingStatus.DELISTED)

    @property
    def published_percent(self) -> int:
        return round(self.published * 100 / self.total) if self.total else 0

    @property
    def last_import_at(self) -> dt.datetime | None:
        """The later of the last order received and the last successful poll."""
        seen = [t for t in (self.last_order_at, self.last_polled_at) if t]
        return max(seen) if seen else None


def channel_health() -> list[AccountHealth]:
    accounts = {
        a.pk: AccountHealth(account=a)
        for a in ChannelAccount.objects.filter(is_active=True).exclude(channel__in=INTERNAL_CHANNELS)
    }
    rows = (
        ChannelListing.objects.values("account_id", "status")
        .annotate(n=Count("id"), last=Max("published_at"))
        .order_by()
    )
    for r in rows:
        health = accounts.get(r["account_id"])
        if health is None:
            continue
        health.counts[r["status"]] = r["n"]
        if r["last"] and (health.last_published_at is None or r["last"] > health.last_published_at):
            health.last_published_at = r["last"]
    for account_id, field_name, message, n in _rejection_reason_rows():
        health = accounts.get(account_id)
        if health is not None and len(health.reasons) < REJECTION_REASONS:
            health.reasons.append({"field": field_name or "", "message": message or "", "n": n})
    # The newest order per account, read from the (shop, account, created_at) index for each
    # account rather than by grouping every order.
    newest = Order.objects.filter(account=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    for account_id, last in (
        ChannelAccount.objects.filter(pk__in=accounts).annotate(last=Subquery(newest)).values_list("pk", "last")
    ):
        accounts[account_id].last_order_at = last
    for cursor in OrderSyncCursor.objects.only("account_id", "last_polled_at", "last_error"):
        if cursor.account_id in accounts:
            accounts[cursor.account_id].last_polled_at = cursor.last_polled_at
            accounts[cursor.account_id].poll_error = cursor.last_error
    return list(accounts.values())


def stock_outs(limit: int = STOCK_OUTS_SHOWN) -> dict:
    """Variants published on some channel with nothing left to sell (on hand minus allocated)."""
    from catalog.models import ProductVariant, StockLevel

    listed = ChannelListing.objects.filter(status=ListingStatus.PUBLISHED, variant__isnull=False).values("variant_id")
    # A level never allocates more than it holds (stock_allocated_within_on_hand), so "nothing
    # left" is "no level with more on hand than allocated": an anti-join, rather than summing
    # the levels of every listed variant to keep the few at zero.
    in_stock = StockLevel.objects.filter(variant=OuterRef("pk"), on_hand__gt=F("allocated"))
    outs = ProductVariant.objects.filter(pk__in=listed).exclude(Exists(in_stock)).order_by()
    available = Coalesce(Sum(F("stock_levels__on_hand") - F("stock_levels__allocated")), Value(0))
    items = list(
        outs.annotate(available=available)
        .values("id", "sku", "title", "product_id", "product__title", "available")
        .order_by("product__title", "id")[:limit]
    )
    count = len(items) if len(items) < limit else outs.count()
    return {"count": count, "items": items}


# --- The dashboard -----------------------------------------------------------------------------------


def channel_label(code: str) -> str:
    try:
        return str(Channel(code).label)
    except ValueError:
        return code


def dashboard(*, shop: Shop, period: str = DEFAULT_PERIOD, now: dt.datetime | None = None) -> dict:
    w = window_for(period, shop.timezone, now)
    sales = _read_sales(w)
    by_channel = _sales_by(sales, lambda r: r["channel"], lambda r: channel_label(r["channel"]))
    by_market = _sales_by(
        sales, lambda r: r["market_id"], lambda r: sales.markets.get(r["market_id"]) or _("No market")
    )
    top = top_products_by_channel(w)
    for row in by_channel:
        row.top_products = top.get(row.key, [])
    return {
        "period": w.period,
        "periods": PERIODS.values(),
        "window": w,
        "currency": shop.default_currency,
        "totals": _total(by_channel),
        "by_channel": by_channel,
        "by_market": by_market,
        "series": sales_over_time(w, sales),
        "health": channel_health(),
        "stock_outs": stock_outs(),
        "open_issues": open_issue_counts(),
    }


def open_issue_counts() -> list[dict]:
    labels = dict(IssueKind.choices)
    rows = (
        ReconciliationIssue.objects.filter(status=ReconciliationIssue.Status.OPEN)
        .values("kind", "severity")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    merged: dict[str, dict] = {}
    for r in rows:
        entry = merged.setdefault(r["kind"], {"kind": r["kind"], "label": labels.get(r["kind"], r["kind"]), "n": 0})
        entry["n"] += r["n"]
        if r["severity"] == "error":
            entry["error"] = True
    return sorted(merged.values(), key=lambda e: -e["n"])
