"""Account health: the last call a channel answered, the last it refused, and whether the
account can work at all. Publishing, order polling and reconciliation ask `account_usable`
before calling a channel and report back here."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from channels.models import ChannelAccount

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
