"""Reads of the orders app that are more than a one-line query: the filtered order list,
the reconciliation overview."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from orders.models import Lifecycle, Order, ReconciliationIssue, ReconciliationRun


def _date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def order_list(
    *,
    channel: str = "",
    status: str = "",
    market: int | str | None = None,
    account: int | str | None = None,
    placed_from=None,
    placed_to=None,
    q: str = "",
) -> QuerySet[Order]:
    """Orders filtered by channel, status, market, account and date; searched by external id,
    customer (name or email) or SKU."""
    orders = Order.objects.select_related("account", "market", "customer")
    if channel:
        orders = orders.filter(channel=channel)
    if status in Lifecycle.values:
        orders = orders.filter(status=status)
    if market and str(market).isdigit():
        orders = orders.filter(market_id=int(market))
    if account and str(account).isdigit():
        orders = orders.filter(account_id=int(account))
    start, end = _date(placed_from), _date(placed_to)
    if start:
        orders = orders.filter(placed_at__date__gte=start)
    if end:
        orders = orders.filter(placed_at__date__lte=end)
    q = (q or "").strip()
    if q:
        orders = orders.filter(
            Q(external_id__iexact=q)
            | Q(buyer_email__iexact=q)
            | Q(buyer_name__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(pk__in=Order.objects.filter(lines__sku__iexact=q).values("pk"))
        )
    return orders.order_by("-placed_at", "-id")


def open_issues_grouped() -> list[dict]:
    """Open issues by kind and account, for the reconciliation page."""
    rows = (
        ReconciliationIssue.objects.filter(status=ReconciliationIssue.Status.OPEN)
        .values("kind", "account_id", "account__name")
        .annotate(n=Count("id"))
        .order_by("kind", "account__name")
    )
    return list(rows)


def recent_runs(limit: int = 20) -> QuerySet[ReconciliationRun]:
    return ReconciliationRun.objects.select_related("account", "job").order_by("-started_at", "-id")[:limit]
