"""Orders as the channels report them: create or update one order (the upsert), match its
variants and customer, hold its stock, and follow the channel's cancellations and refunds."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import ProductVariant
from channels.adapters.base import ChannelOrder
from channels.models import ChannelAccount
from localization.models import Market
from localization.money import quantize
from localization.rates import RateNotFound, rate_for
from orders.attribution import attribution_fields
from orders.errors import OrdersErrorCode
from orders.models import (
    CLOSED,
    LIFECYCLE_RANK,
    Customer,
    IssueKind,
    Lifecycle,
    Order,
    OrderEvent,
    OrderLine,
    Severity,
    Source,
)
from orders.rollup import sales_rollup_created, sales_rollup_touch
from orders.services.lifecycle import _cancel_lines, _cancel_open, _fulfill, _status_from_lines, order_refund
from orders.services.pushes import _schedule_acknowledge
from orders.services.stock import _allocate, _allocate_many
from orders.services.timeline import _event, issue_raise, order_event
from shopadmin.audit import audit_record, current_actor
from shopadmin.models import AuditLogEntry, Shop
from shopadmin.tenancy import current_shop, current_shop_id
from shopadmin.words import Words

logger = logging.getLogger(__name__)
AMOUNT_FIELDS = ("subtotal", "shipping", "tax", "duties", "discounts", "total")


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


def _active_markets() -> list[Market]:
    return list(Market.objects.filter(is_active=True).order_by("-is_home", "id"))


def _market_for(data: ChannelOrder, markets: list[Market] | None = None) -> Market | None:
    markets = _active_markets() if markets is None else markets
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
                # that item (`ORDER BY id DESC LIMIT 1`, which walks the item's entries in the
                # orderline_item_match index back from the newest and stops at the account's
                # first) rather than a scan of the account's or the shop's whole history. The
                # line's account is read per line by a subquery, not a join, so that no plan
                # can start from the account's orders.
                account_of_line = Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("account_id")[:1])
                names = {f"item_{i}": item_id for i, item_id in enumerate(sorted(unlisted))}
                newest = (
                    ChannelAccount.objects.filter(pk=self.account.pk)
                    .annotate(
                        **{
                            name: Subquery(
                                OrderLine.objects.filter(channel_item_id=item_id, variant__isnull=False)
                                .alias(line_account=account_of_line)
                                .filter(line_account=self.account.pk)
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


def _customers_for(datas: Sequence[ChannelOrder]) -> list[Customer | None]:
    """`_customer_for` for several orders in a row, in three queries: the customer each order
    finds by email is the one the orders before it found or created."""
    emails = {data.buyer_email.upper() for data in datas if data.buyer_email}
    found: dict[str, Customer] = {}
    if emails:
        # The same pick as `.first()` per email: the newest by the model's ordering.
        for customer in (
            Customer.objects.annotate(email_key=Upper("email"))
            .filter(email_key__in=emails, erased_at=None)
            .order_by("-updated_at", "-id")
        ):
            found.setdefault(customer.email.upper(), customer)
    existing = {customer.pk: customer for customer in found.values()}
    created: list[Customer] = []
    customers: list[Customer | None] = []
    for data in datas:
        if not (data.buyer_email or data.buyer_name or data.buyer_phone):
            customers.append(None)
            continue
        customer = found.get(data.buyer_email.upper()) if data.buyer_email else None
        if customer is None:
            customer = Customer(shop_id=current_shop_id(), email=data.buyer_email.lower()[:254])
            created.append(customer)
            if data.buyer_email:
                found[data.buyer_email.upper()] = customer
        customer.name = data.buyer_name[:200] or customer.name
        customer.phone = data.buyer_phone[:40] or customer.phone
        if data.shipping_address and data.shipping_address not in customer.addresses:
            customer.addresses = [*customer.addresses, data.shipping_address]
        customer.updated_at = timezone.now()
        customers.append(customer)
    Customer.objects.bulk_create(created)
    if existing:
        Customer.objects.bulk_update(list(existing.values()), ["name", "phone", "addresses", "updated_at"])
    return customers


def _apply_attribution(order: Order, data: ChannelOrder) -> None:
    """Where a new order came from: what it carries, else its account's channel (orders.attribution).
    Set once, when the order is created: a channel's later update does not move it."""
    order.source, order.campaign, order.landing = attribution_fields(data.attribution, order.channel)


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
        raise _external_id_required()
    _lock_external_order(account.pk, data.external_id)
    shop = current_shop()
    order = Order.objects.select_for_update().filter(account=account, external_id=data.external_id).first()
    if order is None:
        order = _order_create(account=account, data=data, shop=shop, via=via)
        audit_record(action="order.import", instance=order, changes=_import_changes(order, via))
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
    if changes:
        audit_record(action="order.channel_update", instance=order, changes={**changes, "via": [None, via]})
    order_event(
        order,
        OrderEvent.Kind.UPDATED,
        Words(gettext_noop("Channel status %(status)s (via %(via)s)"), status=data.channel_status, via=via),
        changes=changes,
    )
    sales_rollup_touch(order, tz_name=shop.timezone, also=placed_before)
    if order.acknowledged_at is None:
        _schedule_acknowledge(order)  # an order the channel held back (FB_PROCESSING) may be ready now
    return order, "updated"


def _import_changes(order: Order, via: str) -> dict:
    return {"status": [None, order.status], "total": [None, f"{order.total} {order.currency}"], "via": [None, via]}


def _created_changes(order: Order) -> dict:
    return {"external_id": [None, order.external_id], "total": [None, f"{order.total} {order.currency}"]}


def _external_id_required() -> ValidationError:
    return ValidationError(
        {"external_id": ValidationError(_("The channel's order has no id."), code=OrdersErrorCode.EXTERNAL_ID_REQUIRED)}
    )


def _lock_external_orders(account_id: int, external_ids: Iterable[str]) -> None:
    """`_lock_external_order` for several orders in one query, always in the same order, so two
    batches naming the same orders wait for each other instead of deadlocking."""
    keys = sorted({f"orders:{current_shop_id()}:{account_id}:{external_id}" for external_id in external_ids})
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(%s::text[]) AS key", [keys])


def _is_plain_new(data: ChannelOrder) -> bool:
    """A new order that only needs creating and allocating: nothing cancelled, shipped or
    refunded on the channel yet (the rest goes through `order_import` one by one)."""
    return data.lifecycle in (Lifecycle.PENDING, Lifecycle.AWAITING_FULFILLMENT) and all(
        int(entry.quantity) > 0 and not entry.quantity_cancelled and not entry.quantity_refunded for entry in data.lines
    )


@transaction.atomic
def orders_import_batch(
    *, account: ChannelAccount, orders: Sequence[ChannelOrder], via: str = "webhook"
) -> list[tuple[Order, str]]:
    """`order_import` for several orders of one account, in their order and in one transaction,
    with the same result as importing them one by one (orders, lines, customers, allocations,
    issues, timeline, audit entries); returns (order, outcome) for each.

    New orders that only need creating and allocating are written in bulk, a run of them at a
    time; any other (an order we hold, one the channel already cancelled, shipped or refunded,
    an order named a second time) goes through `order_import` in its turn. One failure rolls
    the whole batch back: the caller then imports the orders one by one.
    """
    if any(not data.external_id for data in orders):
        raise _external_id_required()
    started = time.perf_counter()
    _lock_external_orders(account.pk, (data.external_id for data in orders))
    shop = current_shop()
    held = set(
        Order.objects.filter(account=account, external_id__in={data.external_id[:100] for data in orders}).values_list(
            "external_id", flat=True
        )
    )
    results: list[tuple[Order, str]] = []
    plain: list[ChannelOrder] = []
    seen: set[str] = set()
    markets = _active_markets()
    for data in orders:
        key = data.external_id[:100]
        if key not in held and key not in seen and _is_plain_new(data):
            seen.add(key)
            plain.append(data)
            continue
        seen.add(key)
        if plain:
            results += _orders_create_many(account=account, datas=plain, shop=shop, via=via, markets=markets)
            plain = []
        results.append(order_import(account=account, data=data, via=via))
    if plain:
        results += _orders_create_many(account=account, datas=plain, shop=shop, via=via, markets=markets)
    logger.info(
        "imported %d orders (%d created) in %.1f ms",
        len(results),
        sum(1 for _order, outcome in results if outcome == "created"),
        (time.perf_counter() - started) * 1000,
    )
    return results


def _orders_create_many(
    *, account: ChannelAccount, datas: Sequence[ChannelOrder], shop: Shop, via: str, markets: list[Market]
) -> list[tuple[Order, str]]:
    """`_order_create` and the rest of `order_import` for new orders in a row, in bulk."""
    customers = _customers_for(datas)
    orders = []
    for data, customer in zip(datas, customers, strict=True):
        order = Order(shop_id=shop.pk, account=account, channel=account.channel, external_id=data.external_id[:100])
        _apply_order_fields(order, data, shop)
        _apply_attribution(order, data)
        order.market = _market_for(data, markets)
        order.customer = customer
        order.status = Lifecycle.AWAITING_FULFILLMENT if data.lifecycle != Lifecycle.PENDING else Lifecycle.PENDING
        _convert(order, shop)
        order.full_clean(exclude=["shop", "account", "market", "customer"], validate_constraints=False)
        orders.append(order)
    Order.objects.bulk_create(orders)
    # One matcher for the run: what an earlier order matched is remembered as the database
    # would have it for the next order.
    matcher = _VariantMatcher(account)
    matcher.prepare([entry for data in datas for entry in data.lines])
    lines_of: list[list[OrderLine]] = []
    unmatched: list[tuple[Order, object]] = []
    for order, data in zip(orders, datas, strict=True):
        lines = []
        for entry in data.lines:
            variant = matcher.match(entry.channel_item_id, entry.sku)
            matcher.remember(entry.channel_item_id, variant)
            lines.append(_line_for(order, entry, variant))
            if variant is None:
                unmatched.append((order, entry))
        lines_of.append(lines)
    OrderLine.objects.bulk_create([line for lines in lines_of for line in lines])
    for order, entry in unmatched:
        _raise_unknown_item(account, order, entry)
    OrderEvent.objects.bulk_create(
        [_received_event(order, account, data, via) for order, data in zip(orders, datas, strict=True)]
    )
    _allocate_many(list(zip(orders, lines_of, strict=True)))
    _audit_many(
        "order.import",
        [(order, changes) for order in orders for changes in (_created_changes(order), _import_changes(order, via))],
    )
    sales_rollup_created(orders, tz_name=shop.timezone)
    for order in orders:
        _schedule_acknowledge(order)
    return [(order, "created") for order in orders]


def _audit_many(action: str, entries: list[tuple[Order, dict]]) -> None:
    """`audit_record(action=…, instance=order, changes=…)` for several orders in one insert
    (the changes hold only text and None)."""
    actor = current_actor()
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    AuditLogEntry.objects.bulk_create(
        AuditLogEntry(
            shop_id=order.shop_id,
            door=actor.door,
            actor_user=user,
            actor_api_key=actor.api_key,
            actor_label=actor.description[:200],
            action=action,
            model=order._meta.label,
            object_id=str(order.pk),
            object_repr=str(order)[:200],
            changes=changes,
        )
        for order, changes in entries
    )


def _line_for(order: Order, entry, variant: ProductVariant | None) -> OrderLine:
    return OrderLine(
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


def _raise_unknown_item(account: ChannelAccount, order: Order, entry) -> None:
    issue_raise(
        account=account,
        kind=IssueKind.UNKNOWN_ITEM,
        key=f"{order.external_id}:{entry.channel_item_id or entry.sku}",
        severity=Severity.ERROR,
        ours=Words(gettext_noop("no variant with SKU %(sku)s"), sku=entry.sku or "—"),
        theirs=entry.channel_item_id or entry.sku,
        detail=Words(
            gettext_noop("Order %(order)s has an item we cannot match; it takes no stock until you fix the SKU."),
            order=order.external_id,
        ),
        order=order,
    )


def _received_event(order: Order, account: ChannelAccount, data: ChannelOrder, via: str) -> OrderEvent:
    return _event(
        order,
        OrderEvent.Kind.RECEIVED,
        Words(
            gettext_noop("Received from %(account)s via %(via)s, channel status %(status)s"),
            account=account.name,
            via=via,
            status=data.channel_status,
        ),
        total=str(order.total),
        currency=order.currency,
        rate=str(order.rate) if order.rate is not None else None,
    )


def _order_create(*, account: ChannelAccount, data: ChannelOrder, shop: Shop, via: str) -> Order:
    order = Order(account=account, channel=account.channel, external_id=data.external_id[:100])
    _apply_order_fields(order, data, shop)
    _apply_attribution(order, data)
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
        lines.append(_line_for(order, entry, variant))
        if variant is None:
            unmatched.append(entry)
    # One insert for all lines; the primary keys come back (PostgreSQL and SQLite both return them).
    OrderLine.objects.bulk_create(lines)
    for entry in unmatched:
        _raise_unknown_item(account, order, entry)
    _received_event(order, account, data, via).save(force_insert=True)
    audit_record(action="order.import", instance=order, changes=_created_changes(order))
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
