"""An order's timeline and the issues that ask a merchant to act."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from channels.models import ChannelAccount
from orders.models import (
    IssueAction,
    Order,
    OrderEvent,
    ReconciliationIssue,
    Severity,
)
from shopadmin.audit import audit_record, current_actor
from shopadmin.words import Words


def _event(order: Order, kind: str, message: str | Words, **data) -> OrderEvent:
    """An unsaved timeline entry, for callers that insert several in one query. A message given
    as `Words` is shown in the reader's language (`OrderEvent.text`)."""
    if isinstance(message, Words):
        data["words"] = message.as_data()
        with translation.override("en"):
            message = str(message)
    return OrderEvent(
        shop_id=order.shop_id,
        order=order,
        kind=kind,
        message=message[:500],
        data=data,
        actor_label=current_actor().description[:200],
    )


def order_event(order: Order, kind: str, message: str | Words, **data) -> OrderEvent:
    event = _event(order, kind, message, **data)
    event.save(force_insert=True)
    return event


def issue_raise(
    *,
    account: ChannelAccount | int,
    kind: str,
    key: str,
    severity: str = Severity.WARNING,
    ours: str | Words = "",
    theirs: str | Words = "",
    detail: str | Words = "",
    suggested_action: str = IssueAction.RESOLVE,
    order: Order | None = None,
    run=None,
    resolved_note: str = "",
    data: dict | None = None,
) -> tuple[ReconciliationIssue, bool]:
    """Record a finding once: an open issue with the same (account, kind, key) is refreshed."""
    account_id = account if isinstance(account, int) else account.pk
    # Text given as words is kept in English in the text fields (the API, the admin search) and
    # as words for the pages, which show it in the reader's language.
    words = {name: value.as_data() for name, value in (("ours", ours), ("theirs", theirs), ("detail", detail))
             if isinstance(value, Words)}  # fmt: skip
    with translation.override("en"):
        ours, theirs, detail = str(ours), str(theirs), str(detail)
    values = {
        "severity": severity,
        "ours": ours[:500],
        "theirs": theirs[:500],
        "detail": detail[:1000],
        "words": words,
        "suggested_action": suggested_action,
        "order": order,
        "data": data or {},
        "updated_at": timezone.now(),
    }
    if run is not None:
        values["run"] = run
    if resolved_note:
        # A finding already dealt with (an order imported by reconciliation): kept as history.
        issue = ReconciliationIssue.objects.create(
            account_id=account_id,
            kind=kind,
            key=key[:200],
            status=ReconciliationIssue.Status.RESOLVED,
            resolution_note=resolved_note[:1000],
            resolved_at=timezone.now(),
            **values,
        )
        return issue, True
    existing = (
        ReconciliationIssue.objects.select_for_update()
        .filter(account_id=account_id, kind=kind, key=key[:200], status=ReconciliationIssue.Status.OPEN)
        .first()
    )
    if existing is not None:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        return existing, False
    settled = (
        ReconciliationIssue.objects.filter(
            account_id=account_id,
            kind=kind,
            key=key[:200],
            status=ReconciliationIssue.Status.RESOLVED,
            ours=values["ours"],
            theirs=values["theirs"],
        )
        .order_by("-resolved_at")
        .first()
    )
    if settled is not None:
        # Someone marked this very difference resolved: it stays resolved until the values change.
        return settled, False
    try:
        with transaction.atomic():
            issue = ReconciliationIssue.objects.create(account_id=account_id, kind=kind, key=key[:200], **values)
    except IntegrityError:
        # Raised concurrently by another import: the open one stands.
        return ReconciliationIssue.objects.get(
            account_id=account_id, kind=kind, key=key[:200], status=ReconciliationIssue.Status.OPEN
        ), False
    return issue, True


@transaction.atomic
def issue_resolve(*, issue: ReconciliationIssue, note: str = "") -> ReconciliationIssue:
    issue = ReconciliationIssue.objects.select_for_update().get(pk=issue.pk)
    if issue.status == ReconciliationIssue.Status.RESOLVED:
        return issue
    issue.status = ReconciliationIssue.Status.RESOLVED
    issue.resolution_note = (note or "").strip()[:1000]
    issue.resolved_at = timezone.now()
    issue.pending_action = ""
    issue.save(update_fields=["status", "resolution_note", "resolved_at", "pending_action"])
    audit_record(
        action="reconciliation_issue.resolve",
        instance=issue,
        changes={"status": ["open", "resolved"], "note": [None, issue.resolution_note]},
    )
    return issue
