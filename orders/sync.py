"""Getting orders in: the webhook handler registered with the channels app, and polling.

Both read the channel's current view of an order through its adapter, normalise it there
(the adapter is the only place that knows a wire format) and hand it to ``order_import``,
whose upsert makes redelivery, out-of-order delivery and polling overlap harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from channels import health
from channels.adapters import ADAPTERS, adapter_for
from channels.adapters.base import AdapterError, ChannelAdapter, RateLimited, TransientError
from channels.models import ChannelAccount
from channels.services import webhook_events_drain
from channels.wording import error_words
from orders.models import OrderSyncCursor
from orders.services.ingest import order_import, orders_import_batch
from orders.services.pushes import acknowledgements_owed

logger = logging.getLogger(__name__)

# The channels whose orders come through an order API (the rest sell elsewhere).
ORDER_CHANNELS = tuple(channel for channel, cls in ADAPTERS.items() if cls.has_order_api)
# Polling asks again for this much before the cursor: a channel's update times can land out
# of order around the moment of the last poll. The upsert makes the overlap harmless.
POLL_OVERLAP = dt.timedelta(minutes=5)
# Meta's order webhook names the order only. It is read on its own (`GET /{order_id}`); only
# when that read does not find it is the order list searched from shortly before the event.
META_EVENT_LOOKBACK = dt.timedelta(minutes=30)


def _pages(adapter: ChannelAdapter, account: ChannelAccount, since: int | None) -> Iterator[list[dict]]:
    kwargs = adapter.order_poll_options()
    cursor = None
    while True:
        page = adapter.fetch_orders(since=since, cursor=cursor, **kwargs)
        yield page.orders
        if not page.next_cursor or not page.orders:
            return
        cursor = page.next_cursor


def channel_orders(account: ChannelAccount, *, since: int | None = None, adapter=None) -> Iterator[dict]:
    """Every order the channel lists for the account, updated at or after `since` (Unix seconds);
    none for an account whose buyers check out on the shop's own checkout URL."""
    if not sells_through_order_api(account):
        return
    own = adapter is None
    adapter = adapter or adapter_for(account)
    try:
        for page in _pages(adapter, account, since):
            yield from page
    finally:
        if own:
            adapter.close()


def channel_order_fetch(
    account: ChannelAccount, external_id: str, *, hint: dt.datetime | None = None, adapter=None
) -> dict | None:
    """The channel's current view of one order: a single read where the adapter has one,
    the order list around `hint` when it has none or the single read does not find it
    (a channel can list an order a moment before its own read of it answers)."""
    own = adapter is None
    adapter = adapter or adapter_for(account)
    try:
        if hasattr(adapter, "order_detail"):
            found = adapter.order_detail([external_id])
            raw = next((o for o in found if str(o.get("id")) == external_id), None)
            if raw is not None:
                return raw
        since = int(((hint or timezone.now()) - META_EVENT_LOOKBACK).timestamp())
        for raw in channel_orders(account, since=since, adapter=adapter):
            if str(raw.get("id")) == external_id:
                return raw
        return None
    finally:
        if own:
            adapter.close()


def _event_time(parsed) -> dt.datetime | None:
    body = parsed.data if isinstance(parsed.data, dict) else {}
    stamp = body.get("timestamp") or next((e.get("time") for e in body.get("entry") or [] if e.get("time")), None)
    try:
        return dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC) if stamp else None
    except (TypeError, ValueError, OverflowError):
        return None


class OrderNotFoundOnChannel(LookupError):
    pass


class AccountNeedsReconnect(RuntimeError):
    """The account cannot call its channel until the merchant reconnects it."""


def channel_refused(account: ChannelAccount, exc: Exception) -> bool:
    """Tell the account's health what a failed channel call means: True when the channel
    refused the account's credentials (now marked as needing reconnecting)."""
    from channels.health import refusal_message

    if not isinstance(exc, AdapterError) or isinstance(exc, (TransientError, RateLimited)):
        return False
    message = refusal_message(account, exc)
    if message:
        health.account_refused(account, message)
        return True
    health.account_call_failed(account, str(exc))
    return False


def handle_order_event(event, parsed) -> None:
    """The order handler registered with channels.webhooks (runs in the event's task and shop).

    A delivery can name several orders (Meta batches changes); each is read and imported. If one
    is not found yet the event stays failed and retryable; the orders imported before it are
    found unchanged on the retry."""
    account = event.account
    if not health.account_usable(account):
        # Failed, so retryable once the account is reconnected; the channel is not called.
        raise AccountNeedsReconnect(f"{account.name} needs reconnecting before its orders can be read.")
    order_ids = _event_order_ids(parsed)
    with adapter_for(account) as adapter:
        for order_id in order_ids:
            try:
                raw = channel_order_fetch(account, order_id, hint=_event_time(parsed), adapter=adapter)
            except AdapterError as exc:
                channel_refused(account, exc)
                raise
            if raw is None:
                # Leave the event failed (and so retryable) rather than drop an order we were told about.
                raise OrderNotFoundOnChannel(f"{account.channel} does not list order {order_id} (yet).")
            order_import(account=account, data=adapter.normalize_order(raw), via="webhook")
    health.account_call_succeeded(account)


def _event_order_ids(parsed) -> list[str]:
    return list(parsed.order_ids or ([parsed.order_id] if parsed.order_id else []))


def handle_order_events(account: ChannelAccount, items: list) -> dict[int, Exception | None]:
    """Several order events of one account at once (`handle_order_event.many`): their orders
    read in as few channel calls as the channel allows and imported in one transaction, with
    the same result as handle_order_event one event after the other.

    Returns {event id: None} for the events it settled. The others are left to
    handle_order_event, one by one: an event naming an order the read did not return (it
    searches the order list), and every event when the read or the import fails, so a bad
    event fails alone with its own error."""
    if not health.account_usable(account):
        return {}
    with adapter_for(account) as adapter:
        if not hasattr(adapter, "order_detail"):
            return {}
        wanted = list(dict.fromkeys(order_id for _event, parsed in items for order_id in _event_order_ids(parsed)))
        started = time.perf_counter()
        try:
            found = {str(raw.get("id")): raw for raw in adapter.order_detail(wanted)}
        except AdapterError as exc:
            channel_refused(account, exc)
            logger.warning("reading %d orders of account %s failed: %s", len(wanted), account.pk, exc)
            return {}
        logger.info("read %d orders from the channel in %.1f ms", len(found), (time.perf_counter() - started) * 1000)
        settled = [(event, parsed) for event, parsed in items if all(i in found for i in _event_order_ids(parsed))]
        orders = [
            adapter.normalize_order(found[order_id])
            for _event, parsed in settled
            for order_id in _event_order_ids(parsed)
        ]
    try:
        orders_import_batch(account=account, orders=orders, via="webhook")
    except Exception:
        logger.exception(
            "importing %d orders of account %s together failed; importing them one by one", len(orders), account.pk
        )
        return {}
    health.account_call_succeeded(account)
    return {event.pk: None for event, _parsed in settled}


handle_order_event.many = handle_order_events


def sells_through_order_api(account: ChannelAccount) -> bool:
    """Whether the account's orders come through the channel's order API: not when its buyers
    check out on the shop's own checkout URL (the channel then holds no orders for us)."""
    return account.checkout_method != ChannelAccount.CheckoutMethod.CHECKOUT_URL


def orders_poll(*, account: ChannelAccount) -> dict:
    """Import what changed on the channel since the stored cursor; move the cursor forward; then
    ask again for the acknowledgements still owed (a refused or lost one is never dropped)."""
    if not sells_through_order_api(account) or not health.account_usable(account):
        return {}  # nothing to poll, or waiting to be reconnected (the attention list says so once)
    # Webhook events whose drain was lost (with a worker, or by the broker) wait no longer than this.
    webhook_events_drain(account=account)
    cursor, _created = OrderSyncCursor.objects.get_or_create(account=account)
    since = None
    if cursor.updated_since:
        since = cursor.updated_since - int(POLL_OVERLAP.total_seconds())
    outcomes: dict[str, int] = {}
    newest = cursor.updated_since or 0
    seen = 0
    with adapter_for(account) as adapter:
        try:
            for raw in channel_orders(account, since=since, adapter=adapter):
                data = adapter.normalize_order(raw)
                _order, outcome = order_import(account=account, data=data, via="poll")
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                seen += 1
                if data.updated_at is not None:
                    newest = max(newest, int(data.updated_at.timestamp()))
        except Exception as exc:
            # Keep what was imported; the cursor stays where the last complete poll left it.
            refused = channel_refused(account, exc)
            with transaction.atomic():
                OrderSyncCursor.objects.filter(pk=cursor.pk).update(
                    last_error=(str(exc) if refused else error_words(exc))[:500],
                    last_polled_at=timezone.now(),
                )
            if refused:
                return outcomes  # the account now waits to be reconnected; retrying cannot help
            raise
    health.account_call_succeeded(account)
    with transaction.atomic():
        OrderSyncCursor.objects.filter(pk=cursor.pk).update(
            updated_since=newest or None,
            last_polled_at=timezone.now(),
            last_error="",
            orders_seen=cursor.orders_seen + seen,
        )
    acknowledgements_owed(account=account)
    return outcomes
