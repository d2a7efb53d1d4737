"""Every write of the channels app: accounts, feed tokens, webhook events."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.credentials import CREDENTIALS, default_api_base_url, validate_credentials
from channels.crypto import SecretDict
from channels.endpoints import api_base_url_problem
from channels.errors import ChannelsErrorCode
from channels.models import INTERNAL_CHANNELS, Channel, ChannelAccount, FeedFetch, WebhookEvent, new_feed_token
from shopadmin.audit import audit_record, diff, snapshot
from shopadmin.models import Shop
from shopadmin.validators import validate_country_code, validate_currency_code, validate_language

logger = logging.getLogger(__name__)
AUDITED_FIELDS = ("name", "api_base_url", "markets", "is_active")
MARKET_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def market_entries(market) -> list[dict]:
    """What an account stores for a shop market it sells in: one entry per country of the
    market, in its currency and its first language, with the market's id (the publishing code
    prices each entry from that market's stored prices)."""
    language = market.default_language
    return [
        {"market": country.upper(), "country": country.upper(), "language": language, "currency": market.currency,
         "market_id": market.pk}
        for country in market.countries
    ]  # fmt: skip


def market_choice_label(market) -> str:
    """A shop market as the connect form offers it: name, currency, languages and countries."""
    return _("%(name)s — %(currency)s · %(languages)s · %(countries)s") % {
        "name": market.name,
        "currency": market.currency,
        "languages": ", ".join(market.languages),
        "countries": ", ".join(market.countries),
    }


def _shop_markets_text(markets) -> str:
    return "; ".join(f"{m.name} ({', '.join(m.countries)}, {m.currency})" for m in markets)


def normalise_markets(markets, *, shop: Shop) -> list[dict]:
    """The account markets for what was picked: each entry is one of the shop's active markets.

    An entry is a market id ({"market_id": 3}: every country of that market), a code ("GB": the
    shop's market selling to that country) or an object ({"market": "CA", "country": "CA",
    "language": "fr", "currency": "CAD"}). A country or currency no active market of the shop
    sells to is refused (`market_not_in_shop`), never stored to fail every item later. Each
    stored entry carries the market's currency (unless given and equal), its first language
    (unless another is given) and `market_id`.
    """
    from localization.models import Market

    if markets in (None, ""):
        return []
    if not isinstance(markets, list | tuple):
        raise ValidationError(
            {
                "markets": ValidationError(
                    _("Send a list of market codes or market objects."), code=ChannelsErrorCode.MARKET_INVALID
                )
            }
        )
    active = list(Market.objects.filter(shop=shop, is_active=True).order_by("-is_home", "id"))
    errors: dict[str, list[ValidationError]] = {}
    cleaned: list[dict] = []
    seen = set()

    def not_in_shop(message: str) -> str:
        return message + " " + _("The shop's markets: %(markets)s.") % {"markets": _shop_markets_text(active)}

    for index, entry in enumerate(markets):
        field = f"markets.{index}"
        if isinstance(entry, str):
            entry = {"market": entry}
        market_id = entry.get("market_id") if isinstance(entry, dict) else None
        if (
            isinstance(entry, dict)
            and "market_id" in entry
            and (isinstance(market_id, bool) or not isinstance(market_id, int))
        ):
            errors[field] = [ValidationError(_("market_id is a whole number."), code=ChannelsErrorCode.MARKET_INVALID)]
            continue
        if not isinstance(entry, dict) or not (isinstance(entry.get("market"), str) or market_id is not None):
            errors[field] = [
                ValidationError(
                    _('Each market is a code such as "FR" or an object with "market".'),
                    code=ChannelsErrorCode.MARKET_INVALID,
                )
            ]
            continue
        unknown = set(entry) - {"market", "country", "language", "currency", "market_id"}
        if unknown:
            errors[field] = [
                ValidationError(
                    _("Unknown keys: %s.") % ", ".join(sorted(unknown)), code=ChannelsErrorCode.MARKET_INVALID
                )
            ]
            continue
        if market_id is not None:
            market = next((m for m in active if m.pk == market_id), None)
            if market is None:
                errors[field] = [
                    ValidationError(
                        not_in_shop(_("The shop has no active market %(id)s.") % {"id": market_id}),
                        code=ChannelsErrorCode.MARKET_NOT_IN_SHOP,
                    )
                ]
                continue
            if "market" not in entry and "country" not in entry:
                entries = market_entries(market)
                if entry.get("language"):
                    entries = [e | {"language": entry["language"]} for e in entries]
            else:
                entries = None  # one country of that market, checked below
        else:
            market = None
        if market is None or entries is None:
            code = str(entry.get("market") or entry.get("country") or "").strip().upper()
            if not MARKET_CODE.match(code):
                errors[field] = [
                    ValidationError(
                        _("A market code is 1 to 32 letters, digits, - or _."), code=ChannelsErrorCode.MARKET_INVALID
                    )
                ]
                continue
            country = str(entry.get("country") or (code if len(code) == 2 else shop.country)).upper()
            currency = str(entry.get("currency") or "").upper()
            language = entry.get("language") or ""
            try:
                validate_country_code(country)
                if language:
                    validate_language(language)
                if currency:
                    validate_currency_code(currency)
            except ValidationError as exc:
                errors[field] = exc.error_list  # the validator's code: invalid_country, invalid_currency, …
                continue
            candidates = [market] if market is not None else active
            market = next(
                (
                    m
                    for m in candidates
                    if country in [c.upper() for c in m.countries] and (not currency or m.currency == currency)
                ),
                None,
            )
            if market is None:
                if currency:
                    message = _("No active market of the shop sells to %(country)s in %(currency)s.") % {
                        "country": country,
                        "currency": currency,
                    }
                else:
                    message = _("No active market of the shop sells to %(country)s.") % {"country": country}
                errors[field] = [ValidationError(not_in_shop(message), code=ChannelsErrorCode.MARKET_NOT_IN_SHOP)]
                continue
            entries = [
                {
                    "market": code,
                    "country": country,
                    "language": language or market.default_language or shop.default_language,
                    "currency": market.currency,
                    "market_id": market.pk,
                }
            ]
        duplicate = next((e["market"] for e in entries if e["market"] in seen), None)
        if duplicate:
            errors[field] = [
                ValidationError(
                    _("Market %(code)s is listed twice.") % {"code": duplicate}, code=ChannelsErrorCode.MARKET_DUPLICATE
                )
            ]
            continue
        seen.update(e["market"] for e in entries)
        cleaned.extend(entries)
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_api_base_url(channel: str, url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not url:
        return default_api_base_url(channel)
    problem = api_base_url_problem(channel, url)
    if problem:
        raise ValidationError({"api_base_url": ValidationError(problem, code=ChannelsErrorCode.API_BASE_URL_REFUSED)})
    return url


def _audit_credentials_change(before: dict, after: dict) -> dict:
    # The audit log records which credentials changed, never their values.
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {"credentials": [None, f"changed: {', '.join(changed)}"]} if changed else {}


@transaction.atomic
def channel_account_create(
    *,
    shop: Shop,
    channel: str,
    name: str,
    credentials: dict | None = None,
    api_base_url: str = "",
    markets: Iterable | None = None,
) -> ChannelAccount:
    if channel not in Channel.values or channel in INTERNAL_CHANNELS:
        connectable = [value for value in Channel.values if value not in INTERNAL_CHANNELS]
        raise ValidationError(
            {
                "channel": ValidationError(
                    _("Choose one of: %s.") % ", ".join(connectable), code=ChannelsErrorCode.UNKNOWN_CHANNEL
                )
            }
        )
    account = ChannelAccount(
        shop=shop,
        channel=channel,
        name=(name or "").strip(),
        credentials=SecretDict(validate_credentials(channel, credentials or {})),
        api_base_url=clean_api_base_url(channel, api_base_url),
        markets=normalise_markets(list(markets) if markets is not None else [], shop=shop),
    )
    account.full_clean()
    if ChannelAccount.objects.filter(channel=channel, name=account.name).exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("A %(channel)s account with this name exists already.")
                    % {"channel": account.get_channel_display()},
                    code=ChannelsErrorCode.ACCOUNT_NAME_TAKEN,
                )
            }
        )
    account.save()
    changes = snapshot(account, AUDITED_FIELDS) | {"channel": account.channel}
    changes |= _audit_credentials_change({}, account.credentials)
    audit_record(action="channel_account.create", instance=account, changes=changes)
    return account


def _refuse_internal(account: ChannelAccount) -> None:
    """The shop's own checkout account is made and kept by Shopadmin (storefront orders need it):
    nothing about it is the merchant's to change, disconnect or give a feed."""
    if account.channel in INTERNAL_CHANNELS:
        raise ValidationError(
            {
                "channel": ValidationError(
                    _("This is your shop's own checkout: Shopadmin keeps it, and it cannot be changed."),
                    code=ChannelsErrorCode.INTERNAL_ACCOUNT,
                )
            }
        )


@transaction.atomic
def channel_account_update(
    *,
    account: ChannelAccount,
    name: str | None = None,
    credentials: dict | None = None,
    api_base_url: str | None = None,
    markets: Iterable | None = None,
    is_active: bool | None = None,
) -> ChannelAccount:
    """Change what was given; credentials merge key by key (omitted keys stay as stored)."""
    _refuse_internal(account)
    account = ChannelAccount.objects.select_for_update().get(pk=account.pk)
    before = snapshot(account, AUDITED_FIELDS)
    before_credentials = dict(account.credentials)
    if name is not None:
        account.name = name.strip()
    if credentials is not None:
        cleaned = validate_credentials(account.channel, credentials, partial=True)
        account.credentials = SecretDict({**account.credentials, **cleaned})
    if api_base_url is not None:
        account.api_base_url = clean_api_base_url(account.channel, api_base_url)
    if markets is not None:
        account.markets = normalise_markets(list(markets), shop=account.shop)
    if is_active is not None:
        account.is_active = is_active
    account.full_clean()
    if (
        name is not None
        and ChannelAccount.objects.filter(channel=account.channel, name=account.name).exclude(pk=account.pk).exists()
    ):
        raise ValidationError(
            {
                "name": ValidationError(
                    _("A %(channel)s account with this name exists already.")
                    % {"channel": account.get_channel_display()},
                    code=ChannelsErrorCode.ACCOUNT_NAME_TAKEN,
                )
            }
        )
    account.save()
    changes = diff(before, snapshot(account, AUDITED_FIELDS))
    changes |= _audit_credentials_change(before_credentials, account.credentials)
    if changes:
        audit_record(action="channel_account.update", instance=account, changes=changes)
    return account


@transaction.atomic
def channel_account_delete(*, account: ChannelAccount) -> None:
    _refuse_internal(account)
    audit_record(action="channel_account.delete", instance=account, changes={"channel": [account.channel, None]})
    try:
        with transaction.atomic():
            account.delete()
    except ProtectedError:
        # Orders (accounting records) point at the account and keep it from going away.
        raise ValidationError(
            _(
                "“%(name)s” has orders, which are kept as accounting records, so it cannot be disconnected. "
                "Pause it instead: untick “Active” to stop publishing and order imports."
            )
            % {"name": account.name},
            code=ChannelsErrorCode.HAS_ORDERS,
        ) from None


@transaction.atomic
def channel_account_rotate_feed_token(*, account: ChannelAccount) -> ChannelAccount:
    """A new feed token: the old feed URLs stop working at once (a leaked URL is revoked)."""
    _refuse_internal(account)
    account.feed_token = new_feed_token()
    account.feed_token_rotated_at = timezone.now()
    account.save(update_fields=["feed_token", "feed_token_rotated_at", "updated_at"])
    audit_record(action="channel_account.rotate_feed_token", instance=account)
    return account


def channel_account_reencrypt(*, account: ChannelAccount) -> None:
    """Write the credentials again, which encrypts them under the newest key."""
    type(account)._default_manager.filter(pk=account.pk).update(credentials=SecretDict(account.credentials))


def credential_fields(channel: str):
    return CREDENTIALS.get(channel, ())


def feed_fetch_record(*, account: ChannelAccount, feed: str, user_agent: str) -> None:
    """A channel fetched one of the account's feeds: remember when, and as whom."""
    when, user_agent = timezone.now(), (user_agent or "")[:300]
    if FeedFetch.objects.filter(account=account, feed=feed).update(
        fetched_at=when, user_agent=user_agent, fetches=F("fetches") + 1
    ):
        return
    try:
        with transaction.atomic():
            FeedFetch.objects.create(
                shop_id=account.shop_id,
                account=account,
                feed=feed[:80],
                fetched_at=when,
                user_agent=user_agent,
                fetches=1,
            )
    except IntegrityError:
        pass  # a concurrent first fetch recorded it


# --- Webhook events -----------------------------------------------------------------------

# A drain takes this many events at a time: one read of their orders from the channel (TikTok
# Shop's order detail takes 50 ids) and one import transaction for all of them.
WEBHOOK_BATCH = 50
# A waiting event younger than this stands for a drain on its way, so a new delivery asks for
# none; an older one (its drain lost with a worker, redelivered only later) no longer does.
WEBHOOK_DRAIN_PENDING = dt.timedelta(seconds=30)


def _drain_lock(account_id: int, *, shared: bool) -> None:
    """The account's drain lock, to the end of the transaction: receivers hold it shared while
    they store an event and decide whether to ask for a drain; a drain holds it alone for its
    last look, so an event stored without asking is always seen by a drain still running."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(hashtextextended(%s, 0))", [f"webhooks:drain:{account_id}"])


def webhook_event_record(
    *, account: ChannelAccount, provider_event_id: str, event_type: str, raw_body: str
) -> tuple[WebhookEvent, bool]:
    """Store a verified delivery once; returns (event, created). Redelivery changes nothing.

    A new event asks for a drain of the account's events only when none is on its way already,
    so a burst of deliveries costs one broker message, not one each. This is the webhook's
    answer time, so it is a few statements: the insert and the look for a drain on its way are
    one, taken after the drain lock so that it sees what a drain's last look committed."""
    event = WebhookEvent(
        shop_id=account.shop_id,
        account=account,
        provider_event_id=provider_event_id[:200],
        event_type=event_type[:100],
        raw_body=raw_body,
    )
    # The account and its shop were just read; only the values need checking.
    event.full_clean(exclude=["shop", "account"], validate_constraints=False)
    if connection.vendor != "postgresql":
        return _webhook_event_insert(event)
    with transaction.atomic(savepoint=False):
        _drain_lock(account.pk, shared=True)
        with connection.cursor() as cursor:
            # A concurrent delivery of the same event: the unique constraint decides, the loser replays.
            cursor.execute(
                """
                WITH stored AS (
                    INSERT INTO channels_webhookevent
                        (shop_id, account_id, provider_event_id, event_type, raw_body, received_at, status, error)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, '')
                    ON CONFLICT (shop_id, account_id, provider_event_id) DO NOTHING
                    RETURNING id
                )
                SELECT (SELECT id FROM stored), EXISTS (
                    SELECT 1 FROM channels_webhookevent
                    WHERE shop_id = %s AND account_id = %s AND status = %s AND processed_at IS NULL
                        AND received_at >= %s
                )
                """,
                [
                    event.shop_id,
                    account.pk,
                    event.provider_event_id,
                    event.event_type,
                    event.raw_body,
                    event.received_at,
                    WebhookEvent.Status.RECEIVED,
                    event.shop_id,
                    account.pk,
                    WebhookEvent.Status.RECEIVED,
                    event.received_at - WEBHOOK_DRAIN_PENDING,
                ],
            )
            event.pk, on_its_way = cursor.fetchone()
        if event.pk is None:
            return WebhookEvent.objects.get(account=account, provider_event_id=event.provider_event_id), False
        event._state.adding = False
        if not on_its_way:
            _drain_request(event)
    return event, True


def _webhook_event_insert(event: WebhookEvent) -> tuple[WebhookEvent, bool]:
    """The same without PostgreSQL (`make run` on SQLite): one writer at a time, a drain per event."""
    existing = WebhookEvent.objects.filter(account=event.account, provider_event_id=event.provider_event_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        return WebhookEvent.objects.get(account=event.account, provider_event_id=event.provider_event_id), False
    _drain_request(event)
    return event, True


def _drain_request(event: WebhookEvent) -> None:
    from channels.tasks import webhook_event_process_task

    transaction.on_commit(lambda: webhook_event_process_task.delay(event.shop_id, event.pk))


def _failure(exc: Exception) -> dict:
    # processed_at stays empty so a later run (or the merchant's retry) tries again.
    return {"status": WebhookEvent.Status.FAILED, "error": f"{type(exc).__name__}: {exc}"[:2000]}


def webhook_event_process(*, event: WebhookEvent) -> WebhookEvent:
    """Hand an event to its handler (orders registers one); without a handler it stays stored.

    No transaction is held while the handler runs: it may call the channel (fetching the
    order a notification only names), and a transaction or row lock held across a network
    call blocks other writers for as long as the channel takes. The handler's own writes are
    an idempotent upsert in their own transaction, so two deliveries racing here import once.
    """
    from channels.webhooks import dispatch

    event = WebhookEvent.objects.select_related("account").get(pk=event.pk)
    if event.processed_at is not None:
        return event  # already done: a task redelivered after a worker died changes nothing
    try:
        handled = dispatch(event)
    except Exception as exc:
        fields = _failure(exc)
    else:
        fields = {
            "status": WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.STORED,
            "error": "",
            "processed_at": timezone.now(),
        }
    # Only the first finisher records the outcome; a racing duplicate leaves it as it is.
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(**fields)
    event.refresh_from_db()
    return event


def webhook_events_drain(*, account: ChannelAccount, ask_for_help: bool = False) -> int:
    """Process the account's waiting events, oldest first and a batch at a time, until none is
    left; returns how many events were processed.

    A batch is claimed with `SELECT … FOR UPDATE SKIP LOCKED` and held by a lease (a session
    advisory lock per event) rather than by an open transaction, because its handler calls the
    channel. A lease ends with its batch, or with the worker's connection when the worker dies,
    so a killed worker's events are claimed again. Several drains of one account share the work:
    with `ask_for_help`, a drain whose first batch is full (a burst) asks for one more drain, so
    a sale's orders are read from the channel and imported by two workers at once.
    """
    processed = 0
    while True:
        claimed = _webhook_events_claim(account, last_look=False) or _webhook_events_claim(account, last_look=True)
        if not claimed:
            return processed
        if ask_for_help and len(claimed) == WEBHOOK_BATCH:
            ask_for_help = False
            _drain_help_request(account, claimed[0])
        try:
            processed += _webhook_events_run(account, claimed)
        finally:
            _webhook_events_release(claimed)


def _drain_help_request(account: ChannelAccount, event_id: int) -> None:
    from channels.tasks import webhook_event_process_task

    webhook_event_process_task.delay(account.shop_id, event_id, ask_for_help=False)


def _webhook_events_claim(account: ChannelAccount, *, last_look: bool) -> list[int]:
    if connection.vendor != "postgresql":
        return list(
            WebhookEvent.objects.filter(account=account, status=WebhookEvent.Status.RECEIVED, processed_at=None)
            .order_by("pk")
            .values_list("pk", flat=True)[:WEBHOOK_BATCH]
        )
    with transaction.atomic(), connection.cursor() as cursor:
        if last_look:
            _drain_lock(account.pk, shared=False)
        # The lease is taken on the rows the outer LIMIT returns, one at a time; rows another
        # drain leased are passed over.
        cursor.execute(
            """
            SELECT id FROM (
                SELECT id FROM channels_webhookevent
                WHERE shop_id = %s AND account_id = %s AND status = %s AND processed_at IS NULL
                ORDER BY id LIMIT %s
                FOR UPDATE SKIP LOCKED
            ) AS waiting
            WHERE pg_try_advisory_lock(hashtextextended('webhooks:event:' || waiting.id, 0))
            LIMIT %s
            """,
            [account.shop_id, account.pk, WebhookEvent.Status.RECEIVED, WEBHOOK_BATCH * 4, WEBHOOK_BATCH],
        )
        return [row[0] for row in cursor.fetchall()]


def _webhook_events_release(event_ids: list[int]) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(hashtextextended('webhooks:event:' || id, 0))"
                " FROM unnest(%s::bigint[]) AS id",
                [event_ids],
            )
    except DatabaseError:
        logger.warning("webhook event leases not released; they end with the connection", exc_info=True)


def _webhook_events_run(account: ChannelAccount, event_ids: list[int]) -> int:
    """Order events in a row go to the order handler's `many` together; any other event, and
    any event `many` leaves out, goes through webhook_event_process alone, in its turn."""
    from channels.adapters import adapter_for
    from channels.webhooks import batch_order_handler

    events = list(
        WebhookEvent.objects.select_related("account")
        .filter(pk__in=event_ids, status=WebhookEvent.Status.RECEIVED, processed_at=None)
        .order_by("pk")
    )
    many = batch_order_handler()
    with adapter_for(account) as adapter:
        parsed_events = []
        for event in events:
            try:
                parsed_events.append((event, adapter.parse_webhook(event.raw_body.encode())))
            except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
                parsed_events.append((event, None))
    run: list[tuple[WebhookEvent, object]] = []
    for event, parsed in parsed_events:
        if many is not None and parsed is not None and parsed.is_order and not parsed.needs_reconnect:
            run.append((event, parsed))
            continue
        _webhook_events_many(many, account, run)
        run = []
        webhook_event_process(event=event)
    _webhook_events_many(many, account, run)
    return len(events)


def _webhook_events_many(many, account: ChannelAccount, items: list) -> None:
    if not items:
        return
    try:
        outcomes = many(account, items)
    except Exception:
        logger.exception("batch of %d webhook events failed; processing them one by one", len(items))
        outcomes = {}
    handled = [pk for pk, exc in outcomes.items() if exc is None]
    if handled:
        WebhookEvent.objects.filter(pk__in=handled, processed_at__isnull=True).update(
            status=WebhookEvent.Status.PROCESSED, error="", processed_at=timezone.now()
        )
    for pk, exc in outcomes.items():
        if exc is not None:
            WebhookEvent.objects.filter(pk=pk, processed_at__isnull=True).update(**_failure(exc))
    for event, _parsed in items:
        if event.pk not in outcomes:
            webhook_event_process(event=event)


# --- Connection -----------------------------------------------------------------------------


@transaction.atomic
def channel_account_mark_needs_reconnect(*, account: ChannelAccount, message: str) -> ChannelAccount:
    """The channel withdrew (or is about to withdraw) our authorisation: the account needs
    reconnecting, and `message` tells the merchant why. Repeating it changes nothing."""
    account = ChannelAccount.objects.select_for_update().get(pk=account.pk)
    message = (message or "").strip()
    if (
        account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
        and account.connection_message == message
    ):
        return account
    before = [account.connection_status, account.connection_message]
    account.connection_status = ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
    account.connection_message = message
    account.save(update_fields=["connection_status", "connection_message", "updated_at"])
    audit_record(
        action="channel_account.needs_reconnect",
        instance=account,
        changes={
            "connection_status": [before[0], account.connection_status],
            "connection_message": [before[1], message],
        },
    )
    return account
