"""Signals through which higher apps (channels) react to localization without being imported by it.

Both are sent by localization's own services after the transaction commits, with sender
"localization" and keyword arguments only. Receivers get the shop id, not the shop context:
they set it themselves.

``market_saved``: `services.market_create` or `services.market_update` (or a staff edit in the
admin) saved a market. Arguments: shop_id, market_id, created (True for a new market).

``market_prices_stored``: `pricing.market_prices_recompute` finished storing market prices
(after a price, rate, market or tax change), also when it had nothing to store. Arguments:
shop_id, market_ids (the active markets it went through, those without a rate too) and
variant_ids (a list, or None for every variant).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

SENDER = "localization"

market_saved = Signal()
market_prices_stored = Signal()


def market_saved_send_on_commit(*, shop_id: int, market_id: int, created: bool) -> None:
    transaction.on_commit(
        lambda: market_saved.send(sender=SENDER, shop_id=shop_id, market_id=market_id, created=created)
    )


def market_prices_stored_send_on_commit(
    *, shop_id: int, market_ids: Iterable[int], variant_ids: Iterable[int] | None
) -> None:
    market_ids = sorted(market_ids)
    variant_ids = list(variant_ids) if variant_ids is not None else None
    transaction.on_commit(
        lambda: market_prices_stored.send(
            sender=SENDER, shop_id=shop_id, market_ids=market_ids, variant_ids=variant_ids
        )
    )
