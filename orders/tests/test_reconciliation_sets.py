"""A run compares the channel's orders with ours as sets in the database; its findings are the
ones the checks give when handed every order one by one."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.tests.factories import make_account
from orders import reconciliation
from orders.models import IssueKind, Lifecycle, Order, ReconciliationIssue, ReconciliationRun, Severity
from orders.reconciliation import DEFAULT_WINDOW, amount_mismatch, status_drift, unknown_to_channel
from orders.services.ingest import order_import
from orders.tests.conftest import channel_order
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db
ORDER_KINDS = {IssueKind.MISSING_ORDER, IssueKind.STATUS_DRIFT, IssueKind.AMOUNT_MISMATCH, IssueKind.UNKNOWN_TO_CHANNEL}


def _findings_one_by_one(account, theirs: dict, start) -> set[tuple]:
    """What the checks find given every order: the channel's by id (the last listing of each),
    ours of the window, and any order of the account we hold."""
    ours = {o.external_id: o for o in Order.objects.filter(account=account, placed_at__gte=start)}
    held = set(Order.objects.filter(account=account).values_list("external_id", flat=True))
    found = []
    for external_id, data in theirs.items():
        if external_id not in held:
            found.append((IssueKind.MISSING_ORDER, external_id, Severity.WARNING))
        elif external_id in ours:
            order = ours[external_id]
            found += [
                (f.kind, f.key, f.severity) for f in (status_drift(order, data), amount_mismatch(order, data)) if f
            ]
    found += [(f.kind, f.key, f.severity) for f in unknown_to_channel(ours, theirs)]
    return set(found)


def test_a_run_finds_what_the_checks_find_order_by_order(shop_a, monkeypatch):
    account = make_account(shop_a, "meta")
    now = timezone.now()
    with shop_context(shop_a):
        for n in range(40):
            order_import(account=account, data=channel_order(f"S{n:02d}", lines=(("TEE-M", 1, "20.00"),)))
        for n in range(2):  # placed before the window; the channel lists them as updated since
            order_import(account=account, data=channel_order(f"OLD{n}", updated_at=now - dt.timedelta(days=40)))
        Order.objects.filter(external_id__in=["S01", "S02"]).update(status=Lifecycle.PARTIALLY_REFUNDED)
        Order.objects.filter(external_id__in=["S03", "S04"]).update(status=Lifecycle.PENDING)

        listed = []
        for n in range(40):
            if n == 39:
                continue  # ours only: the channel does not list it
            data = channel_order(f"S{n:02d}", lines=(("TEE-M", 1, "20.00"),))
            if n in (1, 5):  # refunded here and fulfilled there; awaiting here and fulfilled there
                data.channel_status, data.lifecycle = "COMPLETED", Lifecycle.FULFILLED
            if n in (3, 6):  # pending here and awaiting there, awaiting here and pending there
                data.channel_status, data.lifecycle = "CREATED", Lifecycle.AWAITING_FULFILLMENT
            if n == 6:
                data.lifecycle = Lifecycle.PENDING
            if n in (7, 8):
                data.channel_status, data.lifecycle = "CANCELLED", Lifecycle.CANCELLED
            if n == 8:
                data.updated_at = now + dt.timedelta(hours=1)  # newer there: refresh rather than push
            if n == 10:
                data.total += Decimal("0.005")  # within one minor unit
            if n in (11, 12):
                data.total += Decimal("0.50")
            if n == 13:
                data.currency = "usd"  # the same currency, written otherwise
            if n == 14:
                data.currency = "EUR"
            listed.append(data)
        # Listed twice: the last listing is the channel's view (here, no longer different).
        first = copy.deepcopy(listed[15])
        first.total += Decimal("5")
        listed.insert(3, first)
        last = copy.deepcopy(listed[25])
        last.total += Decimal("3")  # and here, different at last
        listed.append(last)
        listed.append(channel_order("OLD0", status="CANCELLED", lifecycle=Lifecycle.CANCELLED))
        listed += [channel_order("NEW-1"), channel_order("NEW-2", total="12.34")]
        theirs = {}
        for data in listed:
            theirs[data.external_id] = data
        expected = _findings_one_by_one(account, theirs, now - DEFAULT_WINDOW)
        window = Order.objects.filter(account=account, placed_at__gte=now - DEFAULT_WINDOW)
        orders_checked = len(set(theirs) | set(window.values_list("external_id", flat=True)))

        pages = [listed[i : i + 7] for i in range(0, len(listed), 7)]
        monkeypatch.setattr(reconciliation, "_channel_orders_since", lambda account, start: iter(pages))
        run = reconciliation.reconciliation_run(run=ReconciliationRun.objects.create(account=account))
        found = set(
            ReconciliationIssue.objects.filter(run=run, kind__in=ORDER_KINDS).values_list("kind", "key", "severity")
        )

    assert run.status == ReconciliationRun.Status.SUCCEEDED, run.error
    assert found == expected
    assert {kind for kind, _key, _severity in expected} == ORDER_KINDS
    assert len(expected) >= 9
    assert run.orders_checked == orders_checked
    with shop_context(shop_a):
        assert Order.objects.filter(external_id__in=["NEW-1", "NEW-2"]).count() == 2
