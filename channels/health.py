"""Account health: the last call a channel answered, the last it refused, and whether the
account can work at all. Publishing, order polling and reconciliation ask `account_usable`
before calling a channel and report back here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from channels.adapters.auth import AuthorizationRefused
from channels.adapters.base import AdapterError, RateLimited, TransientError
from channels.models import ChannelAccount

# Reactions to an account that is connected again after it needed reconnecting: `fn(account)`,
# called after the commit, in the shop's context. The orders app registers one that sends the
# fulfilments and cancellations that waited (channels sits below orders and never imports it).
_reconnected_handlers: list[Callable] = []


def on_account_reconnected(handler: Callable) -> None:
    if handler not in _reconnected_handlers:
        _reconnected_handlers.append(handler)


def reconnected_handlers() -> tuple[Callable, ...]:
    return tuple(_reconnected_handlers)


def account_reconnected(account: ChannelAccount) -> None:
    """The account works again: after the commit, hand it to every registered reaction."""
    from django.db import transaction

    from shopadmin.tenancy import shop_context

    def react():
        with shop_context(account.shop_id):
            for handler in _reconnected_handlers:
                handler(account)

    transaction.on_commit(react)


# A success is written at most this often per account (publishing calls by the hundred).
SUCCESS_WRITE_INTERVAL = timedelta(minutes=1)


def account_usable(account: ChannelAccount) -> bool:
    """False while the account needs reconnecting: its work stops and the attention list says
    so once, instead of every call failing on its own."""
    return account.connection_status != ChannelAccount.ConnectionStatus.NEEDS_RECONNECT


def account_call_succeeded(account: ChannelAccount) -> None:
    now = timezone.now()
    if account.last_success_at and now - account.last_success_at < SUCCESS_WRITE_INTERVAL:
        return
    ChannelAccount.objects.filter(pk=account.pk).update(last_success_at=now)
    account.last_success_at = now


def account_call_failed(account: ChannelAccount, message: str) -> None:
    """A refusal worth telling the merchant (not a transient error that a retry fixes)."""
    now = timezone.now()
    message = (message or "").strip()[:2000]
    ChannelAccount.objects.filter(pk=account.pk).update(last_error=message, last_error_at=now)
    account.last_error, account.last_error_at = message, now


def account_refused(account: ChannelAccount, message: str) -> ChannelAccount:
    """The channel refused the account's credentials (AuthorizationRefused): it needs
    reconnecting, which stops its work until the merchant connects it again."""
    from channels.services import channel_account_mark_needs_reconnect

    account_call_failed(account, message)
    return channel_account_mark_needs_reconnect(account=account, message=message)


def reconnect_message(account: ChannelAccount) -> str:
    """Why nothing is sent to an account that needs reconnecting, in words."""
    reason = (account.connection_message or "").strip()
    if reason:
        return _("%(account)s needs reconnecting (%(reason)s): nothing is sent to %(channel)s until it is.") % {
            "account": account.name,
            "reason": reason.rstrip("."),
            "channel": account.get_channel_display(),
        }
    return _("%(account)s needs reconnecting: nothing is sent to %(channel)s until it is.") % {
        "account": account.name,
        "channel": account.get_channel_display(),
    }


def refusal_message(account: ChannelAccount, exc: AdapterError) -> str | None:
    """The one message for a channel that refused the account's credentials, or None when
    `exc` is about something else. Adapters word AuthorizationRefused for the merchant; a bare
    401 from an adapter that does not raise it yet gets the same words."""
    if isinstance(exc, AuthorizationRefused):
        return str(exc)
    if isinstance(exc, AdapterError) and not isinstance(exc, (TransientError, RateLimited)) and exc.status == 401:
        return _("%(channel)s refused the access token: reconnect the account.") % {
            "channel": account.get_channel_display()
        }
    return None
