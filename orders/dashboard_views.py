"""The dashboard (a section of the shop home) and the attention list.

Thin: orders.dashboard reads, orders.attention lists."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import formats
from django.utils.translation import gettext as _

from channels.models import ChannelAccount
from orders import charts
from orders.attention import attention_count, attention_items
from orders.dashboard import (
    DEFAULT_PERIOD,
    PERIODS,
    dashboard,
    rejected_listings_with_reason,
)
from shopadmin.decorators import shop_view
from shopadmin.roles import Perm

BUCKET_FORMATS = {"day": "M j", "week": "M j", "month": "M Y"}


def _bucket_label(period_key: str):
    fmt = BUCKET_FORMATS.get(period_key, "M j")
    return lambda day: formats.date_format(day, fmt)


def dashboard_section(request):
    """The shop home's dashboard: sales, channel health, stock-outs and what needs attention."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has_perm(Perm.VIEW):
        return None
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    context = dashboard(shop=request.shop, period=period)
    items = attention_items(shop=request.shop)
    context["attention_count"] = attention_count(items)
    context["attention_top"] = items[:4]
    currency = context["currency"]
    label = _bucket_label(period)
    series = context["series"]
    totals = context["totals"]
    context["time_chart"] = charts.revenue_over_time(
        series,
        title=_("Revenue %(by)s, in %(currency)s") % {"by": PERIODS[period].by, "currency": currency},
        desc=_("Bars: this period, %(total)s %(currency)s in all. Dashed line: the previous period, %(prev)s.")
        % {"total": totals.revenue, "currency": currency, "prev": totals.prev_revenue},
        label=label,
    )
    context["channel_chart"] = charts.revenue_by(
        context["by_channel"],
        title=_("Revenue by channel, in %(currency)s") % {"currency": currency},
        desc="; ".join(f"{row.label}: {row.revenue}" for row in context["by_channel"]) or _("No sales yet."),
    )
    context["series_labels"] = [(label(row["day"]), label(row["prev_day"]), row) for row in series]
    return "orders/_dashboard.html", context


@shop_view(Perm.VIEW)
def attention(request):
    items = attention_items(shop=request.shop)
    return render(request, "orders/attention.html", {"items": items, "total": attention_count(items)})


@shop_view(Perm.VIEW)
def rejection_listings(request):
    """The rejected listings of one account that share one reason (linked from the dashboard)."""
    account_id = request.GET.get("account", "")
    if not account_id.isdigit():
        raise Http404("No such account.")
    account = get_object_or_404(ChannelAccount, pk=int(account_id))
    field, message = request.GET.get("field", ""), request.GET.get("message", "")
    listings = rejected_listings_with_reason(account_id=account.pk, field=field, message=message)
    return render(
        request,
        "orders/rejections.html",
        {"account": account, "field": field, "message": message, "listings": listings},
    )
