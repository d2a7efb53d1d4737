"""Celery entry points: take ids (the shop id first), set the context, call a service."""

from __future__ import annotations

import httpx
from celery import shared_task

from shopadmin.tasks import PlatformTask, tenant_task

ECB_FETCH_TASK = "localization.ecb_rates_fetch"
# A rate service that fails is asked again with growing pauses, for up to about a day.
RATE_FETCH_RETRIES = {
    "autoretry_for": (httpx.HTTPError,),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "max_retries": 6,
}


def _recompute_automatic_markets() -> None:
    """New shared rates: every shop with an automatic-rate market recomputes its prices."""
    from localization.models import Market

    shop_ids = set(Market.all_shops.filter(rate_mode="automatic", is_active=True).values_list("shop_id", flat=True))
    for shop_id in sorted(shop_ids):
        market_prices_recompute_task.delay(shop_id, None)


@shared_task(name=ECB_FETCH_TASK, base=PlatformTask, **RATE_FETCH_RETRIES)
def ecb_rates_fetch_task() -> dict:
    """Fetch the ECB daily reference rates; then recompute automatic-rate markets of every shop."""
    from localization.services import ecb_rates_fetch

    date, stored = ecb_rates_fetch()
    if stored:
        _recompute_automatic_markets()
    return {"date": date.isoformat(), "stored": stored}


@shared_task(name="localization.provider_rates_fetch", base=PlatformTask, **RATE_FETCH_RETRIES)
def provider_rates_fetch_task() -> dict:
    """Fetch the configured second rate source (nothing without one); then recompute the
    automatic-rate markets of every shop, as after the ECB's."""
    from localization.rate_providers import ProviderError
    from localization.services import provider_rates_fetch

    try:
        date, stored = provider_rates_fetch()
    except ProviderError as exc:  # a malformed answer is not retried: the next day's may be fine
        return {"error": str(exc)}
    if stored:
        _recompute_automatic_markets()
    return {"date": date.isoformat() if date else None, "stored": stored}


@tenant_task(name="localization.market_prices_recompute", atomic=False)
def market_prices_recompute_task(
    shop_id: int, market_ids: list[int] | None = None, variant_ids: list[int] | None = None, job_id: int | None = None
) -> dict:
    from localization.pricing import market_prices_recompute

    return market_prices_recompute(shop_id=shop_id, market_ids=market_ids, variant_ids=variant_ids, job_id=job_id)
