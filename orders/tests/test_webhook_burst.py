"""A flash sale over real HTTP: signed TikTok Shop webhooks, some delivered twice, stored by the
receiver (one drain asked for, not one per event), then drained in batches by two workers at
once: every order imported once, every unit allocated once, and a bad event fails alone."""

from __future__ import annotations

import json
import random
import threading

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import StockLevel
from channels import tasks as channel_tasks
from channels.models import WebhookEvent
from channels.sandbox.models import SandboxAccount, SandboxOrder
from channels.sandbox.tiktok_shop import order_webhook
from channels.services import webhook_events_drain
from channels.tests.factories import TIKTOK_CREDENTIALS, make_account
from orders.models import Order, OrderLine
from orders.tests.conftest import stocked_variant, tiktok_sandbox
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)

KEY = TIKTOK_CREDENTIALS["app_key"]


@pytest.fixture
def drains_asked(monkeypatch):
    """The drain messages the receiver sends (the broker is not read in these tests)."""
    asked = []
    task = channel_tasks.webhook_event_process_task
    monkeypatch.setattr(task, "delay", lambda *args, **kwargs: asked.append((args, kwargs)))
    return asked


def _setup(live_server, shop, on_hand):
    stocked_variant(shop, sku="TEE-M", on_hand=on_hand)
    account = make_account(shop, "tiktok_shop", api_base_url=f"{live_server.url}/sandbox/tiktok")
    tiktok_sandbox(live_server, account)
    return account, SandboxAccount.objects.get(channel="tiktok_shop", key=KEY)


def _sandbox_orders(sandbox, count, *, total="49.90"):
    now = timezone.now()
    return SandboxOrder.objects.bulk_create(
        SandboxOrder(
            account=sandbox,
            order_id=f"57{i:012d}" if total == "49.90" else f"59{i:012d}",
            status="AWAITING_SHIPMENT",
            lines=[{"item_id": "TEE-M", "product_id": "", "quantity": 1, "price": "49.90"}],
            total=total,
            currency="USD",
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    )


def _deliver(live_server, account, deliveries):
    url = f"{live_server.url}/webhooks/tiktok_shop/{account.webhook_key}/"
    with httpx.Client(timeout=30) as client:
        for raw, headers in deliveries:
            response = client.post(url, content=raw, headers=headers)
            assert response.status_code == 200, response.text


def _drain_in_threads(shop, account, workers=2):
    errors = []

    def drain():
        try:
            with shop_context(shop), acting_as(Actor(door=Door.TASK, label="task channels.webhook_event_process")):
                webhook_events_drain(account=account)
        except Exception as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


def test_a_burst_with_redeliveries_imports_every_order_once(live_server, shop_a, drains_asked):
    account, sandbox = _setup(live_server, shop_a, on_hand=100)
    orders = _sandbox_orders(sandbox, 120)
    deliveries = [order_webhook(sandbox, order) for order in orders]
    rng = random.Random(7)
    schedule = deliveries + rng.sample(deliveries, k=12)  # a channel's redeliveries, byte for byte
    rng.shuffle(schedule)
    _deliver(live_server, account, schedule)
    # The first event asked for a drain; the others found it on its way.
    assert len(drains_asked) == 1
    _drain_in_threads(shop_a, account)
    with shop_context(shop_a):
        ids = list(Order.objects.values_list("external_id", flat=True))
        assert len(ids) == len(set(ids)) == 120
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
        assert WebhookEvent.objects.count() == 120
        level = StockLevel.objects.get(variant__sku="TEE-M")
        assert (level.on_hand, level.allocated) == (100, 100)
        assert sum(OrderLine.objects.values_list("quantity_short", flat=True)) == 20
    # Draining again finds nothing to do.
    with shop_context(shop_a):
        assert webhook_events_drain(account=account) == 0


def test_a_burst_is_drained_by_two_workers(live_server, shop_a, drains_asked):
    """The drain a receiver asked for finds a full batch and asks for one more drain, once; the
    drain it asked for does not ask again."""
    account, sandbox = _setup(live_server, shop_a, on_hand=200)
    _deliver(live_server, account, [order_webhook(sandbox, order) for order in _sandbox_orders(sandbox, 120)])
    assert len(drains_asked) == 1
    with shop_context(shop_a), acting_as(Actor(door=Door.TASK, label="task channels.webhook_event_process")):
        (_shop_id, event_id), _kwargs = drains_asked[0]
        assert channel_tasks.webhook_event_process_task.run(shop_a.pk, event_id) == 120
        assert len(drains_asked) == 2
        (_shop_id, _event_id), kwargs = drains_asked[1]
        assert kwargs == {"ask_for_help": False}
        # The helper comes late here: the work is done, and it asks nobody.
        assert channel_tasks.webhook_event_process_task.run(shop_a.pk, event_id, ask_for_help=False) == 0
        assert len(drains_asked) == 2
        assert Order.objects.count() == 120


def test_a_bad_event_fails_alone(live_server, shop_a, drains_asked):
    account, sandbox = _setup(live_server, shop_a, on_hand=10)
    good = _sandbox_orders(sandbox, 4)
    (bad_amount,) = _sandbox_orders(sandbox, 1, total="a lot")
    unknown = SandboxOrder(account=sandbox, order_id="570000009999", status="AWAITING_SHIPMENT")
    deliveries = [order_webhook(sandbox, order) for order in [good[0], bad_amount, good[1], unknown, *good[2:]]]
    _deliver(live_server, account, deliveries)
    _drain_in_threads(shop_a, account, workers=1)
    with shop_context(shop_a):
        assert sorted(Order.objects.values_list("external_id", flat=True)) == sorted(o.order_id for o in good)
        events = {json.loads(event.raw_body)["data"]["order_id"]: event for event in WebhookEvent.objects.all()}
        assert {events[o.order_id].status for o in good} == {WebhookEvent.Status.PROCESSED}
        failed_amount, failed_unknown = events[bad_amount.order_id], events[unknown.order_id]
        assert failed_amount.status == failed_unknown.status == WebhookEvent.Status.FAILED
        assert failed_amount.processed_at is None and "InvalidOperation" in failed_amount.error
        assert "does not list order 570000009999" in failed_unknown.error
