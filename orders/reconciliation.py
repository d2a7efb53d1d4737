"""Reconciliation: compare what a channel says about an account's orders with what we hold.

One run per account over a window. Findings are ReconciliationIssues (one open issue per
account, kind and key, refreshed by later runs); the run keeps the counts by kind.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import health
from channels.adapters import adapter_for
from channels.adapters.base import AdapterError, ChannelOrder
from channels.models import ChannelAccount
from orders.models import (
    CLOSED,
    IssueAction,
    IssueKind,
    Lifecycle,
    Order,
    OrderLine,
    ReconciliationIssue,
    ReconciliationRun,
    Severity,
)
from orders.services import amount_tolerance, issue_raise, order_import
from orders.sync import ORDER_CHANNELS, channel_orders, channel_refused
from shopadmin.audit import audit_record
from shopadmin.services import job_finish, job_progress

DEFAULT_WINDOW = dt.timedelta(days=30)
PROGRESS_EVERY = 500


@transaction.atomic
def reconciliation_start(*, account: ChannelAccount, trigger: str = "manual", created_by=None) -> ReconciliationRun:
    """Record a run (with a job for the progress bar) and queue it after commit."""
    from orders.tasks import reconciliation_run_task
    from shopadmin.services import job_create

    if account.channel not in ORDER_CHANNELS:
        raise ValidationError(
            {"account": _("%(ch)s has no order API to reconcile against.") % {"ch": account.get_channel_display()}}
        )
    _require_usable(account)
    job = job_create(kind="reconciliation", label=_("Reconcile %(a)s") % {"a": account.name}, created_by=created_by)
    run = ReconciliationRun.objects.create(account=account, trigger=trigger, job=job)
    audit_record(action="reconciliation.start", instance=run, changes={"account": [None, account.pk]})
    shop_id, run_id = run.shop_id, run.pk
    transaction.on_commit(lambda: reconciliation_run_task.delay(shop_id, run_id))
    return run


def _require_usable(account: ChannelAccount) -> None:
    if not health.account_usable(account):
        from channels.health import reconnect_message

        raise ValidationError({"account": reconnect_message(account)})


def _status_finding(order: Order, theirs: ChannelOrder) -> tuple[str, str] | None:
    """(ours, theirs) when the lifecycles disagree in a way that needs someone's attention."""
    ours = order.status
    if ours == theirs.lifecycle:
        return None
    # Refunds are ours to record and the channel keeps the order fulfilled or cancelled.
    if ours in (Lifecycle.PARTIALLY_REFUNDED, Lifecycle.REFUNDED) and theirs.lifecycle in (
        Lifecycle.FULFILLED,
        Lifecycle.CANCELLED,
    ):
        return None
    # Awaiting fulfilment here and still being processed there is the same state.
    if {ours, theirs.lifecycle} == {Lifecycle.PENDING, Lifecycle.AWAITING_FULFILLMENT} and ours not in CLOSED:
        return None
    return ours, f"{theirs.channel_status} ({theirs.lifecycle})"


def reconciliation_run(*, run: ReconciliationRun, window: dt.timedelta = DEFAULT_WINDOW) -> ReconciliationRun:
    """Compare, record findings, finish the run. Each import is its own transaction."""
    account = run.account
    now = timezone.now()
    start = now - window
    job = run.job
    counts: dict[str, int] = {}

    def found(kind: str, **kwargs) -> None:
        issue, _created = issue_raise(account=account, kind=kind, run=run, **kwargs)
        if issue.status == ReconciliationIssue.Status.OPEN or kwargs.get("resolved_note"):
            counts[kind] = counts.get(kind, 0) + 1

    if not health.account_usable(account):
        # Queued before the account needed reconnecting: the channel is not called, nothing is found.
        from channels.health import reconnect_message

        return _run_stopped(run, reconnect_message(account))
    try:
        ReconciliationRun.objects.filter(pk=run.pk).update(window_start=start, window_end=now)
        theirs: dict[str, ChannelOrder] = {}
        try:
            with adapter_for(account) as adapter:
                for raw in channel_orders(account, since=int(start.timestamp()), adapter=adapter):
                    data = adapter.normalize_order(raw)
                    theirs[data.external_id] = data
        except AdapterError as exc:
            if channel_refused(account, exc):
                return _run_stopped(run, str(exc))
            raise
        health.account_call_succeeded(account)
        ours = {
            o.external_id: o
            for o in Order.objects.filter(account=account, placed_at__gte=start).only(
                "id", "external_id", "status", "channel_status", "total", "currency", "channel_updated_at", "placed_at"
            )
        }
        known = set(ours) | set(
            Order.objects.filter(account=account, external_id__in=[e for e in theirs if e not in ours]).values_list(
                "external_id", flat=True
            )
        )
        total = len(set(theirs) | set(ours))
        if job is not None:
            job_progress(job=job, done=0, total=total)
        done = 0
        for external_id, data in theirs.items():
            done += 1
            if job is not None and done % PROGRESS_EVERY == 0:
                job_progress(job=job, done=done)
            order = ours.get(external_id)
            if external_id not in known:
                try:
                    order, _outcome = order_import(account=account, data=data, via="reconciliation")
                except ValidationError as exc:
                    with transaction.atomic():
                        found(
                            IssueKind.MISSING_ORDER,
                            key=external_id,
                            severity=Severity.ERROR,
                            ours=_("not here"),
                            theirs=f"{data.channel_status} {data.total} {data.currency}",
                            detail=_("Import failed: %(e)s") % {"e": "; ".join(exc.messages)},
                            suggested_action=IssueAction.IMPORT,
                        )
                    continue
                with transaction.atomic():
                    found(
                        IssueKind.MISSING_ORDER,
                        key=external_id,
                        severity=Severity.WARNING,
                        ours=_("not here"),
                        theirs=f"{data.channel_status} {data.total} {data.currency}",
                        detail=_("The channel has order %(o)s that never reached us; it has been imported.")
                        % {"o": external_id},
                        suggested_action=IssueAction.IMPORT,
                        order=order,
                        resolved_note=_("Imported by reconciliation."),
                    )
                continue
            if order is None:
                continue  # placed before the window; the channel only lists it as updated
            with transaction.atomic():
                finding = _status_finding(order, data)
                if finding:
                    newer_there = (
                        data.updated_at is not None
                        and order.channel_updated_at is not None
                        and data.updated_at > order.channel_updated_at
                    )
                    found(
                        IssueKind.STATUS_DRIFT,
                        key=external_id,
                        ours=finding[0],
                        theirs=finding[1],
                        detail=_("Order %(o)s is %(ours)s here and %(theirs)s on the channel.")
                        % {"o": external_id, "ours": finding[0], "theirs": finding[1]},
                        suggested_action=IssueAction.REFRESH if newer_there else IssueAction.REPUSH,
                        order=order,
                    )
                if data.currency.upper() != order.currency or abs(data.total - order.total) > amount_tolerance(
                    order.currency
                ):
                    found(
                        IssueKind.AMOUNT_MISMATCH,
                        key=external_id,
                        severity=Severity.ERROR,
                        ours=f"{order.total} {order.currency}",
                        theirs=f"{data.total} {data.currency}",
                        detail=_("The totals of order %(o)s differ by more than one minor unit.") % {"o": external_id},
                        suggested_action=IssueAction.REFRESH,
                        order=order,
                    )
        for external_id, order in ours.items():
            if external_id in theirs:
                continue
            done += 1
            with transaction.atomic():
                found(
                    IssueKind.UNKNOWN_TO_CHANNEL,
                    key=external_id,
                    severity=Severity.ERROR,
                    ours=f"{order.status} {order.total} {order.currency}",
                    theirs=_("not on the channel"),
                    detail=_("We hold order %(o)s but the channel does not list it.") % {"o": external_id},
                    suggested_action=IssueAction.RESOLVE,
                    order=order,
                )
        # Lines we could not match, and oversold lines of orders still open, in the window.
        window_lines = OrderLine.objects.filter(order__account=account, order__placed_at__gte=start).select_related(
            "order"
        )
        for line in window_lines.filter(variant__isnull=True):
            with transaction.atomic():
                found(
                    IssueKind.UNKNOWN_ITEM,
                    key=f"{line.order.external_id}:{line.channel_item_id or line.sku}",
                    severity=Severity.ERROR,
                    ours=_("no variant with SKU %(sku)s") % {"sku": line.sku or "—"},
                    theirs=line.channel_item_id or line.sku,
                    detail=_("Order %(o)s has an item we cannot match.") % {"o": line.order.external_id},
                    order=line.order,
                )
        for line in window_lines.filter(quantity_short__gt=0).exclude(order__status__in=list(CLOSED)):
            with transaction.atomic():
                found(
                    IssueKind.OVERSELL,
                    key=f"{line.order.external_id}:{line.channel_item_id or line.sku}",
                    severity=Severity.ERROR,
                    ours=_("%(n)d available") % {"n": line.quantity_allocated},
                    theirs=_("%(n)d ordered") % {"n": line.open_quantity},
                    detail=_("Order %(o)s is short of %(n)d x %(sku)s.")
                    % {"o": line.order.external_id, "n": line.quantity_short, "sku": line.sku},
                    order=line.order,
                )
        # Listings the channel rejected or lost: the merchant re-publishes from the channels app.
        from channels.models import ChannelListing, ListingStatus

        drifted = ChannelListing.objects.filter(
            account=account, status__in=[ListingStatus.REJECTED, ListingStatus.ERROR]
        )
        for listing in drifted:
            with transaction.atomic():
                found(
                    IssueKind.LISTING_DRIFT,
                    key=f"listing:{listing.item_id}",
                    ours=_("listed"),
                    theirs=listing.get_status_display(),
                    detail="; ".join(
                        str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in listing.errors
                    )[:1000],
                    suggested_action=IssueAction.RESOLVE,
                )
        # Quantities the channel sells from (what it last accepted) against our available stock.
        from django.db.models import F, Sum

        from catalog.models import StockLevel

        published = list(
            ChannelListing.objects.filter(account=account, status=ListingStatus.PUBLISHED, variant__isnull=False)
        )
        available = dict(
            StockLevel.objects.filter(variant_id__in={lst.variant_id for lst in published})
            .values("variant_id")
            .annotate(n=Sum(F("on_hand") - F("allocated")))
            .values_list("variant_id", "n")
        )
        with adapter_for(account) as adapter:
            for listing in published:
                stated = adapter.payload_quantity(listing.accepted_payload or {})
                ours = max(0, int(available.get(listing.variant_id) or 0))
                if stated is None or stated == ours:
                    continue
                with transaction.atomic():
                    found(
                        IssueKind.LISTING_DRIFT,
                        key=f"quantity:{listing.item_id}",
                        ours=_("%(n)d available") % {"n": ours},
                        theirs=_("%(n)d on sale") % {"n": stated},
                        detail=_("The channel sells %(item)s from a quantity that is no longer ours; publish again.")
                        % {"item": listing.item_id},
                        suggested_action=IssueAction.RESOLVE,
                    )
        run.status = ReconciliationRun.Status.SUCCEEDED
        run.orders_checked = total
        run.counts = counts
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "orders_checked", "counts", "finished_at"])
        if job is not None:
            job_finish(job=job, result={"counts": counts, "orders_checked": total})
    except Exception as exc:
        run.status = ReconciliationRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:1000]
        run.counts = counts
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "counts", "finished_at"])
        if job is not None:
            job_finish(job=job, error=run.error)
        raise
    return run


def _run_stopped(run: ReconciliationRun, message: str) -> ReconciliationRun:
    """End a run that could not ask the channel (its account needs reconnecting): failed, with
    the one reason, and no findings (the orders are not at fault)."""
    run.status = ReconciliationRun.Status.FAILED
    run.error = message[:1000]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    if run.job is not None:
        job_finish(job=run.job, error=run.error)
    return run


def issue_act(*, issue: ReconciliationIssue, action: str, note: str = "") -> ReconciliationIssue:
    """The one-click actions: import or refresh the order from the channel, re-push, resolve."""
    from orders.models import Cancellation, Fulfillment, IssueAction, PushState
    from orders.services import cancellation_push, fulfillment_push, issue_resolve, order_acknowledge
    from orders.sync import channel_order_fetch

    if issue.status != ReconciliationIssue.Status.OPEN:
        raise ValidationError(_("This issue is already resolved."))
    account = issue.account
    if action == IssueAction.RESOLVE:
        return issue_resolve(issue=issue, note=note)
    _require_usable(account)
    if action in (IssueAction.IMPORT, IssueAction.REFRESH):
        external_id = issue.order.external_id if issue.order_id else issue.key.split(":")[0]
        raw = channel_order_fetch(account, external_id)
        if raw is None:
            raise ValidationError(_("The channel does not list order %(o)s.") % {"o": external_id})
        with adapter_for(account) as adapter:
            data = adapter.normalize_order(raw)
        with transaction.atomic():
            order, outcome = order_import(account=account, data=data, via="reconciliation")
            if outcome == "stale":
                raise ValidationError(_("We already hold a newer version of this order."))
            Order.objects.filter(pk=order.pk).update(channel_updated_at=data.updated_at)
        return issue_resolve(issue=issue, note=note or _("Refreshed from the channel."))
    if action == IssueAction.REPUSH:
        kind, _sep, ident = issue.key.partition(":")
        if kind == "fulfillment" and ident.isdigit():
            fulfillment = Fulfillment.objects.get(pk=int(ident))
            Fulfillment.objects.filter(pk=fulfillment.pk).update(push_state=PushState.PENDING)
            state = fulfillment_push(fulfillment=fulfillment)
        elif kind == "cancellation" and ident.isdigit():
            state = cancellation_push(cancellation=Cancellation.objects.get(pk=int(ident)))
        elif kind == "ack" and issue.order_id:
            state = PushState.PUSHED if order_acknowledge(order=issue.order) else PushState.FAILED
        elif issue.order_id:
            states = []
            for fulfillment in issue.order.fulfillments.exclude(push_state=PushState.NOT_NEEDED):
                Fulfillment.objects.filter(pk=fulfillment.pk).update(push_state=PushState.PENDING)
                states.append(fulfillment_push(fulfillment=fulfillment))
            state = PushState.PUSHED if states and all(s == PushState.PUSHED for s in states) else PushState.FAILED
        else:
            raise ValidationError(_("Nothing to send again for this issue."))
        if state in (PushState.PUSHED, PushState.NOT_SUPPORTED):
            return issue_resolve(issue=issue, note=note or _("Sent again (%(s)s).") % {"s": state})
        raise ValidationError(_("The channel refused it again; see the order's timeline."))
    raise ValidationError({"action": _("Choose one of: %s.") % ", ".join(IssueAction.values)})
