"""Where inbound channel events go after they are verified and stored.

channels sits below orders (DESIGN.md §2), so it never imports it. The orders app calls
`register_order_handler(fn)` from its AppConfig.ready(); `fn(event, parsed)` receives the
stored WebhookEvent and the adapter's parsed view of it (channels.adapters.base.InboundEvent)
and returns normally when the order is imported. Until a handler exists, order events stay
stored (status "stored") and are listed in the Channels UI.

A handler may also take several events of one account at once: it then carries a
`many(account, items)` attribute, given `[(event, parsed), …]` in the order they were
received, which returns `{event.pk: None or the exception that event failed with}` for the
events it dealt with; the others are handed to `fn` one by one.
"""

from __future__ import annotations

from collections.abc import Callable

_order_handlers: list[Callable] = []


def register_order_handler(handler: Callable) -> None:
    if handler not in _order_handlers:
        _order_handlers.append(handler)


def unregister_order_handler(handler: Callable) -> None:
    if handler in _order_handlers:
        _order_handlers.remove(handler)


def order_handlers() -> tuple[Callable, ...]:
    return tuple(_order_handlers)


def batch_order_handler() -> Callable | None:
    """The `many` of the only order handler, when it has one (with several handlers, each event
    goes to all of them one by one)."""
    if len(_order_handlers) != 1:
        return None
    return getattr(_order_handlers[0], "many", None)


def dispatch(event) -> bool:
    """Act on a stored event; True when it was handled.

    A notice that the channel withdrew (or is about to withdraw) our authorisation marks the
    account as needing reconnection, with the channel's reason for the merchant. Order events
    go to the order handlers."""
    from channels.adapters import adapter_for
    from channels.services import channel_account_mark_needs_reconnect

    parsed = adapter_for(event.account).parse_webhook(event.raw_body.encode())
    if parsed.needs_reconnect:
        channel_account_mark_needs_reconnect(account=event.account, message=parsed.account_message)
        return True
    if not parsed.is_order or not _order_handlers:
        return False
    for handler in _order_handlers:
        handler(event, parsed)
    return True
