"""Stock held for an order's lines: allocated from the market's preferred location first,
released when lines are cancelled or refunded unshipped."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_noop

from catalog.models import MovementReason, StockLevel
from catalog.services import StockChange, stock_post_movements, stock_release
from orders.models import (
    Allocation,
    IssueAction,
    IssueKind,
    MarketLocation,
    Order,
    OrderEvent,
    OrderLine,
    Severity,
)
from orders.services.settings import settings_get
from orders.services.timeline import _event, issue_raise
from shopadmin.words import Words


class _Preferences:
    """Where each market's orders are allocated from first: the market's location, then the
    shop's default location. Read once for all the orders of an allocation."""

    def __init__(self):
        self.default = settings_get().default_location_id
        self.by_market: dict[int, int | None] = {}

    def for_order(self, order: Order) -> list[int]:
        preferred = []
        if order.market_id:
            if order.market_id not in self.by_market:
                self.by_market[order.market_id] = (
                    MarketLocation.objects.filter(market_id=order.market_id)
                    .values_list("location_id", flat=True)
                    .first()
                )
            if self.by_market[order.market_id]:
                preferred.append(self.by_market[order.market_id])
        if self.default and self.default not in preferred:
            preferred.append(self.default)
        return preferred


def _allocate(order: Order, lines: Sequence[OrderLine]) -> None:
    """Hold stock for the lines in this transaction, from the market's preferred location first."""
    _allocate_many([(order, lines)])


def _allocate_many(orders: Sequence[tuple[Order, Sequence[OrderLine]]]) -> None:
    """Hold stock for several orders' lines in this transaction, order after order, exactly as
    allocating them one by one would: each order from its market's preferred location first.

    Every stock row the orders can touch is locked up front in primary-key order, so two
    transactions for the same variants never deadlock whatever locations they prefer. A
    shortfall is allocated as far as stock goes and recorded as an oversell issue; stock never
    goes negative (catalog's ledger refuses it, and its check constraints back that up).

    The locked rows are what the split is computed from (each preferred location, then every
    location in id order; what an order takes is gone for the next), and all the orders are
    posted to the ledger as one batch, so allocation costs the same few queries whatever the
    number of orders and lines.
    """
    wanted = [
        (order, [line for line in lines if line.variant_id and line.open_quantity > line.quantity_allocated])
        for order, lines in orders
    ]
    wanted = [(order, lines) for order, lines in wanted if lines]
    if not wanted:
        return
    levels = list(
        StockLevel.objects.select_for_update()
        .filter(variant_id__in={line.variant_id for _order, lines in wanted for line in lines})
        .order_by("pk")
    )
    by_variant: dict[int, list[StockLevel]] = {}
    for level in levels:
        by_variant.setdefault(level.variant_id, []).append(level)
    available = {level.pk: max(level.available, 0) for level in levels}
    preferences = _Preferences()
    movements: list[StockChange] = []
    allocations: list[Allocation] = []
    events: list[OrderEvent] = []
    short: list[tuple[Order, OrderLine]] = []
    for order, lines in wanted:
        preferred = preferences.for_order(order)
        reference = f"order:{order.pk}"
        for line in sorted(lines, key=lambda ln: (ln.variant_id, ln.pk)):
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
                Allocation(
                    shop_id=order.shop_id, line=line, location_id=location_id, quantity=quantity, allocated=quantity
                )
                for location_id, quantity in taken
            )
            line.quantity_allocated += sum(q for _loc, q in taken)
            line.quantity_short = remaining
            if taken:
                events.append(
                    _event(
                        order,
                        OrderEvent.Kind.ALLOCATED,
                        Words(gettext_noop("%(n)d x %(sku)s allocated"), n=sum(q for _l, q in taken), sku=line.sku),
                        line=line.pk,
                        locations=[[loc, q] for loc, q in taken],
                    )
                )
            if remaining:
                events.append(
                    _event(
                        order,
                        OrderEvent.Kind.OVERSOLD,
                        Words(gettext_noop("%(n)d x %(sku)s oversold: not in stock"), n=remaining, sku=line.sku),
                        line=line.pk,
                        shortfall=remaining,
                    )
                )
                short.append((order, line))
    if movements:
        # catalog's ledger re-checks every line against the rows locked above and refuses a
        # negative; the split computed here can only agree with it.
        stock_post_movements(movements=movements)
    Allocation.objects.bulk_create(allocations)
    OrderLine.objects.bulk_update(
        [line for _order, lines in wanted for line in lines], ["quantity_allocated", "quantity_short"]
    )
    OrderEvent.objects.bulk_create(events)
    for order, line in short:
        issue_raise(
            account=order.account_id,
            kind=IssueKind.OVERSELL,
            key=f"{order.external_id}:{line.channel_item_id or line.sku}",
            severity=Severity.ERROR,
            ours=Words(gettext_noop("%(n)d available"), n=line.quantity_allocated),
            theirs=Words(gettext_noop("%(n)d ordered"), n=line.open_quantity),
            detail=Words(
                gettext_noop("Order %(order)s sold %(n)d more of %(sku)s than was in stock."),
                order=order.external_id,
                n=line.quantity_short,
                sku=line.sku,
            ),
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
