"""Signals through which higher apps (localization, channels, orders) react to catalog changes.

``catalog_changed`` is sent after the transaction commits, with shop_id, variant_ids (a
list) and what: "stock", "price" or "content". Receivers must not assume the request's
shop context; they get the shop id.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

catalog_changed = Signal()

STOCK, PRICE, CONTENT = "stock", "price", "content"


def send_on_commit(*, shop_id: int, variant_ids: Iterable[int], what: str) -> None:
    ids = sorted(set(variant_ids))
    if not ids:
        return
    transaction.on_commit(lambda: catalog_changed.send(sender="catalog", shop_id=shop_id, variant_ids=ids, what=what))
