"""A channel's reference data per account, cached in ChannelReference: TikTok Shop
warehouses, leaf categories, brands, shipping providers per delivery option, the category
recommended for a title, the URIs of images already uploaded, and the merchant's own
category mapping.

Reads fetch what is missing (or older than its kind's age) from the channel; `refresh`
re-reads on demand (the `channels.references_refresh` task). Adapters use it through
the cache adapter_for hands them (`uses_references`), or `attach(adapter, account)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from channels.models import ChannelAccount, ChannelReference

# How long a fetched list is trusted (by the part of the kind before ":"); kinds not listed
# (what we learnt or were told: images, recommendations, brand ids, the merchant's mapping)
# never expire.
MAX_AGE = {
    "warehouses": dt.timedelta(hours=6),
    "categories": dt.timedelta(days=7),
    "shipping_providers": dt.timedelta(days=1),
}
# `refresh` reads these lists again from the channel and drops what was learnt from earlier
# answers (brand ids, recommended categories, shipping providers); uploaded images stay.
LEARNT_PREFIXES = ("brand:", "category_recommendation:", "shipping_providers:")


def _max_age(kind: str) -> dt.timedelta | None:
    return MAX_AGE.get(kind.split(":", 1)[0])


class AccountReferences:
    """The reference data of one account, as the adapters read and write it."""

    def __init__(self, account: ChannelAccount):
        self.account = account

    def row(self, kind: str) -> ChannelReference | None:
        return ChannelReference.objects.filter(account=self.account, kind=kind).first()

    def get(self, kind: str, fetch: Callable[[], object], *, refresh: bool = False):
        row = self.row(kind)
        age = _max_age(kind)
        fresh = row is not None and (age is None or timezone.now() - row.fetched_at < age)
        if fresh and not refresh:
            return row.data
        data = fetch()
        self.put(kind, data)
        return data

    def put(self, kind: str, data) -> None:
        ChannelReference.objects.update_or_create(
            shop_id=self.account.shop_id,
            account=self.account,
            kind=kind,
            defaults={"data": data, "fetched_at": timezone.now()},
        )


def attach(adapter, account: ChannelAccount):
    """Let the adapter read and fill the account's cached reference data."""
    if hasattr(adapter, "references"):
        adapter.references = AccountReferences(account)
    return adapter


def read(account: ChannelAccount, kind: str):
    """The cached data of a kind, or None."""
    row = AccountReferences(account).row(kind)
    return row.data if row else None


def refresh(account: ChannelAccount, *, adapter=None) -> dict[str, int]:
    """Read the account's reference lists from the channel again; forget what was learnt
    from earlier answers (brand ids, recommended categories). Answers the size of each list."""
    from channels.adapters import adapter_for

    own = adapter is None
    adapter = attach(adapter or adapter_for(account), account)
    refs = adapter.references
    try:
        sizes = {
            "warehouses": len(refs.get("warehouses", adapter.fetch_warehouses, refresh=True)),
            "categories": len(refs.get("categories", adapter.fetch_categories, refresh=True)),
        }
        for prefix in LEARNT_PREFIXES:
            ChannelReference.objects.filter(account=account, kind__startswith=prefix).delete()
    finally:
        if own:
            adapter.close()
    return sizes


def set_category_mapping(account: ChannelAccount, mapping: dict[str, str]) -> dict[str, str]:
    """The merchant's mapping of our categories (Google product category ids) to the
    channel's leaf categories; checked against the cached leaf categories when there are any."""
    cleaned = {str(k): str(v) for k, v in mapping.items() if str(v).strip()}
    categories = read(account, "categories")
    if categories:
        leaves = {str(c.get("id")) for c in categories if c.get("is_leaf")}
        wrong = sorted(v for v in cleaned.values() if v not in leaves)
        if wrong:
            raise ValueError(f"Not TikTok leaf categories: {', '.join(wrong)}.")
    AccountReferences(account).put("category_mapping", cleaned)
    return cleaned
