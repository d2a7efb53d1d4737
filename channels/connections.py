"""Connecting an account: the authorisation flow (Connect → the channel's page → our callback →
tokens → the merchant's pick), pasted credentials checked before anything is saved, and
the token lifecycle afterwards. Every channel call here runs in a task, never in a request.

A connection attempt (ChannelConnection) carries the flow; the account is written only
when the channel has accepted the credentials.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.account_methods import channel_account_set_methods
from channels.adapters import ADAPTERS
from channels.adapters.auth import AuthorizationRefused, ChannelAuth, TokenGrant, auth_class, auth_for
from channels.adapters.base import AdapterError, TransientError
from channels.credentials import validate_credentials
from channels.crypto import SecretDict
from channels.errors import ChannelsErrorCode
from channels.health import account_reconnected, account_refused
from channels.models import Channel, ChannelAccount, ChannelConnection
from channels.services import (
    channel_account_create,
    channel_account_update,
    clean_api_base_url,
    normalise_markets,
)
from shopadmin.audit import audit_record
from shopadmin.models import Membership, Shop
from shopadmin.roles import Perm
from shopadmin.tenancy import shop_context

logger = logging.getLogger(__name__)

STATE_SALT = "channels.connect.state"
Status = ChannelConnection.Status


class ConnectRefused(Exception):
    """A callback that must write nothing: a bad, expired, replayed or foreign `state`."""


def _auth(channel: str) -> type[ChannelAuth]:
    cls = auth_class(channel)
    if cls is None:
        raise ValidationError(
            {
                "channel": ValidationError(
                    _("%(channel)s has nothing to authorise: it fetches our feed.")
                    % {"channel": Channel(channel).label},
                    code=ChannelsErrorCode.NOTHING_TO_AUTHORIZE,
                )
            }
        )
    return cls


def _name_taken(channel: str, name: str, *, exclude: int | None = None) -> bool:
    return ChannelAccount.objects.filter(channel=channel, name=name).exclude(pk=exclude).exists()


def _clean_request(*, shop: Shop, channel: str, name: str, markets, methods: dict, account) -> dict:
    """What a new account will be, checked now so the merchant hears of a mistake before
    leaving for the channel's page."""
    if account is not None:
        return {}
    name = (name or "").strip()
    errors: dict[str, list[ValidationError]] = {}
    if not name:
        errors["name"] = [ValidationError(_("This field is required."), code=ChannelsErrorCode.NAME_REQUIRED)]
    elif len(name) > 120:
        errors["name"] = [
            ValidationError(_("Ensure this value has at most 120 characters."), code=ChannelsErrorCode.NAME_TOO_LONG)
        ]
    elif _name_taken(channel, name):
        errors["name"] = [
            ValidationError(
                _("A %(channel)s account with this name exists already.") % {"channel": Channel(channel).label},
                code=ChannelsErrorCode.ACCOUNT_NAME_TAKEN,
            )
        ]
    try:
        cleaned_markets = normalise_markets(list(markets or []), shop=shop)
    except ValidationError as exc:
        errors.update(exc.error_dict)
        cleaned_markets = []
    if errors:
        raise ValidationError(errors)
    return {"name": name, "markets": cleaned_markets, "methods": {k: v for k, v in methods.items() if v}}


# --- Starting -------------------------------------------------------------------------------------


@transaction.atomic
def connection_start_authorize(
    *, shop: Shop, user, channel: str, name: str = "", markets=None, methods: dict | None = None, account=None
) -> tuple[ChannelConnection, str]:
    """Begin "Connect" (or "Reconnect" of `account`): returns the attempt and the channel's
    consent page to send the merchant to. `state` is signed, bound to the shop, the user and
    this attempt, and good once."""
    cls = _auth(channel)
    if not cls.configured():
        raise ValidationError(
            _(
                "This deployment has no %(channel)s app configured; ask its operator to set it up "
                "(see .env.example), or paste credentials instead."
            )
            % {"channel": Channel(channel).label},
            code=ChannelsErrorCode.CHANNEL_APP_NOT_CONFIGURED,
        )
    request = _clean_request(
        shop=shop, channel=channel, name=name, markets=markets, methods=methods or {}, account=account
    )
    auth = auth_for(channel)
    # Where the flow runs (the channel's hosts, or this deployment's sandbox), decided here so
    # the worker that finishes it calls the same place.
    request["auth_base"] = auth.api_base_url
    request["redirect_uri"] = auth.redirect_uri()
    connection = ChannelConnection.objects.create(
        shop=shop,
        channel=channel,
        method=ChannelConnection.Method.AUTHORIZE,
        user=user,
        account=account,
        request=request,
        nonce=secrets.token_urlsafe(24),
    )
    state = signing.dumps(
        {"c": connection.pk, "s": shop.pk, "u": user.pk, "n": connection.nonce}, salt=STATE_SALT, compress=True
    )
    return connection, auth.authorize_url(state=state)


def connection_start_pasted(
    *,
    shop: Shop,
    user,
    channel: str,
    credentials: dict,
    name: str = "",
    markets=None,
    methods: dict | None = None,
    api_base_url: str = "",
    account=None,
) -> ChannelConnection:
    """Pasted credentials: checked for shape now, then by the channel in a task (one harmless
    read). The account is created (or, for `account`, updated) only if the channel accepts."""
    _auth(channel)
    cleaned = validate_credentials(channel, credentials, partial=account is not None)
    request = _clean_request(
        shop=shop, channel=channel, name=name, markets=markets, methods=methods or {}, account=account
    )
    if account is None:
        request["api_base_url"] = clean_api_base_url(channel, api_base_url)
    connection = ChannelConnection.objects.create(
        shop=shop,
        channel=channel,
        method=ChannelConnection.Method.PASTED,
        status=Status.CHECKING,
        user=user,
        account=account,
        request=request,
        secrets=SecretDict({"pasted": cleaned}),
    )
    _schedule(connection)
    return connection


def _schedule(connection: ChannelConnection) -> None:
    from channels.tasks import connection_complete_task

    shop_id, pk = connection.shop_id, connection.pk
    transaction.on_commit(lambda: connection_complete_task.delay(shop_id, pk))


# --- The callback ---------------------------------------------------------------------------------


def connection_accept_callback(*, user, channel: str, params) -> ChannelConnection:
    """Our callback: `state` must be ours, unexpired, unused, for this channel, and started by
    this user in a shop where they may still connect accounts; otherwise ConnectRefused and
    nothing is written. The code is exchanged by a task."""
    try:
        payload = signing.loads(
            params.get("state") or "", salt=STATE_SALT, max_age=settings.CHANNEL_CONNECT_MAX_AGE_MINUTES * 60
        )
        connection_id, shop_id, user_id, nonce = (int(payload["c"]), int(payload["s"]), payload["u"], payload["n"])
    except signing.SignatureExpired:
        raise ConnectRefused(_("This authorisation took too long and has expired. Start again.")) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ConnectRefused(_("This authorisation link is not valid. Start again from the channel page.")) from None
    if not user.is_authenticated or user.pk != user_id:
        raise ConnectRefused(_("This authorisation was started by someone else. Start your own from the channel page."))
    membership = Membership.objects.filter(shop_id=shop_id, user=user).select_related("shop").first()
    if membership is None or not membership.shop.is_active or not membership.has_perm(Perm.CHANNELS_WRITE):
        raise ConnectRefused(_("Your role in this shop does not allow connecting channel accounts."))
    with shop_context(membership.shop), transaction.atomic():
        connection = ChannelConnection.objects.select_for_update().filter(pk=connection_id, channel=channel).first()
        if (
            connection is None
            or connection.status != Status.STARTED
            or not connection.nonce
            or not secrets.compare_digest(connection.nonce, str(nonce))
        ):
            raise ConnectRefused(_("This authorisation has been used already. Start again from the channel page."))
        code, refusal = auth_class(channel).read_callback(params)
        connection.nonce = ""  # single use, whatever the channel answered
        if refusal or not code:
            connection.status = Status.FAILED
            connection.message = _("%(channel)s did not authorise the connection: %(reason)s") % {
                "channel": Channel(channel).label,
                "reason": refusal or _("no authorisation code came back"),
            }
        else:
            connection.status = Status.CHECKING
            connection.secrets = SecretDict({"code": code})
            _schedule(connection)
        connection.save()
    return connection


# --- Completing (in a task) ------------------------------------------------------------------------


def _fail(connection: ChannelConnection, message: str) -> ChannelConnection:
    connection.status = Status.FAILED
    connection.message = message
    connection.secrets = SecretDict()
    connection.save(update_fields=["status", "message", "secrets", "updated_at"])
    return connection


def _auth_base(connection: ChannelConnection) -> str:
    """Where the flow's calls go: a pasted sandbox API URL, the account's own, or the default."""
    if connection.account is not None:
        return account_auth_base(connection.account)
    if connection.method == ChannelConnection.Method.AUTHORIZE:
        return connection.request.get("auth_base") or ""
    url = connection.request.get("api_base_url") or ""
    return "" if url in ("", ADAPTERS[connection.channel].default_base_url()) else url


def account_auth_base(account: ChannelAccount) -> str:
    url = account.api_base_url or ""
    return "" if url in ("", ADAPTERS[account.channel].default_base_url()) else url


def _grant_secrets(grant: TokenGrant) -> dict:
    return {
        "credentials": dict(grant.credentials),
        "access_expires_at": grant.access_expires_at.isoformat() if grant.access_expires_at else None,
        "refresh_expires_at": grant.refresh_expires_at.isoformat() if grant.refresh_expires_at else None,
        "details": grant.details,
    }


def connection_complete(*, connection: ChannelConnection) -> ChannelConnection:
    """Exchange the code (or check the pasted credentials) and read what the merchant may pick.
    One choice (or a reconnect of the same thing) connects at once; several wait for the pick."""
    connection = ChannelConnection.objects.select_related("account").get(pk=connection.pk)
    if connection.status != Status.CHECKING:
        return connection
    label = Channel(connection.channel).label
    auth = auth_for(
        connection.channel,
        api_base_url=_auth_base(connection),
        redirect_uri=(connection.request or {}).get("redirect_uri", ""),
    )
    try:
        if connection.method == ChannelConnection.Method.AUTHORIZE:
            grant = auth.exchange_code(connection.secrets.get("code", ""))
            choices = auth.choices(grant.credentials)
        else:
            pasted = dict(connection.secrets.get("pasted") or {})
            if connection.account is not None:
                pasted = {**connection.account.credentials, **pasted}
            grant = auth.check(pasted)
            grant.credentials = {**pasted, **grant.credentials}
            choices = []
    except AuthorizationRefused as exc:
        return _fail(connection, str(exc))
    except TransientError:
        return _fail(
            connection,
            _("%(channel)s did not answer. Nothing was saved; try again in a few minutes.") % {"channel": label},
        )
    except AdapterError as exc:
        return _fail(connection, _("%(channel)s refused: %(reason)s") % {"channel": label, "reason": exc})
    stored = _grant_secrets(grant)
    stored["choices"] = {choice.id: choice.credentials for choice in choices}
    connection.secrets = SecretDict(stored)
    connection.choices = [{"id": c.id, "label": c.label, "detail": c.detail} for c in choices]
    if connection.method == ChannelConnection.Method.PASTED:
        return _finish(connection, choice_id=None)
    if not choices:
        noun = auth_class(connection.channel).choice_noun
        return _fail(
            connection,
            _("The authorisation gives access to no %(noun)s on %(channel)s. Nothing was saved.")
            % {"noun": noun, "channel": label},
        )
    if connection.account is not None:
        current = _matching_choice(connection.account, choices)
        if current is not None:
            return _finish(connection, choice_id=current)
    if len(choices) == 1:
        return _finish(connection, choice_id=choices[0].id)
    connection.status = Status.CHOOSE
    connection.save(update_fields=["status", "secrets", "choices", "updated_at"])
    return connection


def _matching_choice(account: ChannelAccount, choices) -> str | None:
    """On reconnect, the shop / ad account / catalog the account was connected to, if offered."""
    for choice in choices:
        shared = [k for k in choice.credentials if k in account.credentials]
        if shared and all(account.credentials[k] == choice.credentials[k] for k in shared):
            return choice.id
    return None


@transaction.atomic
def connection_choose(*, connection: ChannelConnection, choice_id: str, user) -> ChannelConnection:
    """The merchant's pick among several shops / ad accounts / catalogs."""
    connection = (
        ChannelConnection.objects.select_for_update(of=("self",)).select_related("account").get(pk=connection.pk)
    )
    if connection.status != Status.CHOOSE:
        raise ValidationError(
            _("This connection is not waiting for a choice any more."), code=ChannelsErrorCode.CONNECTION_NOT_WAITING
        )
    if connection.user_id not in (None, user.pk):
        raise PermissionDenied(_("This connection was started by someone else."))
    if choice_id not in (connection.secrets.get("choices") or {}):
        raise ValidationError(
            {
                "choice": [
                    ValidationError(_("Choose one of the offered options."), code=ChannelsErrorCode.UNKNOWN_CHOICE)
                ]
            }
        )
    return _finish(connection, choice_id=choice_id)


def _parse_when(value):
    return timezone.datetime.fromisoformat(value) if value else None


def _finish(connection: ChannelConnection, *, choice_id: str | None) -> ChannelConnection:
    """Write the account: create it, or give the reconnected one its new tokens."""
    stored = connection.secrets
    credentials = {**(stored.get("credentials") or {})}
    if choice_id is not None:
        credentials.update((stored.get("choices") or {}).get(choice_id) or {})
    # Only keys the channel's account stores (a grant may say more, e.g. a shop id).
    known = {spec.key for spec in ADAPTERS[connection.channel].credential_specs}
    credentials = {k: str(v) for k, v in credentials.items() if k in known and v not in (None, "")}
    if "verify_token" in known and "verify_token" not in credentials:
        existing = connection.account.credentials.get("verify_token") if connection.account else ""
        credentials["verify_token"] = existing or secrets.token_urlsafe(24)
    request = connection.request or {}
    try:
        with transaction.atomic():
            if connection.account is None:
                api_base_url = request.get("api_base_url") or request.get("auth_base") or ""
                name = request.get("name", "")
                if _name_taken(connection.channel, name):
                    raise ValidationError(
                        _("A %(channel)s account named “%(name)s” was connected meanwhile; nothing was saved.")
                        % {"channel": Channel(connection.channel).label, "name": name},
                        code=ChannelsErrorCode.ACCOUNT_NAME_TAKEN,
                    )
                account = channel_account_create(
                    shop=connection.shop,
                    channel=connection.channel,
                    name=name,
                    credentials=credentials,
                    api_base_url=api_base_url,
                    markets=request.get("markets") or [],
                )
                methods = request.get("methods") or {}
                if methods:
                    channel_account_set_methods(account=account, **methods)
            else:
                was_refused = connection.account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
                account = channel_account_update(account=connection.account, credentials=credentials)
                if was_refused:
                    account_reconnected(account)
            account = account_tokens_store(
                account=account,
                access_expires_at=_parse_when(stored.get("access_expires_at")),
                refresh_expires_at=_parse_when(stored.get("refresh_expires_at")),
                connected=True,
            )
    except ValidationError as exc:
        return _fail(connection, " ".join(exc.messages))
    audit_record(
        action="channel_account.connect",
        instance=account,
        changes={"method": [None, connection.method], "connection": [None, connection.pk]},
    )
    connection.account = account
    connection.status = Status.CONNECTED
    connection.message = ""
    connection.secrets = SecretDict()  # the tokens live on the account now
    connection.save(update_fields=["account", "status", "message", "secrets", "choices", "updated_at"])
    return connection


# --- Token lifecycle -------------------------------------------------------------------------------


def account_tokens_store(
    *, account: ChannelAccount, access_expires_at=None, refresh_expires_at=None, connected: bool = False
) -> ChannelAccount:
    """Record when the account's tokens expire; `connected`: the channel just accepted them."""
    fields = {"token_expires_at": access_expires_at, "refresh_token_expires_at": refresh_expires_at}
    if connected:
        fields |= {
            "connection_status": ChannelAccount.ConnectionStatus.CONNECTED,
            "connection_message": "",
            "last_success_at": timezone.now(),
            "last_error": "",
            "last_error_at": None,
        }
    ChannelAccount.objects.filter(pk=account.pk).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(account, name, value)
    return account


def token_refresh(*, account: ChannelAccount) -> str:
    """Renew the account's access token before it expires. A refusal marks the account
    "needs reconnecting" (which stops its work); a channel that did not answer is tried again
    by the next run. Returns what happened, for the task's log."""
    account = ChannelAccount.objects.get(pk=account.pk)
    cls = auth_class(account.channel)
    if cls is None or account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT:
        return "skipped"
    label = Channel(account.channel).label
    if not cls.refreshes or not account.credentials.get("refresh_token"):
        if account.token_expires_at and account.token_expires_at <= timezone.now():
            account_refused(
                account,
                _(
                    "The %(channel)s access token expired on %(date)s and cannot be renewed without you: "
                    "reconnect the account."
                )
                % {"channel": label, "date": timezone.localtime(account.token_expires_at).strftime("%Y-%m-%d")},
            )
            return "expired"
        return "nothing to refresh"
    auth = cls(api_base_url=account_auth_base(account))
    try:
        grant = auth.refresh(dict(account.credentials))
    except AuthorizationRefused as exc:
        account_refused(account, str(exc))
        return "refused"
    except AdapterError as exc:
        logger.warning("token refresh of account %s: %s", account.pk, exc)
        return "retry"
    with transaction.atomic():
        account = channel_account_update(account=account, credentials={k: v for k, v in grant.credentials.items() if v})
        account_tokens_store(
            account=account,
            access_expires_at=grant.access_expires_at,
            refresh_expires_at=grant.refresh_expires_at or account.refresh_token_expires_at,
        )
    audit_record(action="channel_account.token_refresh", instance=account, changes={})
    return "refreshed"


def accounts_due_for_refresh():
    """Across shops (the scheduler's view): connected accounts whose access token expires
    within CHANNEL_TOKEN_REFRESH_AHEAD_HOURS."""
    horizon = timezone.now() + timedelta(hours=settings.CHANNEL_TOKEN_REFRESH_AHEAD_HOURS)
    return (
        ChannelAccount.all_shops.filter(
            is_active=True,
            connection_status=ChannelAccount.ConnectionStatus.CONNECTED,
            token_expires_at__isnull=False,
            token_expires_at__lte=horizon,
        )
        .values_list("shop_id", "pk")
        .order_by("token_expires_at")
    )
