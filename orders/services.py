"""Every write of the orders app: import (the upsert), stock, fulfilment, cancellation, refunds,
acknowledgements and pushes back to the channel, issues, settings and customer data rights.

Services are keyword-only, run in one transaction, validate, write the audit log and the
order's timeline, and schedule channel calls with ``transaction.on_commit``. They run in the
shop context (UI middleware, API key, task wrapper, webhook processing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Location, MovementReason, ProductVariant, StockLevel
from catalog.services import StockChange, stock_post_movements, stock_release
from channels.adapters.base import ChannelOrder, ShipmentLine
from channels.health import account_refused, account_usable, refusal_message
from channels.models import ChannelAccount
from localization.models import Market
from localization.money import minor_unit, quantize
from localization.rates import RateNotFound, rate_for
from orders.models import (
    CLOSED,
    LIFECYCLE_RANK,
    Allocation,
    Cancellation,
    CancellationLine,
    Customer,
    Fulfillment,
    FulfillmentLine,
    IssueAction,
    IssueKind,
    Lifecycle,
    MarketLocation,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
    PushState,
    ReconciliationIssue,
    Refund,
    RefundLine,
    Severity,
    Source,
)
from orders.rollup import sales_rollup_touch
from shopadmin.audit import audit_record, current_actor
from shopadmin.models import Shop
from shopadmin.tenancy import current_shop_id

AMOUNT_FIELDS = ("subtotal", "shipping", "tax", "duties", "discounts", "total")
PERSONAL_ORDER_FIELDS = ("buyer_name", "buyer_email", "buyer_phone", "shipping_address", "buyer_message", "raw")


def _shop() -> Shop:
    return Shop.objects.get(pk=current_shop_id())


def settings_get() -> OrderSettings:
    """The shop's order settings, read only: a shop that never changed them gets the
    defaults, unsaved (order imports read this on every order and write nothing)."""
    return OrderSettings.objects.filter(shop_id=current_shop_id()).first() or OrderSettings(shop_id=current_shop_id())


@transaction.atomic
def settings_update(*, default_location: Location | None = None, retention_days: int | None = None) -> OrderSettings:
    settings, _created = OrderSettings.objects.get_or_create(shop_id=current_shop_id())
    settings = OrderSettings.objects.select_for_update().get(pk=settings.pk)
    before = {"default_location": settings.default_location_id, "retention_days": settings.retention_days}
    settings.default_location = default_location
    settings.retention_days = retention_days
    settings.full_clean()
    settings.save()
    after = {"default_location": settings.default_location_id, "retention_days": settings.retention_days}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(action="order_settings.update", instance=settings, changes=changes)
    return settings


@transaction.atomic
def market_location_set(*, market: Market, location: Location | None) -> None:
    MarketLocation.objects.filter(market=market).delete()
    if location is not None:
        MarketLocation.objects.create(market=market, location=location)
    audit_record(
        action="market_location.set",
        model_label="orders.MarketLocation",
        object_id=str(market.pk),
        object_repr=f"{market.name} → {location.name if location else '—'}",
        shop_id=current_shop_id(),
        changes={"location": [None, location.pk if location else None]},
    )


# --- Timeline and issues ------------------------------------------------------------------


def _event(order: Order, kind: str, message: str, **data) -> OrderEvent:
    """An unsaved timeline entry, for callers that insert several in one query."""
    return OrderEvent(
        shop_id=order.shop_id,
        order=order,
        kind=kind,
        message=message[:500],
        data=data,
        actor_label=current_actor().description[:200],
    )


def order_event(order: Order, kind: str, message: str, **data) -> OrderEvent:
    event = _event(order, kind, message, **data)
    event.save(force_insert=True)
    return event


def issue_raise(
    *,
    account: ChannelAccount | int,
    kind: str,
    key: str,
    severity: str = Severity.WARNING,
    ours: str = "",
    theirs: str = "",
    detail: str = "",
    suggested_action: str = IssueAction.RESOLVE,
    order: Order | None = None,
    run=None,
    resolved_note: str = "",
) -> tuple[ReconciliationIssue, bool]:
    """Record a finding once: an open issue with the same (account, kind, key) is refreshed."""
    account_id = account if isinstance(account, int) else account.pk
    values = {
        "severity": severity,
        "ours": str(ours)[:500],
        "theirs": str(theirs)[:500],
        "detail": detail[:1000],
        "suggested_action": suggested_action,
        "order": order,
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
    issue.save(update_fields=["status", "resolution_note", "resolved_at"])
    audit_record(
        action="reconciliation_issue.resolve",
        instance=issue,
        changes={"status": ["open", "resolved"], "note": [None, issue.resolution_note]},
    )
    return issue


# --- Import -------------------------------------------------------------------------------


def _lock_external_order(account_id: int, external_id: str) -> None:
    """Serialise concurrent imports of one order (a webhook and a poll at the same moment).

    A transaction-scoped advisory lock covers the case the row lock cannot: the order does
    not exist yet, so there is no row to lock, and both would try to insert it.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"orders:{current_shop_id()}:{account_id}:{external_id}"],
        )


def _market_for(data: ChannelOrder) -> Market | None:
    markets = list(Market.objects.filter(is_active=True).order_by("-is_home", "id"))
    if data.country:
        for market in markets:
            if data.country in (market.countries or []):
                return market
    for market in markets:
        if market.currency == data.currency:
            return market
    return next((m for m in markets if m.is_home), None)


def _convert(order: Order, shop: Shop) -> None:
    order.shop_currency = shop.default_currency
    try:
        rate = rate_for(order.currency, shop.default_currency, shop_id=shop.pk, mode="auto", at=order.placed_at)
    except RateNotFound:
        for name in AMOUNT_FIELDS:
            setattr(order, f"{name}_shop", None)
        order.rate, order.rate_source, order.rate_date = None, "", None
        return
    for name in AMOUNT_FIELDS:
        setattr(order, f"{name}_shop", quantize(getattr(order, name) * rate.rate, shop.default_currency))
    order.rate, order.rate_source, order.rate_date = rate.rate, str(rate.source), rate.date


class _VariantMatcher:
    """By channel item id first (the account's listing of it, or what an earlier line of this
    account was matched to), then by SKU.

    ``prepare`` reads what every line of an order needs in three queries, so matching costs
    the same for one line as for fifty; ``match`` then answers from memory, in line order.
    """

    def __init__(self, account: ChannelAccount):
        self.account = account
        self.listed: dict[str, int] = {}
        self.earlier: dict[str, int] = {}
        self.variants: dict[int, ProductVariant] = {}
        self.by_sku: dict[str, ProductVariant] = {}

    def prepare(self, entries: Iterable) -> None:
        from channels.models import ChannelListing

        item_ids = {e.channel_item_id for e in entries if e.channel_item_id}
        skus = {c for e in entries for c in (e.sku, e.channel_item_id) if c}
        if item_ids:
            # The same pick as `.first()` per item id: the listing first in (item_id, id) order.
            rows = (
                ChannelListing.objects.filter(account=self.account, variant__isnull=False)
                .filter(Q(item_id__in=item_ids) | Q(channel_item_id__in=item_ids))
                .order_by("item_id", "id")
                .values_list("item_id", "channel_item_id", "variant_id")
            )
            for item_id, channel_item_id, variant_id in rows:
                for key in {item_id, channel_item_id} & item_ids:
                    self.listed.setdefault(key, variant_id)
            unlisted = item_ids - self.listed.keys()
            if unlisted:
                # One row, one scalar subquery per item id: each is the newest matched line of
                # that item (`ORDER BY id DESC LIMIT 1`, which stops at the first hit walking
                # back from the newest line) rather than a scan of the item's whole history.
                names = {f"item_{i}": item_id for i, item_id in enumerate(sorted(unlisted))}
                newest = (
                    ChannelAccount.objects.filter(pk=self.account.pk)
                    .annotate(
                        **{
                            name: Subquery(
                                OrderLine.objects.filter(
                                    order__account=self.account, channel_item_id=item_id, variant__isnull=False
                                )
                                .order_by("-id")
                                .values("variant_id")[:1]
                            )
                            for name, item_id in names.items()
                        }
                    )
                    .values(*names)
                    .first()
                ) or {}
                self.earlier = {names[name]: variant_id for name, variant_id in newest.items() if variant_id}
        ids = {*self.listed.values(), *self.earlier.values()}
        if ids or skus:
            for variant in ProductVariant.objects.filter(Q(pk__in=ids) | Q(sku__in=skus)):
                self.variants[variant.pk] = variant
                self.by_sku[variant.sku] = variant

    def match(self, channel_item_id: str, sku: str) -> ProductVariant | None:
        if channel_item_id:
            if channel_item_id in self.listed:
                return self.variants.get(self.listed[channel_item_id])
            if channel_item_id in self.earlier:
                return self.variants.get(self.earlier[channel_item_id])
        for candidate in (sku, channel_item_id):
            if candidate and candidate in self.by_sku:
                return self.by_sku[candidate]
        return None

    def remember(self, channel_item_id: str, variant: ProductVariant | None) -> None:
        """A later line of the same order with this item id is an earlier match's too."""
        if channel_item_id and variant is not None and channel_item_id not in self.listed:
            self.earlier[channel_item_id] = variant.pk
            self.variants[variant.pk] = variant


def _customer_for(data: ChannelOrder) -> Customer | None:
    if not (data.buyer_email or data.buyer_name or data.buyer_phone):
        return None
    customer = None
    if data.buyer_email:
        customer = Customer.objects.filter(email__iexact=data.buyer_email, erased_at=None).first()
    if customer is None:
        customer = Customer(email=data.buyer_email.lower()[:254])
    customer.name = data.buyer_name[:200] or customer.name
    customer.phone = data.buyer_phone[:40] or customer.phone
    if data.shipping_address and data.shipping_address not in customer.addresses:
        customer.addresses = [*customer.addresses, data.shipping_address]
    customer.updated_at = timezone.now()
    customer.save()
    return customer


def _preferred_locations(order: Order) -> list[int]:
    preferred = []
    if order.market_id:
        location = (
            MarketLocation.objects.filter(market_id=order.market_id).values_list("location_id", flat=True).first()
        )
        if location:
            preferred.append(location)
    default = settings_get().default_location_id
    if default and default not in preferred:
        preferred.append(default)
    return preferred


def _allocate(order: Order, lines: Sequence[OrderLine]) -> None:
    """Hold stock for the lines in this transaction, from the market's preferred location first.

    Every stock row the order can touch is locked up front in primary-key order, so two
    orders for the same variants never deadlock whatever locations they prefer. A shortfall
    is allocated as far as stock goes and recorded as an oversell issue; stock never goes
    negative (catalog's ledger refuses it, and its check constraints back that up).

    The locked rows are what the split is computed from (the same pick as catalog's
    ``stock_allocate``: each preferred location, then every location in id order), and the
    whole order is posted to the ledger as one batch, so an order costs the same few queries
    whatever its number of lines.
    """
    wanted = [line for line in lines if line.variant_id and line.open_quantity > line.quantity_allocated]
    if not wanted:
        return
    levels = list(
        StockLevel.objects.select_for_update()
        .filter(variant_id__in={line.variant_id for line in wanted})
        .order_by("pk")
    )
    by_variant: dict[int, list[StockLevel]] = {}
    for level in levels:
        by_variant.setdefault(level.variant_id, []).append(level)
    available = {level.pk: max(level.available, 0) for level in levels}
    preferred = _preferred_locations(order)
    reference = f"order:{order.pk}"
    movements: list[StockChange] = []
    allocations: list[Allocation] = []
    events: list[OrderEvent] = []
    short: list[OrderLine] = []
    for line in sorted(wanted, key=lambda ln: (ln.variant_id, ln.pk)):
        remaining = line.open_quantity - line.quantity_allocated
        taken: list[tuple[int, int]] = []
        for location_id in [*preferred, None]:
            for level in by_variant.get(line.variant_id, []):
                if not remaining:
                    break
                if location_id is not None and level.location_id != location_id:
                    continue
                take = min(remaining, available[level.pk])
                if take:
                    available[level.pk] -= take
                    taken.append((level.location_id, take))
                    movements.append(
                        StockChange(
                            variant_id=line.variant_id,
                            location_id=level.location_id,
                            quantity=take,
                            reason=MovementReason.ALLOCATION,
                            reference=reference,
                        )
                    )
                    remaining -= take
        allocations.extend(
            Allocation(shop_id=order.shop_id, line=line, location_id=location_id, quantity=quantity, allocated=quantity)
            for location_id, quantity in taken
        )
        line.quantity_allocated += sum(q for _loc, q in taken)
        line.quantity_short = remaining
        if taken:
            events.append(
                _event(
                    order,
                    OrderEvent.Kind.ALLOCATED,
                    _("%(n)d x %(sku)s allocated") % {"n": sum(q for _l, q in taken), "sku": line.sku},
                    line=line.pk,
                    locations=[[loc, q] for loc, q in taken],
                )
            )
        if remaining:
            events.append(
                _event(
                    order,
                    OrderEvent.Kind.OVERSOLD,
                    _("%(n)d x %(sku)s oversold: not in stock") % {"n": remaining, "sku": line.sku},
                    line=line.pk,
                    shortfall=remaining,
                )
            )
            short.append(line)
    if movements:
        # catalog's ledger re-checks every line against the rows locked above and refuses a
        # negative; the split computed here can only agree with it.
        stock_post_movements(movements=movements)
    Allocation.objects.bulk_create(allocations)
    OrderLine.objects.bulk_update(wanted, ["quantity_allocated", "quantity_short"])
    OrderEvent.objects.bulk_create(events)
    for line in short:
        issue_raise(
            account=order.account_id,
            kind=IssueKind.OVERSELL,
            key=f"{order.external_id}:{line.channel_item_id or line.sku}",
            severity=Severity.ERROR,
            ours=_("%(n)d available") % {"n": line.quantity_allocated},
            theirs=_("%(n)d ordered") % {"n": line.open_quantity},
            detail=_("Order %(order)s sold %(n)d more of %(sku)s than was in stock.")
            % {"order": order.external_id, "n": line.quantity_short, "sku": line.sku},
            suggested_action=IssueAction.RESOLVE,
            order=order,
        )


def _release(order: Order, line: OrderLine, quantity: int) -> int:
    """Give back up to `quantity` allocated units of the line; returns how many were released."""
    released = 0
    for allocation in line.allocations.filter(quantity__gt=0).order_by("-id"):
        if released >= quantity:
            break
        take = min(allocation.quantity, quantity - released)
        stock_release(
            variant_id=line.variant_id, location_id=allocation.location_id, quantity=take, reference=f"order:{order.pk}"
        )
        allocation.quantity -= take
        allocation.save(update_fields=["quantity"])
        released += take
    if released:
        line.quantity_allocated -= released
        line.save(update_fields=["quantity_allocated"])
    return released


def _status_from_lines(order: Order, channel_lifecycle: str | None = None) -> str:
    lines = list(order.lines.all())
    ordered = sum(line.quantity for line in lines)
    cancelled = sum(line.quantity_cancelled for line in lines)
    fulfilled = sum(line.quantity_fulfilled for line in lines)
    refunded = sum((r.amount for r in order.refunds.all()), Decimal("0"))
    if refunded > 0:
        return Lifecycle.REFUNDED if refunded >= order.total else Lifecycle.PARTIALLY_REFUNDED
    if ordered and cancelled >= ordered:
        return Lifecycle.CANCELLED
    to_ship = ordered - cancelled
    if to_ship and fulfilled >= to_ship:
        return Lifecycle.FULFILLED
    if fulfilled:
        return Lifecycle.PARTIALLY_FULFILLED
    base = channel_lifecycle or order.status
    if base == Lifecycle.PENDING:
        return Lifecycle.PENDING
    if base == Lifecycle.PARTIALLY_FULFILLED:
        return Lifecycle.PARTIALLY_FULFILLED
    return Lifecycle.AWAITING_FULFILLMENT


def _ack_key(order: Order) -> str:
    # Stable per order: a retried or redelivered acknowledgement is the same request to Meta.
    return hashlib.sha256(f"ack:{order.shop_id}:{order.account_id}:{order.external_id}".encode()).hexdigest()[:40]


def _apply_order_fields(order: Order, data: ChannelOrder, shop: Shop) -> None:
    order.channel_status = data.channel_status[:40]
    order.currency = (data.currency or shop.default_currency).upper()[:3]
    for name in AMOUNT_FIELDS:
        setattr(order, name, Decimal(getattr(data, name) or 0))
    order.placed_at = data.placed_at or order.placed_at or timezone.now()
    order.channel_updated_at = data.updated_at or order.channel_updated_at
    if order.erased_at is None:
        order.buyer_name = data.buyer_name[:200]
        order.buyer_email = data.buyer_email[:254]
        order.buyer_phone = data.buyer_phone[:40]
        order.shipping_address = data.shipping_address or {}
        order.buyer_message = data.buyer_message
        order.raw = data.raw if isinstance(data.raw, dict) else {}
    order.updated_at = timezone.now()


@transaction.atomic
def order_import(*, account: ChannelAccount, data: ChannelOrder, via: str = "webhook") -> tuple[Order, str]:
    """Create or update the order (shop, account, external id) from the channel's view of it.

    Returns (order, outcome): "created", "updated", "unchanged" or "stale". Redelivery and
    polling overlap find the order and change nothing; an update older than what we hold
    (out-of-order delivery) is ignored by the channel's update time.
    """
    if not data.external_id:
        raise ValidationError({"external_id": _("The channel's order has no id.")})
    _lock_external_order(account.pk, data.external_id)
    shop = _shop()
    order = Order.objects.select_for_update().filter(account=account, external_id=data.external_id).first()
    if order is None:
        order = _order_create(account=account, data=data, shop=shop, via=via)
        sales_rollup_touch(order, tz_name=shop.timezone)
        return order, "created"
    if order.channel_updated_at and data.updated_at and data.updated_at < order.channel_updated_at:
        return order, "stale"
    if (
        order.channel_updated_at == data.updated_at
        and order.channel_status == data.channel_status
        and order.total == data.total
    ):
        return order, "unchanged"
    before = {"channel_status": order.channel_status, "total": str(order.total), "status": order.status}
    placed_before = order.placed_at
    _apply_order_fields(order, data, shop)
    _convert(order, shop)
    order.save()
    _apply_channel_state(order, data)
    order.refresh_from_db(fields=["status"])
    after = {"channel_status": order.channel_status, "total": str(order.total), "status": order.status}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    order_event(
        order,
        OrderEvent.Kind.UPDATED,
        _("Channel status %(status)s (via %(via)s)") % {"status": data.channel_status, "via": via},
        changes=changes,
    )
    sales_rollup_touch(order, tz_name=shop.timezone, also=placed_before)
    if order.acknowledged_at is None:
        _schedule_acknowledge(order)  # an order the channel held back (FB_PROCESSING) may be ready now
    return order, "updated"


def _order_create(*, account: ChannelAccount, data: ChannelOrder, shop: Shop, via: str) -> Order:
    order = Order(account=account, channel=account.channel, external_id=data.external_id[:100])
    _apply_order_fields(order, data, shop)
    order.market = _market_for(data)
    order.customer = _customer_for(data)
    channel_lifecycle = data.lifecycle if data.lifecycle in Lifecycle.values else Lifecycle.PENDING
    order.status = Lifecycle.AWAITING_FULFILLMENT if channel_lifecycle != Lifecycle.PENDING else Lifecycle.PENDING
    _convert(order, shop)
    order.full_clean(exclude=["shop", "account", "market", "customer"], validate_constraints=False)
    order.save()
    matcher = _VariantMatcher(account)
    matcher.prepare(data.lines)
    lines, unmatched = [], []
    for entry in data.lines:
        variant = matcher.match(entry.channel_item_id, entry.sku)
        matcher.remember(entry.channel_item_id, variant)
        lines.append(
            OrderLine(
                shop_id=order.shop_id,
                order=order,
                variant=variant,
                channel_item_id=entry.channel_item_id[:200],
                sku=(entry.sku or (variant.sku if variant else ""))[:200],
                title=(entry.title or (variant.title if variant else ""))[:255],
                quantity=max(int(entry.quantity), 0),
                unit_price=entry.unit_price,
                tax=entry.tax,
                line_total=entry.unit_price * entry.quantity,
            )
        )
        if variant is None:
            unmatched.append(entry)
    # One insert for all lines; the primary keys come back (PostgreSQL and SQLite both return them).
    OrderLine.objects.bulk_create(lines)
    for entry in unmatched:
        issue_raise(
            account=account,
            kind=IssueKind.UNKNOWN_ITEM,
            key=f"{order.external_id}:{entry.channel_item_id or entry.sku}",
            severity=Severity.ERROR,
            ours=_("no variant with SKU %(sku)s") % {"sku": entry.sku or "—"},
            theirs=entry.channel_item_id or entry.sku,
            detail=_("Order %(order)s has an item we cannot match; it takes no stock until you fix the SKU.")
            % {"order": order.external_id},
            order=order,
        )
    order_event(
        order,
        OrderEvent.Kind.RECEIVED,
        _("Received from %(account)s via %(via)s, channel status %(status)s")
        % {"account": account.name, "via": via, "status": data.channel_status},
        total=str(order.total),
        currency=order.currency,
        rate=str(order.rate) if order.rate is not None else None,
    )
    audit_record(
        action="order.import",
        instance=order,
        changes={"external_id": [None, order.external_id], "total": [None, f"{order.total} {order.currency}"]},
    )
    # Units the channel already cancelled take no stock: they are never allocated.
    reported = _reported_units(data, "quantity_cancelled")
    for line in lines:
        cancelled = line.quantity if channel_lifecycle == Lifecycle.CANCELLED else reported.get(_line_key(line), 0)
        line.quantity_cancelled = min(line.quantity, cancelled)
        reported[_line_key(line)] = max(0, reported.get(_line_key(line), 0) - line.quantity_cancelled)
    if any(line.quantity_cancelled for line in lines):
        OrderLine.objects.bulk_update(lines, ["quantity_cancelled"])
    if channel_lifecycle == Lifecycle.CANCELLED or (
        lines and all(ln.quantity_cancelled >= ln.quantity for ln in lines)
    ):
        order.status = Lifecycle.CANCELLED
        order.save(update_fields=["status"])
        return order
    _allocate(order, lines)
    _apply_channel_lifecycle(order, channel_lifecycle)
    _apply_channel_refunds(order, data)
    _schedule_acknowledge(order)
    return order


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


def _line_key(line) -> str:
    return line.channel_item_id or line.sku


def _reported_units(data: ChannelOrder, name: str) -> dict[str, int]:
    """The channel's cancelled or refunded units per item (lines of one item summed)."""
    units: dict[str, int] = {}
    for entry in data.lines:
        if getattr(entry, name, 0):
            units[_line_key(entry)] = units.get(_line_key(entry), 0) + int(getattr(entry, name))
    return units


def _apply_channel_state(order: Order, data: ChannelOrder) -> None:
    """The channel's view on an order we hold: its cancelled units, its lifecycle, its refunded
    units, in that order (a cancelled unit is never shipped, a refund follows the shipment).

    The lines' own counts are what has been applied: importing the same order again finds
    nothing left to do."""
    _apply_channel_cancellations(order, data)
    _apply_channel_lifecycle(order, data.lifecycle)
    _apply_channel_refunds(order, data)


def _apply_channel_cancellations(order: Order, data: ChannelOrder) -> None:
    reported = _reported_units(data, "quantity_cancelled")
    if not reported or order.status in CLOSED:
        return
    picks = []
    for line in order.lines.all().order_by("pk"):
        more = min(reported.get(_line_key(line), 0) - line.quantity_cancelled, line.open_quantity)
        if more > 0:
            picks.append((line, more))
            reported[_line_key(line)] -= more
    if picks:
        _cancel_lines(order, picks, reason=_("Cancelled on the channel"), source=Source.CHANNEL)


def _apply_channel_refunds(order: Order, data: ChannelOrder) -> None:
    """Record the units the channel refunded through the refund service (no restock: the
    merchant decides what comes back to stock)."""
    reported = _reported_units(data, "quantity_refunded")
    if not reported:
        return
    order.refresh_from_db(fields=["status"])
    if order.status == Lifecycle.REFUNDED or order.status == Lifecycle.CANCELLED:
        return
    lines = list(order.lines.all().order_by("pk"))
    left_units = dict(reported)
    picks = []
    for line in lines:
        more = min(left_units.get(_line_key(line), 0) - line.quantity_refunded, line.quantity - line.quantity_refunded)
        if more > 0:
            picks.append((line, more))
            left_units[_line_key(line)] -= more
    if not picks:
        return
    refunded = sum((r.amount for r in order.refunds.all()), Decimal("0"))
    left = order.total - refunded
    now_refunded = {line.pk: q for line, q in picks}
    everything = all(
        line.quantity_refunded + now_refunded.get(line.pk, 0) >= line.quantity - line.quantity_cancelled
        for line in lines
    )
    amount = left if everything else min(left, sum((line.unit_price * q for line, q in picks), Decimal("0")))
    if amount <= 0:
        return
    order_refund(
        order=order,
        amount=amount,
        reason=_("Refunded on the channel"),
        lines=[(line.pk, q) for line, q in picks],
        restock=False,
        source=Source.CHANNEL,
    )


def _apply_channel_lifecycle(order: Order, lifecycle: str) -> None:
    """Bring our state up to what the channel says; never move it backwards."""
    if order.status in CLOSED:
        return
    if lifecycle == Lifecycle.CANCELLED:
        _cancel_open(order, reason=_("Cancelled on the channel"), source=Source.CHANNEL)
        return
    if lifecycle in (Lifecycle.FULFILLED, Lifecycle.PARTIALLY_REFUNDED, Lifecycle.REFUNDED):
        # Refunds follow shipments: what the channel refunded, it shipped first.
        open_lines = [(line, line.open_quantity) for line in order.lines.all() if line.open_quantity]
        if open_lines:
            _fulfill(
                order,
                open_lines,
                carrier="",
                tracking_number="",
                tracking_url="",
                source=Source.CHANNEL,
            )
    status = _status_from_lines(order, lifecycle)
    if LIFECYCLE_RANK.get(status, 0) >= LIFECYCLE_RANK.get(order.status, 0) and status != order.status:
        order.status = status
        order.save(update_fields=["status"])


# --- Fulfilment, cancellation, refunds ---------------------------------------------------


def _fulfill(
    order: Order,
    picks: Sequence[tuple[OrderLine, int]],
    *,
    carrier: str,
    tracking_number: str,
    tracking_url: str,
    source: str,
) -> Fulfillment:
    fulfillment = Fulfillment(
        order=order,
        carrier=carrier[:100],
        tracking_number=tracking_number[:100],
        tracking_url=tracking_url[:500],
        source=source,
        push_state=PushState.NOT_NEEDED if source == Source.CHANNEL else PushState.PENDING,
    )
    fulfillment.full_clean(exclude=["shop", "order"])
    fulfillment.save()
    movements = []
    for line, quantity in picks:
        FulfillmentLine.objects.create(fulfillment=fulfillment, line=line, quantity=quantity)
        shipped_from_stock = 0
        for allocation in line.allocations.filter(quantity__gt=0).order_by("id"):
            if shipped_from_stock >= quantity:
                break
            take = min(allocation.quantity, quantity - shipped_from_stock)
            reference = f"order:{order.pk}"
            # The units leave the building: release the hold and take them off on-hand together.
            movements += [
                StockChange(line.variant_id, allocation.location_id, -take, MovementReason.RELEASE, reference),
                StockChange(line.variant_id, allocation.location_id, -take, MovementReason.SALE, reference),
            ]
            allocation.quantity -= take
            allocation.save(update_fields=["quantity"])
            shipped_from_stock += take
        line.quantity_allocated -= shipped_from_stock
        line.quantity_fulfilled += quantity
        line.quantity_short = max(0, line.quantity_short - (quantity - shipped_from_stock))
        line.save(update_fields=["quantity_allocated", "quantity_fulfilled", "quantity_short"])
    if movements:
        stock_post_movements(movements=movements)
    order_event(
        order,
        OrderEvent.Kind.FULFILLED,
        _("Fulfilled %(n)d item(s)%(how)s")
        % {
            "n": sum(q for _l, q in picks),
            "how": f" — {carrier} {tracking_number}".rstrip() if carrier or tracking_number else "",
        },
        fulfillment=fulfillment.pk,
        source=source,
    )
    return fulfillment


@transaction.atomic
def order_fulfill(
    *,
    order: Order,
    lines: Iterable[tuple[int, int]] | None = None,
    carrier: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
) -> Fulfillment:
    """Ship lines (line id, quantity); all open lines when none are given. Pushed to the channel after commit."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status in CLOSED:
        raise ValidationError(_("This order is %(status)s; it cannot be fulfilled.") % {"status": order.status})
    by_id = {line.pk: line for line in order.lines.all()}
    wanted = list(lines) if lines else [(pk, line.open_quantity) for pk, line in by_id.items() if line.open_quantity]
    errors = []
    picks = []
    for line_id, quantity in wanted:
        line = by_id.get(int(line_id))
        if line is None:
            errors.append(_("Line %(id)s is not part of this order.") % {"id": line_id})
            continue
        quantity = int(quantity)
        if quantity <= 0:
            continue
        if quantity > line.open_quantity:
            errors.append(
                _("%(sku)s: only %(n)d left to ship (asked %(q)d).")
                % {"sku": line.sku, "n": line.open_quantity, "q": quantity}
            )
            continue
        picks.append((line, quantity))
    if errors:
        raise ValidationError({"lines": errors})
    if not picks:
        raise ValidationError({"lines": [_("Pick at least one item to ship.")]})
    # A line that was oversold may have stock again: allocate what it can before shipping.
    _allocate(order, [line for line, _q in picks])
    for line, quantity in picks:
        line.refresh_from_db()
        if line.variant_id and quantity > line.quantity_allocated:
            errors.append(
                _("%(sku)s: only %(n)d in stock for this order; receive stock first.")
                % {"sku": line.sku, "n": line.quantity_allocated}
            )
    if errors:
        raise ValidationError({"lines": errors})
    picks = [(OrderLine.objects.get(pk=line.pk), quantity) for line, quantity in picks]
    fulfillment = _fulfill(
        order,
        picks,
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=tracking_url,
        source=Source.MERCHANT,
    )
    order.status = _status_from_lines(order)
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "updated_at"])
    audit_record(
        action="order.fulfill",
        instance=order,
        changes={"fulfillment": [None, fulfillment.pk], "tracking_number": [None, tracking_number]},
    )
    from orders.tasks import fulfillment_push_task

    shop_id, fulfillment_id = order.shop_id, fulfillment.pk
    transaction.on_commit(lambda: fulfillment_push_task.delay(shop_id, fulfillment_id))
    return fulfillment


def _cancel_open(order: Order, *, reason: str, source: str) -> Cancellation | None:
    picks = [(line, line.open_quantity) for line in order.lines.all() if line.open_quantity]
    if not picks:
        return None
    return _cancel_lines(order, picks, reason=reason, source=source)


def _cancel_lines(order: Order, picks: Sequence[tuple[OrderLine, int]], *, reason: str, source: str) -> Cancellation:
    """Cancel units of lines (line, quantity ≤ its open quantity) and give their stock back."""
    cancellation = Cancellation.objects.create(
        order=order,
        reason=reason[:300],
        source=source,
        push_state=PushState.NOT_NEEDED if source == Source.CHANNEL else PushState.PENDING,
    )
    for line, quantity in picks:
        CancellationLine.objects.create(cancellation=cancellation, line=line, quantity=quantity)
        released = _release(order, line, quantity) if line.variant_id else 0
        line.refresh_from_db()
        line.quantity_cancelled += quantity
        line.quantity_short = 0
        line.save(update_fields=["quantity_cancelled", "quantity_short"])
        if released:
            order_event(
                order,
                OrderEvent.Kind.RELEASED,
                _("%(n)d x %(sku)s back in stock") % {"n": released, "sku": line.sku},
                line=line.pk,
            )
    order.status = _status_from_lines(order)
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "updated_at"])
    order_event(order, OrderEvent.Kind.CANCELLED, reason or _("Cancelled"), source=source)
    return cancellation


@transaction.atomic
def order_cancel(*, order: Order, reason: str = "") -> Cancellation:
    """Cancel what has not shipped, give its stock back, and tell the channel after commit."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status in CLOSED:
        raise ValidationError(_("This order is already %(status)s.") % {"status": order.get_status_display()})
    cancellation = _cancel_open(
        order, reason=(reason or "").strip() or _("Cancelled by the merchant"), source=Source.MERCHANT
    )
    if cancellation is None:
        raise ValidationError(_("Everything in this order has shipped; refund it instead."))
    audit_record(
        action="order.cancel", instance=order, changes={"status": [None, order.status], "reason": [None, reason]}
    )
    sales_rollup_touch(order, tz_name=_shop().timezone)
    from orders.tasks import cancellation_push_task

    shop_id, cancellation_id = order.shop_id, cancellation.pk
    transaction.on_commit(lambda: cancellation_push_task.delay(shop_id, cancellation_id))
    return cancellation


@transaction.atomic
def order_refund(
    *,
    order: Order,
    amount: Decimal | str,
    reason: str = "",
    lines: Iterable[tuple[int, int]] = (),
    restock: bool = False,
    source: str = Source.MERCHANT,
) -> Refund:
    """Record a refund; with restock, the lines' units go back to stock through the ledger."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    try:
        amount = Decimal(str(amount))
    except ArithmeticError:
        raise ValidationError({"amount": _("Write the amount like 19.99.")}) from None
    refunded = sum((r.amount for r in order.refunds.all()), Decimal("0"))
    if amount <= 0:
        raise ValidationError({"amount": _("Refund a positive amount.")})
    if refunded + amount > order.total:
        raise ValidationError(
            {
                "amount": _("At most %(left)s %(cur)s is left to refund.")
                % {"left": order.total - refunded, "cur": order.currency}
            }
        )
    by_id = {line.pk: line for line in order.lines.all()}
    # Every named line must be on this order and refundable: checked before anything is written.
    errors = []
    picks = []
    asked: dict[int, int] = {}
    for line_id, quantity in lines:
        line = by_id.get(int(line_id))
        quantity = int(quantity)
        if line is None:
            errors.append(_("Line %(id)s is not part of this order.") % {"id": line_id})
            continue
        if quantity <= 0:
            continue
        asked[line.pk] = asked.get(line.pk, 0) + quantity
        if asked[line.pk] > line.quantity - line.quantity_refunded:
            errors.append(_("%(sku)s: refunding more than was ordered.") % {"sku": line.sku})
            continue
        picks.append((line, quantity))
    if errors:
        raise ValidationError({"lines": errors})
    refund = Refund.objects.create(
        order=order, amount=amount, currency=order.currency, reason=(reason or "")[:300], restock=restock, source=source
    )
    movements = []
    for line, quantity in picks:
        RefundLine.objects.create(refund=refund, line=line, quantity=quantity)
        if restock and line.variant_id:
            # Unshipped units are released; shipped ones come back on hand where they left.
            unshipped = min(quantity, line.open_quantity)
            if unshipped:
                _release(order, line, unshipped)
                line.refresh_from_db()
                line.quantity_cancelled += unshipped
            returned = quantity - unshipped
            if returned:
                location = (
                    line.allocations.order_by("id").values_list("location_id", flat=True).first()
                    or settings_get().default_location_id
                    or Location.objects.order_by("pk").values_list("pk", flat=True).first()
                )
                if location:
                    movements.append(
                        StockChange(line.variant_id, location, returned, MovementReason.RETURN, f"order:{order.pk}")
                    )
        line.quantity_refunded += quantity
        line.save(update_fields=["quantity_refunded", "quantity_cancelled", "quantity_allocated"])
    if movements:
        stock_post_movements(movements=movements)
    order.status = _status_from_lines(order)
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "updated_at"])
    order_event(
        order,
        OrderEvent.Kind.REFUNDED,
        _("Refunded %(amount)s %(cur)s%(restock)s")
        % {"amount": amount, "cur": order.currency, "restock": _(", restocked") if restock else ""},
        refund=refund.pk,
    )
    audit_record(action="order.refund", instance=order, changes={"refund": [None, f"{amount} {order.currency}"]})
    sales_rollup_touch(order, tz_name=_shop().timezone)
    return refund


# --- Back to the channel ------------------------------------------------------------------


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


def _push_settle(*, order: Order, key: str, state: str, error: str, ours: str, detail: str, resolved_note: str) -> None:
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
        )


def _push_row(
    row: Fulfillment | Cancellation,
    send,
    *,
    final_attempt: bool,
    key: str,
    sent: str,
    not_sent: str,
    ours: str,
    detail: str,
) -> str:
    """Send a fulfilment or cancellation (`send(adapter)`) and record the outcome on it, on the
    order's timeline and as its re-push issue. `not_sent` takes the error as %(e)s."""
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
            order_event(order, OrderEvent.Kind.PUSH_FAILED, not_sent % {"e": error[:300]})
        _push_settle(
            order=order,
            key=key,
            state=state,
            error=error,
            ours=ours,
            detail=detail,
            resolved_note="Sent on a later attempt.",
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
            order_event(order, OrderEvent.Kind.ACKNOWLEDGED, _("Acknowledged to %(ch)s") % {"ch": order.account.name})
        elif state == PushState.FAILED:
            Order.objects.filter(pk=order.pk).update(acknowledge_error=error[:500])
        _push_settle(
            order=order,
            key=f"ack:{order.external_id}",
            state=state,
            error=error,
            ours=_("acknowledgement"),
            detail=_("The channel refused the acknowledgement of order %(o)s.") % {"o": order.external_id},
            resolved_note="Acknowledged on a later attempt.",
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
        sent=_("Fulfilment sent to %(ch)s") % {"ch": order.account.name},
        not_sent=_("Fulfilment not sent: %(e)s"),
        ours=f"{fulfillment.carrier} {fulfillment.tracking_number}".strip(),
        detail=_("The fulfilment of order %(o)s did not reach the channel.") % {"o": order.external_id},
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
        sent=_("Cancellation sent to %(ch)s") % {"ch": order.account.name},
        not_sent=_("Cancellation not sent: %(e)s"),
        ours=_("cancelled"),
        detail=_("The cancellation of order %(o)s did not reach the channel.") % {"o": order.external_id},
    )


# --- Customer data rights -----------------------------------------------------------------


def customer_export(*, customer: Customer) -> dict:
    """Everything held about a customer of this shop, as JSON-ready data; the export is audited."""
    orders = Order.objects.filter(
        Q(customer=customer) | Q(buyer_email__iexact=customer.email) if customer.email else Q(customer=customer)
    )
    data = {
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "addresses": customer.addresses,
            "marketing_consent": customer.marketing_consent,
            "created_at": customer.created_at.isoformat(),
            "updated_at": customer.updated_at.isoformat(),
        },
        "orders": [
            {
                "id": order.pk,
                "channel": order.channel,
                "external_id": order.external_id,
                "status": order.status,
                "placed_at": order.placed_at.isoformat() if order.placed_at else None,
                "currency": order.currency,
                "total": str(order.total),
                "buyer_name": order.buyer_name,
                "buyer_email": order.buyer_email,
                "buyer_phone": order.buyer_phone,
                "shipping_address": order.shipping_address,
                "buyer_message": order.buyer_message,
                "lines": [
                    {
                        "sku": line.sku,
                        "title": line.title,
                        "quantity": line.quantity,
                        "unit_price": str(line.unit_price),
                    }
                    for line in order.lines.all()
                ],
                "channel_payload": order.raw,
            }
            for order in orders.distinct().prefetch_related("lines")
        ],
    }
    # The audit entry names the customer by id only: it must not become a copy of personal data.
    audit_record(
        action="customer.export",
        instance=customer,
        object_repr=f"Customer {customer.pk}",
        changes={"orders": [None, len(data["orders"])]},
    )
    return data


ERASED = "erased"


@transaction.atomic
def customer_erase(*, customer: Customer) -> Customer:
    """Anonymise the customer and the personal fields of their orders; amounts stay for accounting.

    The channel's raw payload holds the same personal data, so it is emptied too; the audit
    entry records that an erasure happened, never what was erased.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    email = customer.email
    orders = Order.objects.filter(
        Q(customer=customer) | Q(buyer_email__iexact=email) if email else Q(customer=customer)
    )
    now = timezone.now()
    order_ids = list(orders.values_list("pk", flat=True))
    Order.objects.filter(pk__in=order_ids).update(
        buyer_name="", buyer_email="", buyer_phone="", shipping_address={}, buyer_message="", raw={}, erased_at=now
    )
    from channels.models import WebhookEvent

    # Webhook bodies of these orders can carry the buyer too (TikTok sends ids only, Meta ids only,
    # but a channel may add more); drop their stored bodies.
    external_ids = list(Order.objects.filter(pk__in=order_ids).values_list("external_id", flat=True))
    for external_id in external_ids:
        WebhookEvent.objects.filter(raw_body__contains=external_id).update(raw_body="{}")
    if email:
        WebhookEvent.objects.filter(raw_body__icontains=email).update(raw_body="{}")
    for order in Order.objects.filter(pk__in=order_ids):
        order_event(order, OrderEvent.Kind.ERASED, _("Personal data erased on request"))
    customer.name = ""
    customer.email = ""
    customer.phone = ""
    customer.addresses = []
    customer.marketing_consent = False
    customer.erased_at = now
    customer.updated_at = now
    customer.save()
    audit_record(
        action="customer.erase",
        model_label="orders.Customer",
        object_id=str(customer.pk),
        object_repr=f"Customer {customer.pk} (erased)",
        shop_id=customer.shop_id,
        changes={"orders_anonymised": [None, len(order_ids)]},
    )
    return customer


def retention_sweep() -> int:
    """Erase customers whose last order is older than the shop's retention setting."""
    settings = settings_get()
    if not settings.retention_days:
        return 0
    cutoff = timezone.now() - dt.timedelta(days=settings.retention_days)
    stale = Customer.objects.filter(erased_at=None).exclude(orders__placed_at__gte=cutoff).filter(updated_at__lt=cutoff)
    count = 0
    for customer in stale.distinct():
        customer_erase(customer=customer)
        count += 1
    return count


def amount_tolerance(currency: str) -> Decimal:
    """Totals may differ by rounding: one minor unit of the currency (0.01 EUR, 1 JPY)."""
    return minor_unit(currency)
