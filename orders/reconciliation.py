"""Reconciliation: compare what a channel says about an account's orders with what we hold.

One run per account over a window. Findings are ReconciliationIssues (one open issue per
account, kind and key, refreshed by later runs); the run keeps the counts by kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from channels import health
from channels.adapters import adapter_for
from channels.adapters.base import AdapterError, ChannelOrder, RateLimited, TransientError
from channels.models import ChannelAccount, ChannelListing, ListingStatus
from channels.wording import error_words
from localization.money import minor_unit
from orders.errors import OrdersErrorCode
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
from orders.services.ingest import order_import
from orders.services.timeline import issue_raise
from orders.sync import ORDER_CHANNELS, channel_orders, channel_refused
from shopadmin.audit import audit_record
from shopadmin.services import job_finish, job_progress
from shopadmin.words import Words

DEFAULT_WINDOW = dt.timedelta(days=30)
# The channel's orders written and looked up together (and the run's progress step).
THEIRS_BATCH = 1000


@transaction.atomic
def reconciliation_start(*, account: ChannelAccount, trigger: str = "manual", created_by=None) -> ReconciliationRun:
    """Record a run (with a job for the progress bar) and queue it after commit."""
    from orders.tasks import reconciliation_run_task
    from shopadmin.services import job_create

    if account.channel not in ORDER_CHANNELS:
        raise ValidationError(
            {
                "account": ValidationError(
                    _("%(ch)s has no order API to reconcile against.") % {"ch": account.get_channel_display()},
                    code=OrdersErrorCode.CHANNEL_HAS_NO_ORDER_API,
                )
            }
        )
    _require_usable(account)
    label = Words(gettext_noop("Reconcile %(a)s"), a=account.name)
    job = job_create(kind="reconciliation", label=label, created_by=created_by)
    run = ReconciliationRun.objects.create(account=account, trigger=trigger, job=job)
    audit_record(action="reconciliation.start", instance=run, changes={"account": [None, account.pk]})
    shop_id, run_id = run.shop_id, run.pk
    transaction.on_commit(lambda: reconciliation_run_task.delay(shop_id, run_id))
    return run


def _require_usable(account: ChannelAccount) -> None:
    if not health.account_usable(account):
        from channels.health import reconnect_message

        raise ValidationError(
            {"account": ValidationError(reconnect_message(account), code=OrdersErrorCode.ACCOUNT_NEEDS_RECONNECT)}
        )


# --- What one run records --------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One discrepancy a check found: what `issue_raise` records (with its defaults)."""

    kind: str
    key: str
    severity: str = Severity.WARNING
    ours: str | Words = ""
    theirs: str | Words = ""
    detail: str | Words = ""
    suggested_action: str = IssueAction.RESOLVE
    order: Order | None = None
    resolved_note: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class _Recorder:
    """Records a run's findings as issues and counts them by kind."""

    run: ReconciliationRun
    counts: dict[str, int] = field(default_factory=dict)

    def __call__(self, *findings: Finding) -> None:
        """Record findings in one transaction (the findings about one order go together)."""
        if not findings:
            return
        with transaction.atomic():
            for finding in findings:
                issue, _created = issue_raise(
                    account=self.run.account,
                    run=self.run,
                    kind=finding.kind,
                    key=finding.key,
                    severity=finding.severity,
                    ours=finding.ours,
                    theirs=finding.theirs,
                    detail=finding.detail,
                    suggested_action=finding.suggested_action,
                    order=finding.order,
                    resolved_note=finding.resolved_note,
                    data=finding.data,
                )
                # Open findings count, and so do those the run settled itself (imports); one the
                # merchant already resolved with a note stays resolved and is not counted again.
                if issue.status == ReconciliationIssue.Status.OPEN or finding.resolved_note:
                    self.counts[finding.kind] = self.counts.get(finding.kind, 0) + 1


def _amount(value, currency: str) -> dict:
    """An amount as a finding keeps it (shown in the reader's language with the money filter)."""
    return {"amount": str(value), "currency": (currency or "").upper()}


def _lifecycle_words(value: str) -> Words | str:
    return Words.of(Lifecycle(value).label) if value in Lifecycle.values else value


NOT_HERE = Words(gettext_noop("not here"))


class _RunStopped(Exception):
    """The channel refused the account's credentials: the run ends with this message."""


# --- The checks: each compares what it is given and returns its findings ---------------------


def missing_order(account: ChannelAccount, theirs: ChannelOrder) -> Finding:
    """An order the channel has and we never received: imported now (a settled warning), or an
    error saying why the import failed."""
    their_side = f"{theirs.channel_status} {theirs.total} {theirs.currency}"
    data = {"theirs": {"status": theirs.channel_status, **_amount(theirs.total, theirs.currency)}}
    try:
        order, _outcome = order_import(account=account, data=theirs, via="reconciliation")
    except ValidationError as exc:
        return Finding(
            IssueKind.MISSING_ORDER,
            key=theirs.external_id,
            severity=Severity.ERROR,
            ours=NOT_HERE,
            theirs=their_side,
            detail=Words(gettext_noop("Import failed: %(e)s"), e="; ".join(exc.messages)),
            suggested_action=IssueAction.IMPORT,
            data=data,
        )
    return Finding(
        IssueKind.MISSING_ORDER,
        key=theirs.external_id,
        severity=Severity.WARNING,
        ours=NOT_HERE,
        theirs=their_side,
        detail=Words(
            gettext_noop("The channel has order %(o)s that never reached us; it has been imported."),
            o=theirs.external_id,
        ),
        suggested_action=IssueAction.IMPORT,
        order=order,
        resolved_note=_("Imported by reconciliation."),
        data=data,
    )


def status_drift(order: Order, theirs: ChannelOrder) -> Finding | None:
    """The lifecycles disagree in a way that needs someone's attention."""
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
    their_side = f"{theirs.channel_status} ({theirs.lifecycle})"
    # The side that changed last is the one to believe: refresh from a newer channel, else push ours.
    newer_there = (
        theirs.updated_at is not None
        and order.channel_updated_at is not None
        and theirs.updated_at > order.channel_updated_at
    )
    return Finding(
        IssueKind.STATUS_DRIFT,
        key=order.external_id,
        ours=ours,
        theirs=their_side,
        detail=Words(
            gettext_noop("Order %(o)s is “%(ours)s” here and “%(theirs)s” on the channel."),
            o=order.external_id,
            ours=_lifecycle_words(ours),
            theirs=_lifecycle_words(theirs.lifecycle),
        ),
        suggested_action=IssueAction.REFRESH if newer_there else IssueAction.REPUSH,
        order=order,
        data={
            "ours": {"lifecycle": str(ours)},
            "theirs": {"status": theirs.channel_status, "lifecycle": str(theirs.lifecycle)},
        },
    )


def amount_mismatch(order: Order, theirs: ChannelOrder) -> Finding | None:
    """Another currency, or totals further apart than rounding (one minor unit)."""
    if theirs.currency.upper() == order.currency and abs(theirs.total - order.total) <= minor_unit(order.currency):
        return None
    return Finding(
        IssueKind.AMOUNT_MISMATCH,
        key=order.external_id,
        severity=Severity.ERROR,
        ours=f"{order.total} {order.currency}",
        theirs=f"{theirs.total} {theirs.currency}",
        detail=Words(
            gettext_noop("The totals of order %(o)s differ by more than one minor unit."), o=order.external_id
        ),
        suggested_action=IssueAction.REFRESH,
        order=order,
        data={"ours": _amount(order.total, order.currency), "theirs": _amount(theirs.total, theirs.currency)},
    )


def unknown_to_channel(ours: dict[str, Order], theirs: dict[str, ChannelOrder]) -> list[Finding]:
    """Orders of the window we hold and the channel does not list."""
    return [
        Finding(
            IssueKind.UNKNOWN_TO_CHANNEL,
            key=external_id,
            severity=Severity.ERROR,
            ours=f"{order.status} {order.total} {order.currency}",
            theirs=Words(gettext_noop("not on the channel")),
            detail=Words(gettext_noop("We hold order %(o)s but the channel does not list it."), o=external_id),
            # Asking the channel for this one order settles it when the list only left it out.
            suggested_action=IssueAction.REFRESH,
            order=order,
            data={"ours": {"lifecycle": str(order.status), **_amount(order.total, order.currency)}},
        )
        for external_id, order in ours.items()
        if external_id not in theirs
    ]


def _line_key(line: OrderLine) -> str:
    return f"{line.order.external_id}:{line.channel_item_id or line.sku}"


def unknown_items(lines: Iterable[OrderLine]) -> list[Finding]:
    """Order lines matched to no variant of ours."""
    return [
        Finding(
            IssueKind.UNKNOWN_ITEM,
            key=_line_key(line),
            severity=Severity.ERROR,
            ours=Words(gettext_noop("no variant with SKU %(sku)s"), sku=line.sku or "—"),
            theirs=line.channel_item_id or line.sku,
            detail=Words(gettext_noop("Order %(o)s has an item we cannot match."), o=line.order.external_id),
            order=line.order,
        )
        for line in lines
        if line.variant_id is None
    ]


def oversold_lines(lines: Iterable[OrderLine]) -> list[Finding]:
    """Lines of orders still open that were sold beyond our stock."""
    return [
        Finding(
            IssueKind.OVERSELL,
            key=_line_key(line),
            severity=Severity.ERROR,
            ours=Words(gettext_noop("%(n)d available"), n=line.quantity_allocated),
            theirs=Words(gettext_noop("%(n)d ordered"), n=line.open_quantity),
            detail=Words(
                gettext_noop("Order %(o)s is short of %(n)d x %(sku)s."),
                o=line.order.external_id,
                n=line.quantity_short,
                sku=line.sku,
            ),
            order=line.order,
        )
        for line in lines
        if line.quantity_short > 0 and line.order.status not in CLOSED
    ]


LISTING_EXAMPLES = 50  # item ids a grouped listing finding keeps to show and to link


def _reason(error) -> str:
    return str(error.get("message", error)) if isinstance(error, dict) else str(error)


def listings_rejected(listings: Iterable[ChannelListing]) -> list[Finding]:
    """Listings of one account the channel rejected, or that fail its rules before sending: one
    finding for all of them (its count and the most frequent reasons), fixed by publishing again
    once the listings are corrected."""
    refused = [lst for lst in listings if lst.status in (ListingStatus.REJECTED, ListingStatus.ERROR)]
    if not refused:
        return []
    reasons: dict[str, int] = {}
    for listing in refused:
        for reason in dict.fromkeys(_reason(e) for e in (listing.errors or [])):
            reasons[reason] = reasons.get(reason, 0) + 1
    top = sorted(reasons.items(), key=lambda r: (-r[1], r[0]))[:3]
    items = sorted(lst.item_id for lst in refused)
    return [
        Finding(
            IssueKind.LISTING_DRIFT,
            key="listings:rejected",
            ours=Words(gettext_noop("%(n)d listed"), n=len(refused)),
            theirs=Words(gettext_noop("%(n)d refused"), n=len(refused)),
            detail="; ".join(f"{reason} ({n})" for reason, n in top)[:1000],
            suggested_action=IssueAction.REPUBLISH,
            data={"group": "rejected", "count": len(refused), "items": items[:LISTING_EXAMPLES]},
        )
    ]


def listing_quantity_drift(
    listings: Iterable[ChannelListing],
    available: dict[int, int],
    stated_quantity: Callable[[dict], int | None],
    held: dict[int, int] | None = None,
) -> list[Finding]:
    """Published listings of one account whose quantity on sale (what the channel last accepted,
    read by `stated_quantity`) is not our available stock (`available` by variant id): one
    finding for all of them, fixed by publishing again.

    Tolerance: a channel that still offers up to as many units as open orders hold (`held` by
    variant id) is not drifting: those orders took the units since it was told, and the next
    publish carries them."""
    held = held or {}
    drifted = []
    for listing in listings:
        if listing.status != ListingStatus.PUBLISHED or listing.variant_id is None:
            continue
        stated = stated_quantity(listing.accepted_payload or {})
        ours = max(0, int(available.get(listing.variant_id) or 0))
        if stated is None or stated == ours:
            continue
        if 0 < stated - ours <= int(held.get(listing.variant_id) or 0):
            continue
        drifted.append((listing.item_id, ours, stated))
    if not drifted:
        return []
    drifted.sort()
    return [
        Finding(
            IssueKind.LISTING_DRIFT,
            key="listings:quantity",
            ours=Words(gettext_noop("%(n)d available"), n=sum(o for _i, o, _s in drifted)),
            theirs=Words(gettext_noop("%(n)d on sale"), n=sum(s for _i, _o, s in drifted)),
            detail=Words(
                gettext_noop(
                    "The channel sells %(n)d listings from a quantity that is no longer yours, e.g. %(items)s."
                ),
                n=len(drifted),
                items=", ".join(f"{i} ({s} → {o})" for i, o, s in drifted[:3]),
            ),
            suggested_action=IssueAction.REPUBLISH,
            data={
                "group": "quantity",
                "count": len(drifted),
                "items": [i for i, _o, _s in drifted[:LISTING_EXAMPLES]],
            },
        )
    ]


# --- What the checks compare -------------------------------------------------------------------


def _channel_orders_since(account: ChannelAccount, start: dt.datetime) -> Iterator[list[ChannelOrder]]:
    """The channel's orders of the window, page by page as it lists them; _RunStopped if it
    refuses the account."""
    try:
        with adapter_for(account) as adapter:
            page = []
            for raw in channel_orders(account, since=int(start.timestamp()), adapter=adapter):
                page.append(adapter.normalize_order(raw))
                if len(page) == THEIRS_BATCH:
                    yield page
                    page = []
            if page:
                yield page
    except AdapterError as exc:
        if channel_refused(account, exc):
            raise _RunStopped(str(exc)) from exc
        raise
    health.account_call_succeeded(account)


THEIRS_TABLE = "reconciliation_theirs"
THEIRS_COLUMNS = ("seq", "external_id", "channel_status", "lifecycle", "currency", "total", "updated_at")


class _Theirs:
    """The channel's view of the window as rows of a temporary table, so it is compared with ours
    in the database: what each check needs of an order (status, lifecycle, amount, update time),
    never the order itself. An order listed twice counts as its last listing.

    Orders we do not hold at all are kept whole (the run imports them): each batch is looked up
    in one query as it arrives.
    """

    def __init__(self, account: ChannelAccount):
        self.account = account
        # Our orders of the account, named by the index's columns (row-level security alone
        # would leave the shop to a filter the index cannot use).
        self._ours = (account.shop_id, account.pk)
        self.listed = 0
        self.indexed = False
        self.missing: dict[str, ChannelOrder] = {}

    def __enter__(self) -> _Theirs:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {THEIRS_TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {THEIRS_TABLE} (seq integer, external_id text, "
                "channel_status text, lifecycle text, currency text, total numeric, "
                "updated_at timestamp with time zone)"
            )
        return self

    def __exit__(self, *exc) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {THEIRS_TABLE}")

    def add(self, page: list[ChannelOrder]) -> None:
        rows = [
            (self.listed + n, o.external_id, o.channel_status, o.lifecycle, o.currency, o.total, o.updated_at)
            for n, o in enumerate(page)
        ]
        self.listed += len(page)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {THEIRS_TABLE} ({', '.join(THEIRS_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO {THEIRS_TABLE} ({', '.join(THEIRS_COLUMNS)}) "  # noqa: S608 — our table
                    f"VALUES ({', '.join(['%s'] * len(THEIRS_COLUMNS))})",
                    rows,
                )
        ids = list({o.external_id for o in page})
        if connection.vendor == "postgresql":
            # One array parameter: a query with a thousand placeholders costs more to build than to run.
            held = {
                external_id
                for (external_id,) in self._rows(
                    f"SELECT external_id FROM {Order._meta.db_table} "  # noqa: S608 — our table
                    "WHERE shop_id = %s AND account_id = %s AND external_id = ANY(%s)",
                    [*self._ours, ids],
                    loaded=False,
                )
            }
        else:
            held = set(
                Order.objects.filter(account=self.account, external_id__in=ids).values_list("external_id", flat=True)
            )
        unknown = set(ids) - held
        for data in page:
            if data.external_id in unknown:
                self.missing[data.external_id] = data
            else:
                self.missing.pop(data.external_id, None)

    def _rows(self, sql: str, params: list, *, loaded: bool = True) -> list[tuple]:
        """Rows of a query on the table; once it is loaded, indexed by order id first, and its counts
        given to the planner (a join on a table it knows nothing of can go row by row)."""
        if loaded and not self.indexed:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE INDEX {THEIRS_TABLE}_external_id ON {THEIRS_TABLE} (external_id, seq)")
                if connection.vendor == "postgresql":
                    cursor.execute(f"ANALYZE {THEIRS_TABLE}")
            self.indexed = True
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def differing(self, start: dt.datetime) -> list[tuple[Order, ChannelOrder]]:
        """Orders of the window whose status, currency or total differ from the channel's (the
        checks then decide which of them are findings)."""
        orders = Order._meta.db_table
        rows = self._rows(
            f"SELECT o.id, t.external_id, t.channel_status, t.lifecycle, t.currency, t.total, t.updated_at "  # noqa: S608
            f"FROM {THEIRS_TABLE} t JOIN {orders} o ON o.external_id = t.external_id "
            "WHERE o.shop_id = %s AND o.account_id = %s AND o.placed_at >= %s "
            # The last listing of each order is the channel's view of it.
            f"AND NOT EXISTS (SELECT 1 FROM {THEIRS_TABLE} later WHERE later.external_id = t.external_id "
            "AND later.seq > t.seq) "
            "AND (o.status <> t.lifecycle OR o.currency <> UPPER(t.currency) OR o.total <> t.total) ORDER BY t.seq",
            [*self._ours, start],
        )
        held = Order.objects.in_bulk([row[0] for row in rows])
        return [
            (
                held[order_id],
                ChannelOrder(
                    external_id=external_id,
                    channel_status=channel_status,
                    lifecycle=lifecycle,
                    currency=currency,
                    total=Decimal(str(total)),
                    updated_at=_aware(updated_at),
                ),
            )
            for order_id, external_id, channel_status, lifecycle, currency, total, updated_at in rows
        ]

    def not_listed(self, start: dt.datetime) -> dict[str, Order]:
        """Orders of the window the channel does not list, by external id."""
        orders = Order._meta.db_table
        ids = [
            row[0]
            for row in self._rows(
                f"SELECT o.id FROM {orders} o WHERE o.shop_id = %s AND o.account_id = %s AND o.placed_at >= %s "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM {THEIRS_TABLE} t WHERE t.external_id = o.external_id)",
                [*self._ours, start],
            )
        ]
        return {o.external_id: o for o in Order.objects.filter(pk__in=ids).order_by("-placed_at", "-id")}

    def checked(self, start: dt.datetime) -> int:
        """Orders listed by the channel or held in the window: each counted once."""
        orders = Order._meta.db_table
        ((count,),) = self._rows(
            f"SELECT COUNT(*) FROM (SELECT external_id FROM {THEIRS_TABLE} UNION "  # noqa: S608
            f"SELECT external_id FROM {orders} WHERE shop_id = %s AND account_id = %s AND placed_at >= %s) ids",
            [*self._ours, start],
        )
        return count


def _aware(value):
    """A time read from the temporary table (SQLite gives text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)


def _lines_to_check(account: ChannelAccount, start: dt.datetime) -> list[OrderLine]:
    """The window's lines that may be unmatched or oversold (each check picks its own)."""
    return list(
        OrderLine.objects.filter(order__account=account, order__placed_at__gte=start)
        .filter(Q(variant__isnull=True) | Q(quantity_short__gt=0))
        .select_related("order")
    )


def _stock_by_variant(variant_ids: set[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Available (on hand minus allocated) and held (allocated to open orders) by variant id."""
    from catalog.models import StockLevel

    available, held = {}, {}
    for variant_id, n, allocated in (
        StockLevel.objects.filter(variant_id__in=variant_ids)
        .values("variant_id")
        .annotate(n=Sum(F("on_hand") - F("allocated")), held=Sum("allocated"))
        .values_list("variant_id", "n", "held")
    ):
        available[variant_id], held[variant_id] = n, allocated
    return available, held


# --- The run -----------------------------------------------------------------------------------


def _compare_orders(run: ReconciliationRun, record: _Recorder, start: dt.datetime) -> int:
    """The order checks, the channel's pages streamed into the database as they come, with the
    job's progress; returns the orders checked."""
    account, job = run.account, run.job
    with _Theirs(account) as theirs:
        for page in _channel_orders_since(account, start):
            theirs.add(page)
            if job is not None:
                job_progress(job=job, done=theirs.listed)
        total = theirs.checked(start)
        if job is not None:
            job_progress(job=job, done=theirs.listed, total=total)
        for order, data in theirs.differing(start):
            record(*(f for f in (status_drift(order, data), amount_mismatch(order, data)) if f))
        for data in theirs.missing.values():
            record(missing_order(account, data))  # the import is its own transaction
        for finding in unknown_to_channel(theirs.not_listed(start), {}):
            record(finding)
    return total


def _compare_listings(account: ChannelAccount, record: _Recorder) -> None:
    listings = list(
        ChannelListing.objects.filter(
            account=account, status__in=[ListingStatus.REJECTED, ListingStatus.ERROR, ListingStatus.PUBLISHED]
        )
    )
    published = {lst.variant_id for lst in listings if lst.status == ListingStatus.PUBLISHED and lst.variant_id}
    available, held = _stock_by_variant(published)
    with adapter_for(account) as adapter:
        findings = [
            *listings_rejected(listings),
            *listing_quantity_drift(listings, available, adapter.payload_quantity, held),
        ]
    for finding in findings:
        record(finding)
    # A group that no longer differs (and the one-per-listing findings of earlier versions) is settled.
    ReconciliationIssue.objects.filter(
        account=account, kind=IssueKind.LISTING_DRIFT, status=ReconciliationIssue.Status.OPEN
    ).exclude(key__in=[f.key for f in findings]).update(
        status=ReconciliationIssue.Status.RESOLVED,
        resolution_note=_("The listings no longer differ."),
        resolved_at=timezone.now(),
        pending_action="",
    )


def reconciliation_run(*, run: ReconciliationRun, window: dt.timedelta = DEFAULT_WINDOW) -> ReconciliationRun:
    """Compare, record findings, finish the run. Each import is its own transaction.

    An account that needs reconnecting stops the run (failed, with the reason, no findings);
    anything unexpected fails it with the error, keeping the counts so far, and is raised.
    """
    account = run.account
    if not health.account_usable(account):
        # Queued before the account needed reconnecting: the channel is not called, nothing is found.
        from channels.health import reconnect_message

        return _run_stopped(run, reconnect_message(account))
    record = _Recorder(run)
    try:
        end = timezone.now()
        start = end - window
        ReconciliationRun.objects.filter(pk=run.pk).update(window_start=start, window_end=end)
        orders_checked = _compare_orders(run, record, start)
        lines = _lines_to_check(account, start)
        for finding in (*unknown_items(lines), *oversold_lines(lines)):
            record(finding)
        _compare_listings(account, record)
        _run_succeeded(run, orders_checked, record.counts)
    except _RunStopped as stop:
        return _run_stopped(run, str(stop))
    except Exception as exc:
        _run_failed(run, exc, record.counts)
        raise
    return run


def _run_succeeded(run: ReconciliationRun, orders_checked: int, counts: dict[str, int]) -> None:
    run.status = ReconciliationRun.Status.SUCCEEDED
    run.orders_checked = orders_checked
    run.counts = counts
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "orders_checked", "counts", "finished_at"])
    if run.job is not None:
        job_finish(job=run.job, result={"counts": counts, "orders_checked": orders_checked})


def _run_failed(run: ReconciliationRun, exc: Exception, counts: dict[str, int]) -> None:
    run.status = ReconciliationRun.Status.FAILED
    run.error = error_words(exc)[:1000]
    run.counts = counts
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "counts", "finished_at"])
    if run.job is not None:
        job_finish(job=run.job, error=run.error)


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


# --- Acting on an issue --------------------------------------------------------------------------


def _refuse_action(message: str, code: str):
    raise ValidationError({"action": ValidationError(message, code=code)})


def _check_action(issue: ReconciliationIssue, action: str) -> None:
    """Refuse what cannot be done on this issue, before anything is queued."""
    if issue.status != ReconciliationIssue.Status.OPEN:
        raise ValidationError(_("This issue is already resolved."), code=OrdersErrorCode.ISSUE_RESOLVED)
    if action not in IssueAction.values:
        _refuse_action(_("Choose one of: %s.") % ", ".join(IssueAction.values), code=OrdersErrorCode.UNKNOWN_ACTION)
    if action == IssueAction.RESOLVE:
        return
    if action == IssueAction.REPUBLISH and issue.kind != IssueKind.LISTING_DRIFT:
        _refuse_action(_("Only a listing finding is published again."), code=OrdersErrorCode.UNKNOWN_ACTION)
    if action in (IssueAction.IMPORT, IssueAction.REFRESH) and issue.kind == IssueKind.LISTING_DRIFT:
        _refuse_action(_("A listing finding has no order to import."), code=OrdersErrorCode.UNKNOWN_ACTION)
    _require_usable(issue.account)


@transaction.atomic
def issue_act_request(*, issue: ReconciliationIssue, action: str, note: str = "") -> ReconciliationIssue:
    """The one-click actions from a request (the merchant UI, the API): resolving is done at once;
    the others talk to the channel, so they are recorded on the issue (`pending_action`) and done
    by the worker (`issue_act_task`), which clears it, or records why it failed (`action_error`)."""
    from orders.services.timeline import issue_resolve
    from orders.tasks import issue_act_task

    issue = ReconciliationIssue.objects.select_for_update().select_related("account").get(pk=issue.pk)
    _check_action(issue, action)
    if action == IssueAction.RESOLVE:
        return issue_resolve(issue=issue, note=note)
    if issue.pending_action == action:
        return issue  # already asked for: the worker does it once
    issue.pending_action, issue.action_error = action, ""
    issue.save(update_fields=["pending_action", "action_error"])
    audit_record(action="reconciliation_issue.act", instance=issue, changes={"action": [None, action]})
    shop_id, issue_id = issue.shop_id, issue.pk
    transaction.on_commit(lambda: issue_act_task.delay(shop_id, issue_id, action, note))
    return issue


def issue_act_background(*, issue: ReconciliationIssue, action: str, note: str = "") -> ReconciliationIssue:
    """What the worker does for `issue_act_request`: the action, then the issue's pending action
    cleared; a refusal is kept on the issue in words for the page to show."""
    try:
        issue = issue_act(issue=issue, action=action, note=note)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except (TransientError, RateLimited):
        error = _("The channel did not answer in time; try again in a moment.")
    except AdapterError as exc:
        error = error_words(exc)
    else:
        ReconciliationIssue.objects.filter(pk=issue.pk).update(pending_action="", action_error="")
        return issue
    ReconciliationIssue.objects.filter(pk=issue.pk).update(pending_action="", action_error=error[:500])
    issue.refresh_from_db()
    return issue


def _republish(issue: ReconciliationIssue, note: str) -> ReconciliationIssue:
    """Publish the account again through the channels app's plans: the plan carries every listing
    whose payload is not the one the channel accepted, the drifted ones among them."""
    from channels.publishing import publish_plan_apply, publish_plan_create
    from orders.services.timeline import issue_resolve

    with transaction.atomic():
        plan = publish_plan_create(account=issue.account)
        publish_plan_apply(plan=plan)
        return issue_resolve(
            issue=issue, note=note or _("Published again (plan %(plan)s); the next run checks it.") % {"plan": plan.pk}
        )


def issue_act(*, issue: ReconciliationIssue, action: str, note: str = "") -> ReconciliationIssue:
    """The one-click actions: import or refresh the order from the channel, re-push, resolve."""
    from orders.models import Cancellation, Fulfillment, IssueAction, PushState
    from orders.services.pushes import cancellation_push, fulfillment_push, order_acknowledge
    from orders.services.timeline import issue_resolve
    from orders.sync import channel_order_fetch

    _check_action(issue, action)
    account = issue.account
    if action == IssueAction.RESOLVE:
        return issue_resolve(issue=issue, note=note)
    if action == IssueAction.REPUBLISH:
        return _republish(issue, note)
    if action in (IssueAction.IMPORT, IssueAction.REFRESH):
        external_id = issue.order.external_id if issue.order_id else issue.key.split(":")[0]
        raw = channel_order_fetch(account, external_id)
        if raw is None:
            raise ValidationError(
                _("The channel does not list order %(o)s.") % {"o": external_id},
                code=OrdersErrorCode.ORDER_NOT_ON_CHANNEL,
            )
        with adapter_for(account) as adapter:
            data = adapter.normalize_order(raw)
        with transaction.atomic():
            order, outcome = order_import(account=account, data=data, via="reconciliation")
            if outcome == "stale":
                raise ValidationError(
                    _("We already hold a newer version of this order."), code=OrdersErrorCode.ORDER_STALE
                )
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
            raise ValidationError(_("Nothing to send again for this issue."), code=OrdersErrorCode.NOTHING_TO_PUSH)
        if state in (PushState.PUSHED, PushState.NOT_SUPPORTED):
            return issue_resolve(issue=issue, note=note or _("Sent again (%(s)s).") % {"s": PushState(state).label})
        raise ValidationError(
            _("The channel refused it again; see the order's timeline."), code=OrdersErrorCode.PUSH_REFUSED
        )
    raise ValidationError(
        {
            "action": ValidationError(
                _("Choose one of: %s.") % ", ".join(IssueAction.values), code=OrdersErrorCode.UNKNOWN_ACTION
            )
        }
    )
