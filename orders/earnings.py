"""What each channel earns: visits, checkout starts, orders, revenue and ad spend per source
(and campaign) over a range of the shop's local days. Read-only (a selector).

Three grouped queries whatever the number of orders: the daily traffic rows of the range, the
orders of the range summed per source (and campaign) — read from the `order_attribution`
index (shop, placed_at, source; with campaign, status and total_shop), so the orders table
itself is not visited — and the months of ad spend that overlap the range.

- Orders and revenue: orders placed in the range (the shop's local days), cancelled and fully
  refunded ones left out, at their total in the shop currency (`total_shop`; an order whose
  currency had no rate counts as an order with no revenue), as on the dashboard.
- Conversion rate: orders ÷ page views (none without page views: a channel's own orders, such
  as TikTok Shop's, have no visits on our pages).
- Ad spend: each month's spend counts for the days of the month inside the range
  (prorated by days: 10 days of a 30-day month count a third of it), rounded to the mill.
- ROAS: revenue ÷ ad spend (none without spend).
- By campaign: ad spend is entered per source, not per campaign, so campaign rows carry no
  spend and no ROAS; the total does.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.errors import OrdersErrorCode
from orders.models import AdSpend, Lifecycle, Order, TrafficDaily

ZERO = Decimal("0")
MILL = Decimal("0.001")
MONEY = DecimalField(max_digits=20, decimal_places=3)
NOT_SALES = (Lifecycle.CANCELLED, Lifecycle.REFUNDED)
MAX_DAYS = 731
DEFAULT_DAYS = 30
BY = ("source", "campaign")

SOURCE_LABELS = {
    "meta": gettext_lazy("Facebook & Instagram (Meta)"),
    "facebook": gettext_lazy("Facebook"),
    "instagram": gettext_lazy("Instagram"),
    "messenger": gettext_lazy("Messenger"),
    "whatsapp": gettext_lazy("WhatsApp"),
    "tiktok_shop": gettext_lazy("TikTok Shop"),
    "pinterest": gettext_lazy("Pinterest"),
    "snapchat": gettext_lazy("Snapchat"),
    "google_merchant": gettext_lazy("Google"),
    "checkout": gettext_lazy("Your checkout"),
    "direct": gettext_lazy("Direct (no campaign link)"),
}


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source or _("Unknown")))


@dataclass
class EarningsRow:
    source: str
    campaign: str | None = None  # None: the row is the whole source
    page_views: int = 0
    checkout_starts: int = 0
    orders: int = 0
    revenue: Decimal = ZERO
    ad_spend: Decimal | None = None

    @property
    def label(self) -> str:
        return source_label(self.source)

    @property
    def conversion_rate(self) -> Decimal | None:
        """Orders per page view (a fraction: 0.025 is 2.5%)."""
        if not self.page_views:
            return None
        return (Decimal(self.orders) / Decimal(self.page_views)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def average_order(self) -> Decimal | None:
        if not self.orders:
            return None
        return (self.revenue / self.orders).quantize(MILL, rounding=ROUND_HALF_UP)

    @property
    def roas(self) -> Decimal | None:
        """Revenue per unit of ad spend (4.00: 4 earned for 1 spent)."""
        if not self.ad_spend:
            return None
        return (self.revenue / self.ad_spend).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Earnings:
    start: dt.date
    end: dt.date
    by: str
    currency: str
    rows: list[EarningsRow]
    total: EarningsRow


def default_range(tz_name: str, now: dt.datetime | None = None, days: int = DEFAULT_DAYS) -> tuple[dt.date, dt.date]:
    """The last `days` local days, today included."""
    today = (now or timezone.now()).astimezone(ZoneInfo(tz_name or "UTC")).date()
    return today - dt.timedelta(days=days - 1), today


# Days a report can name (a range past them cannot hold orders, and would overflow the calendar).
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)


def check_range(start: dt.date, end: dt.date) -> None:
    for name, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(
                {
                    name: ValidationError(
                        _("Pick a day between %(first)s and %(last)s.")
                        % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
                        code=OrdersErrorCode.DATE_RANGE_INVALID,
                    )
                }
            )
    if end < start:
        raise ValidationError(
            {"end": ValidationError(_("The end is before the start."), code=OrdersErrorCode.DATE_RANGE_INVALID)}
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError(
            {
                "end": ValidationError(
                    _("A report covers at most %(days)s days.") % {"days": MAX_DAYS},
                    code=OrdersErrorCode.DATE_RANGE_INVALID,
                )
            }
        )


def _month_days(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def prorated_spend(spend: Decimal, month: dt.date, start: dt.date, end: dt.date) -> Decimal:
    """The part of a month's spend that falls on the days of [start, end]."""
    first = month.replace(day=1)
    last = first.replace(day=_month_days(first))
    days = (min(last, end) - max(first, start)).days + 1
    if days <= 0:
        return ZERO
    if days == _month_days(first):
        return spend
    return (spend * days / _month_days(first)).quantize(MILL, rounding=ROUND_HALF_UP)


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(MILL)


def spend_by_source(start: dt.date, end: dt.date) -> dict[str, Decimal]:
    spent: dict[str, Decimal] = {}
    for source, month, amount in AdSpend.objects.filter(month__gte=start.replace(day=1), month__lte=end).values_list(
        "source", "month", "amount"
    ):
        spent[source] = spent.get(source, ZERO) + prorated_spend(_money(amount), month, start, end)
    return spent


def channel_earnings(
    *, start: dt.date, end: dt.date, by: str = "source", tz_name: str | None = None, currency: str | None = None
) -> Earnings:
    """Rows per source (`by="source"`) or per source and campaign (`by="campaign"`) of the current
    shop, best revenue first, and their total. `start` and `end` are local days, both included."""
    from shopadmin.tenancy import current_shop

    check_range(start, end)
    if by not in BY:
        by = "source"
    if tz_name is None or currency is None:
        shop = current_shop()
        tz_name = shop.timezone if tz_name is None else tz_name
        currency = shop.default_currency if currency is None else currency
    tz = ZoneInfo(tz_name or "UTC")
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    keys = ["source", "campaign"] if by == "campaign" else ["source"]

    rows: dict[tuple, EarningsRow] = {}

    def row_for(r: dict) -> EarningsRow:
        key = tuple(r[k] for k in keys)
        row = rows.get(key)
        if row is None:
            row = rows[key] = EarningsRow(source=r["source"], campaign=r["campaign"] if by == "campaign" else None)
        return row

    for r in (
        TrafficDaily.objects.filter(day__gte=start, day__lte=end)
        .values(*keys)
        .annotate(views=Sum("page_views"), checkouts=Sum("checkout_starts"))
        .order_by()
    ):
        row = row_for(r)
        row.page_views += r["views"] or 0
        row.checkout_starts += r["checkouts"] or 0
    for r in (
        Order.objects.filter(placed_at__gte=since, placed_at__lt=until)
        .exclude(status__in=NOT_SALES)
        .values(*keys)
        .annotate(n=Count("*"), revenue=Coalesce(Sum("total_shop"), Value(ZERO), output_field=MONEY))
        .order_by()
    ):
        row = row_for(r)
        row.orders += r["n"]
        row.revenue += _money(r["revenue"])

    spent = spend_by_source(start, end)
    if by == "source":
        for source, amount in spent.items():
            row_for({"source": source}).ad_spend = amount
    ordered = sorted(rows.values(), key=lambda row: (-row.revenue, -row.page_views, row.source, row.campaign or ""))
    total = EarningsRow(source="", campaign=None)
    for row in ordered:
        total.page_views += row.page_views
        total.checkout_starts += row.checkout_starts
        total.orders += row.orders
        total.revenue += row.revenue
    total.ad_spend = sum(spent.values(), ZERO) if spent else None
    return Earnings(start=start, end=end, by=by, currency=currency or "", rows=ordered, total=total)
