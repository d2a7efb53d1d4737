"""Writes back to the channel: acknowledgements, fulfilments and cancellations, each sent the
same way (one attempt per task run, the outcome recorded on the order and in an issue)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from channels.adapters.base import ShipmentLine
from channels.health import account_refused, account_usable, refusal_message
from channels.models import ChannelAccount
from orders.models import (
    CLOSED,
    Cancellation,
    Fulfillment,
    IssueAction,
    IssueKind,
    Lifecycle,
    Order,
    OrderEvent,
    PushState,
    ReconciliationIssue,
    Severity,
)
from orders.services.timeline import issue_raise, order_event
from shopadmin.words import Words


def _ack_key(order: Order) -> str:
    # Stable per order: a retried or redelivered acknowledgement is the same request to Meta.
    return hashlib.sha256(f"ack:{order.shop_id}:{order.account_id}:{order.external_id}".encode()).hexdigest()[:40]


def _acknowledgeable(order: Order) -> bool:
    """Whether the channel takes an acknowledgement of this order now: it has the call, the
    account's buyers check out on the channel, and the order is in a state the channel lets
    be acknowledged (Meta: CREATED; an FB_PROCESSING order waits)."""
    from channels.adapters import ADAPTERS

    adapter_class = ADAPTERS.get(order.channel)
    if adapter_class is None or not adapter_class.acknowledges_orders:
        return False
    if order.account.checkout_method == ChannelAccount.CheckoutMethod.CHECKOUT_URL:
        return False
    states = adapter_class.acknowledgeable_states
    return states is None or order.channel_status in states


def _schedule_acknowledge(order: Order) -> None:
    from orders.tasks import order_acknowledge_task

    if order.acknowledged_at is not None or order.status in CLOSED or not _acknowledgeable(order):
        return
    shop_id, order_id = order.shop_id, order.pk
    transaction.on_commit(lambda: order_acknowledge_task.delay(shop_id, order_id))


# How far back owed acknowledgements are asked for again.
ACKNOWLEDGE_SWEEP_DAYS = 30


def acknowledgements_owed(*, account: ChannelAccount) -> int:
    """Ask again for every acknowledgement the account's orders still owe the channel (refused,
    lost, or waiting for the channel to release the order); runs after each poll."""
    since = timezone.now() - dt.timedelta(days=ACKNOWLEDGE_SWEEP_DAYS)
    owed = (
        Order.objects.select_related("account")
        .filter(account=account, acknowledged_at=None, placed_at__gte=since)
        .exclude(status__in=CLOSED)
        .order_by("pk")
    )
    count = 0
    for order in owed:
        if _acknowledgeable(order):
            _schedule_acknowledge(order)
            count += 1
    return count


def _adapter(account: ChannelAccount):
    from channels.adapters import adapter_for

    return adapter_for(account)


def _supports(adapter, name: str) -> bool:
    from channels.adapters.base import ChannelAdapter

    return getattr(type(adapter), name) is not getattr(ChannelAdapter, name)


def pushes_resume(account: ChannelAccount) -> int:
    """The account works again (reconnected): send what waited for it, fulfilments and
    cancellations not yet sent; acknowledgements follow with the next poll."""
    from orders.tasks import cancellation_push_task, fulfillment_push_task

    count = 0
    for pk in Fulfillment.objects.filter(order__account=account, push_state=PushState.PENDING).values_list(
        "pk", flat=True
    ):
        fulfillment_push_task.delay(account.shop_id, pk)
        count += 1
    for pk in Cancellation.objects.filter(order__account=account, push_state=PushState.PENDING).values_list(
        "pk", flat=True
    ):
        cancellation_push_task.delay(account.shop_id, pk)
        count += 1
    return count


# Every write back to the channel (acknowledgement, fulfilment, cancellation) goes the same way:
# the attempt is counted; a token the channel refuses leaves it waiting for the reconnect; a
# transient error or rate limit goes up for the task to retry (orders.tasks.PushTask) until the
# final attempt, which is recorded as failed with a re-push issue like any refusal; and an
# attempt that gets through later resolves that issue.
UNSENT_PUSH_STATES = (PushState.PENDING, PushState.FAILED)  # sent (again) from these; the others are settled


def _push_send(account: ChannelAccount, adapter, send, *, final_attempt: bool, note_retry) -> tuple[str, str] | None:
    """Make one call back to the channel: (push state, error), or None when the channel refused
    the account's token (the write waits for the reconnect). A transient error or rate limit is
    noted with `note_retry(error)` and raised for the task to retry, unless this is the last try."""
    from channels.adapters.base import AdapterError, NotSupported, RateLimited, TransientError

    try:
        with adapter:
            send(adapter)
    except NotSupported:
        return PushState.NOT_SUPPORTED, ""
    except (TransientError, RateLimited) as exc:
        if not final_attempt:
            note_retry(str(exc)[:500])
            raise
        return PushState.FAILED, str(exc)
    except AdapterError as exc:
        if refused := refusal_message(account, exc):
            account_refused(account, refused)
            return None
        return PushState.FAILED, str(exc)
    return PushState.PUSHED, ""


def _push_settle(
    *,
    order: Order,
    key: str,
    state: str,
    error: str,
    ours: str | Words,
    detail: str | Words,
    resolved_note: str,
    data: dict | None = None,
) -> None:
    """The re-push issue of one write: raised (or refreshed) when it failed, resolved once it got through."""
    if state == PushState.PUSHED:
        ReconciliationIssue.objects.filter(
            kind=IssueKind.PUSH_FAILED, key=key, account=order.account, status=ReconciliationIssue.Status.OPEN
        ).update(status=ReconciliationIssue.Status.RESOLVED, resolved_at=timezone.now(), resolution_note=resolved_note)
    elif state == PushState.FAILED:
        issue_raise(
            account=order.account,
            kind=IssueKind.PUSH_FAILED,
            key=key,
            severity=Severity.ERROR,
            ours=ours,
            theirs=error[:500],
            detail=detail,
            suggested_action=IssueAction.REPUSH,
            order=order,
            data=data,
        )


def _push_row(
    row: Fulfillment | Cancellation,
    send,
    *,
    final_attempt: bool,
    key: str,
    sent: Words,
    not_sent: str,
    ours: str | Words,
    detail: str | Words,
    ours_data: dict | None = None,
) -> str:
    """Send a fulfilment or cancellation (`send(adapter)`) and record the outcome on it, on the
    order's timeline and as its re-push issue. `not_sent` is an untranslated text that takes the
    error as %(e)s; `ours_data` is what the issue keeps of our side (a status to show translated)."""
    model = type(row)
    order = row.order
    if not account_usable(order.account):
        return row.push_state  # waits; sent when the account is reconnected
    model.objects.filter(pk=row.pk).update(push_attempts=F("push_attempts") + 1)
    outcome = _push_send(
        order.account,
        _adapter(order.account),
        send,
        final_attempt=final_attempt,
        note_retry=lambda error: model.objects.filter(pk=row.pk).update(push_error=error),
    )
    if outcome is None:
        return row.push_state  # waits; sent when the account is reconnected
    state, error = outcome
    with transaction.atomic():
        model.objects.filter(pk=row.pk).update(
            push_state=state, push_error=error[:500], pushed_at=timezone.now() if state == PushState.PUSHED else None
        )
        if state == PushState.PUSHED:
            order_event(order, OrderEvent.Kind.PUSHED, sent)
        elif state == PushState.FAILED:
            order_event(order, OrderEvent.Kind.PUSH_FAILED, Words(not_sent, e=error[:300]))
        _push_settle(
            order=order,
            key=key,
            state=state,
            error=error,
            ours=ours,
            detail=detail,
            resolved_note=_("Sent on a later attempt."),
            data={"ours": ours_data} if ours_data else None,
        )
    return state


def order_acknowledge(*, order: Order, final_attempt: bool = True) -> bool:
    """Tell the channel we have the order (Meta); channels without the call need nothing."""
    order = Order.objects.select_related("account").get(pk=order.pk)
    if order.acknowledged_at is not None:
        return True
    if not _acknowledgeable(order) or not account_usable(order.account):
        # Not (yet) in a state the channel takes an acknowledgement in, or the account needs
        # reconnecting: asked again by the next poll.
        return False
    adapter = _adapter(order.account)
    if not _supports(adapter, "acknowledge_order"):
        return False
    Order.objects.filter(pk=order.pk).update(acknowledge_attempts=F("acknowledge_attempts") + 1)
    outcome = _push_send(
        order.account,
        adapter,
        lambda adapter: adapter.acknowledge_order(
            order.external_id, merchant_order_reference=f"SA-{order.pk}", idempotency_key=_ack_key(order)
        ),
        final_attempt=final_attempt,
        note_retry=lambda error: Order.objects.filter(pk=order.pk).update(acknowledge_error=error),
    )
    if outcome is None:
        return False  # asked again once the account is reconnected
    state, error = outcome
    with transaction.atomic():
        if state == PushState.PUSHED:
            Order.objects.filter(pk=order.pk).update(acknowledged_at=timezone.now(), acknowledge_error="")
            order_event(
                order,
                OrderEvent.Kind.ACKNOWLEDGED,
                Words(gettext_noop("Acknowledged to %(ch)s"), ch=order.account.name),
            )
        elif state == PushState.FAILED:
            Order.objects.filter(pk=order.pk).update(acknowledge_error=error[:500])
        _push_settle(
            order=order,
            key=f"ack:{order.external_id}",
            state=state,
            error=error,
            ours=Words(gettext_noop("acknowledgement")),
            detail=Words(gettext_noop("The channel refused the acknowledgement of order %(o)s."), o=order.external_id),
            resolved_note=_("Acknowledged on a later attempt."),
        )
    return state == PushState.PUSHED


def fulfillment_push(*, fulfillment: Fulfillment, final_attempt: bool = True) -> str:
    """Send a fulfilment to the channel. Transient failures raise (the task retries with
    backoff) unless this is the final attempt; refusals are recorded with a re-push issue."""
    fulfillment = Fulfillment.objects.select_related("order__account").get(pk=fulfillment.pk)
    if fulfillment.push_state not in UNSENT_PUSH_STATES:
        return fulfillment.push_state
    order = fulfillment.order
    picks = [
        ShipmentLine(channel_item_id=fl.line.channel_item_id or fl.line.sku, quantity=fl.quantity)
        for fl in fulfillment.lines.select_related("line")
    ]
    return _push_row(
        fulfillment,
        lambda adapter: adapter.push_fulfillment(
            order.external_id,
            lines=picks,
            carrier=fulfillment.carrier,
            tracking_number=fulfillment.tracking_number,
            tracking_url=fulfillment.tracking_url,
            idempotency_key=f"fulfil-{order.shop_id}-{fulfillment.pk}",
        ),
        final_attempt=final_attempt,
        key=f"fulfillment:{fulfillment.pk}",
        sent=Words(gettext_noop("Fulfilment sent to %(ch)s"), ch=order.account.name),
        not_sent=gettext_noop("Fulfilment not sent: %(e)s"),
        ours=f"{fulfillment.carrier} {fulfillment.tracking_number}".strip(),
        detail=Words(gettext_noop("The fulfilment of order %(o)s did not reach the channel."), o=order.external_id),
    )


def cancellation_push(*, cancellation: Cancellation, final_attempt: bool = True) -> str:
    """Send a cancellation to the channel, the way a fulfilment is sent (see fulfillment_push)."""
    cancellation = Cancellation.objects.select_related("order__account").get(pk=cancellation.pk)
    if cancellation.push_state not in UNSENT_PUSH_STATES:
        return cancellation.push_state
    order = cancellation.order
    return _push_row(
        cancellation,
        lambda adapter: adapter.cancel_order(
            order.external_id,
            reason=cancellation.reason,
            idempotency_key=f"cancel-{order.shop_id}-{cancellation.pk}",
        ),
        final_attempt=final_attempt,
        key=f"cancellation:{cancellation.pk}",
        sent=Words(gettext_noop("Cancellation sent to %(ch)s"), ch=order.account.name),
        not_sent=gettext_noop("Cancellation not sent: %(e)s"),
        ours=Words(gettext_noop("cancelled")),
        ours_data={"lifecycle": Lifecycle.CANCELLED},
        detail=Words(gettext_noop("The cancellation of order %(o)s did not reach the channel."), o=order.external_id),
    )
