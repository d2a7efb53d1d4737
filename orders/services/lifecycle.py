"""What the merchant does to an order: fulfil, cancel, refund; and the status its lines add up to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import Location, MovementReason
from catalog.services import StockChange, stock_post_movements
from orders.errors import OrdersErrorCode
from orders.models import (
    CLOSED,
    Cancellation,
    CancellationLine,
    Fulfillment,
    FulfillmentLine,
    Lifecycle,
    Order,
    OrderEvent,
    OrderLine,
    PushState,
    Refund,
    RefundLine,
    Source,
)
from orders.rollup import sales_rollup_touch
from orders.services.settings import settings_get
from orders.services.stock import _allocate, _release
from orders.services.timeline import order_event
from shopadmin.audit import audit_record
from shopadmin.tenancy import current_shop
from shopadmin.words import Words


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
        Words(
            gettext_noop("Fulfilled %(n)d item(s)%(how)s"),
            n=sum(q for _l, q in picks),
            how=f" — {carrier} {tracking_number}".rstrip() if carrier or tracking_number else "",
        ),
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
        raise ValidationError(
            _("This order is %(status)s; it cannot be fulfilled.") % {"status": order.status},
            code=OrdersErrorCode.ORDER_CLOSED,
        )
    by_id = {line.pk: line for line in order.lines.all()}
    wanted = list(lines) if lines else [(pk, line.open_quantity) for pk, line in by_id.items() if line.open_quantity]
    errors = []
    picks = []
    for line_id, quantity in wanted:
        line = by_id.get(int(line_id))
        if line is None:
            errors.append(
                ValidationError(
                    _("Line %(id)s is not part of this order.") % {"id": line_id},
                    code=OrdersErrorCode.LINE_NOT_IN_ORDER,
                )
            )
            continue
        quantity = int(quantity)
        if quantity <= 0:
            continue
        if quantity > line.open_quantity:
            errors.append(
                ValidationError(
                    _("%(sku)s: only %(n)d left to ship (asked %(q)d).")
                    % {"sku": line.sku, "n": line.open_quantity, "q": quantity},
                    code=OrdersErrorCode.FULFILL_EXCEEDS_OPEN,
                )
            )
            continue
        picks.append((line, quantity))
    if errors:
        raise ValidationError({"lines": errors})
    if not picks:
        raise ValidationError(
            {"lines": [ValidationError(_("Pick at least one item to ship."), code=OrdersErrorCode.NO_LINES_SELECTED)]}
        )
    # A line that was oversold may have stock again: allocate what it can before shipping.
    _allocate(order, [line for line, _q in picks])
    for line, quantity in picks:
        line.refresh_from_db()
        if line.variant_id and quantity > line.quantity_allocated:
            errors.append(
                ValidationError(
                    _("%(sku)s: only %(n)d in stock for this order; receive stock first.")
                    % {"sku": line.sku, "n": line.quantity_allocated},
                    code=OrdersErrorCode.INSUFFICIENT_STOCK,
                )
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
                Words(gettext_noop("%(n)d x %(sku)s back in stock"), n=released, sku=line.sku),
                line=line.pk,
            )
    order.status = _status_from_lines(order)
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "updated_at"])
    order_event(order, OrderEvent.Kind.CANCELLED, reason or Words(gettext_noop("Cancelled")), source=source)
    return cancellation


@transaction.atomic
def order_cancel(*, order: Order, reason: str = "") -> Cancellation:
    """Cancel what has not shipped, give its stock back, and tell the channel after commit."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status in CLOSED:
        raise ValidationError(
            _("This order is already %(status)s.") % {"status": order.get_status_display()},
            code=OrdersErrorCode.ORDER_CLOSED,
        )
    cancellation = _cancel_open(
        order, reason=(reason or "").strip() or _("Cancelled by the merchant"), source=Source.MERCHANT
    )
    if cancellation is None:
        raise ValidationError(
            _("Everything in this order has shipped; refund it instead."), code=OrdersErrorCode.NOTHING_TO_CANCEL
        )
    audit_record(
        action="order.cancel", instance=order, changes={"status": [None, order.status], "reason": [None, reason]}
    )
    sales_rollup_touch(order, tz_name=current_shop().timezone)
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
        raise ValidationError(
            {"amount": ValidationError(_("Write the amount like 19.99."), code=OrdersErrorCode.AMOUNT_INVALID)}
        ) from None
    refunded = sum((r.amount for r in order.refunds.all()), Decimal("0"))
    if amount <= 0:
        raise ValidationError(
            {"amount": ValidationError(_("Refund a positive amount."), code=OrdersErrorCode.AMOUNT_NOT_POSITIVE)}
        )
    if refunded + amount > order.total:
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("At most %(left)s %(cur)s is left to refund.")
                    % {"left": order.total - refunded, "cur": order.currency},
                    code=OrdersErrorCode.REFUND_EXCEEDS_TOTAL,
                )
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
            errors.append(
                ValidationError(
                    _("Line %(id)s is not part of this order.") % {"id": line_id},
                    code=OrdersErrorCode.LINE_NOT_IN_ORDER,
                )
            )
            continue
        if quantity <= 0:
            continue
        asked[line.pk] = asked.get(line.pk, 0) + quantity
        if asked[line.pk] > line.quantity - line.quantity_refunded:
            errors.append(
                ValidationError(
                    _("%(sku)s: refunding more than was ordered.") % {"sku": line.sku},
                    code=OrdersErrorCode.REFUND_EXCEEDS_ORDERED,
                )
            )
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
        Words(
            gettext_noop("Refunded %(amount)s %(cur)s%(restock)s"),
            amount=amount,
            cur=order.currency,
            restock=Words(gettext_noop(", restocked")) if restock else "",
        ),
        refund=refund.pk,
    )
    audit_record(action="order.refund", instance=order, changes={"refund": [None, f"{amount} {order.currency}"]})
    sales_rollup_touch(order, tz_name=current_shop().timezone)
    return refund
