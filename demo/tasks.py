"""The demo's beat task: the sandbox places an order every few seconds (scheduled by seed_demo)."""

from __future__ import annotations

import logging

import httpx
from django.conf import settings

from demo.story import ORDER_TASK, place_order
from shopadmin.tasks import tenant_task

logger = logging.getLogger(__name__)


# Registered under the name the beat entry names (demo.story.schedule_orders).
@tenant_task(name=ORDER_TASK, atomic=False)
def demo_place_order_task(shop_id: int) -> None:
    if not settings.SANDBOX_ENABLED:
        return
    try:
        place_order()
    except httpx.HTTPError as exc:
        # The web server is not up yet (or is stopping): the next tick tries again.
        logger.info("demo order not placed: %s", exc)
