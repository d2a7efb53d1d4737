"""A worker killed (SIGKILL) in the middle of importing an order loses nothing: the task is
acknowledged late, so the broker hands it to another worker, which finishes the import."""

import threading
import time

import httpx
import pytest

from channels.models import WebhookEvent
from channels.sandbox import faults
from channels.sandbox.control import control_headers
from channels.tests.factories import TIKTOK_CREDENTIALS, make_account
from orders.models import Order
from orders.tests.conftest import level, sandbox_list, sandbox_order, stocked_variant, tiktok_sandbox
from shopadmin.celery import app
from shopadmin.tenancy import shop_context
from shopadmin.testing.worker import wait_for

KEY = TIKTOK_CREDENTIALS["app_key"]


def restore_unacknowledged(after: float) -> None:
    """What Redis does for a dead consumer once the visibility timeout passes (an hour by
    default in production): put its unacknowledged messages back on the queue."""
    time.sleep(after + 0.5)
    with app.connection_for_write(transport_options={"visibility_timeout": after}) as conn:
        conn.default_channel.qos.restore_visible()


def slow_fault_event(monkeypatch) -> threading.Event:
    """Set when the sandbox (the live server, in this process) starts holding a call. Its
    request counter cannot tell: the count commits with the call's response."""
    event = threading.Event()
    pick = faults._pick

    def picking(account):
        kind = pick(account)
        if kind == "slow":
            event.set()
        return kind

    monkeypatch.setattr(faults, "_pick", picking)
    return event


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_import_another_worker_finishes(live_server, shop_a, start_worker, monkeypatch):
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = make_account(shop_a, "tiktok_shop", api_base_url=f"{live_server.url}/sandbox/tiktok")
    tiktok_sandbox(live_server, account)
    sandbox_list("tiktok_shop", KEY, ["TEE-M"])
    first = start_worker("w1")
    holding = slow_fault_event(monkeypatch)
    # The worker's first call to the channel (the order detail) hangs: it dies inside the import.
    httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{KEY}/",
        headers=control_headers(),
        json={"faults": {"slow_next": 1, "slow_seconds": 3}},
    )
    placed = sandbox_order(live_server, "tiktok_shop", KEY, [{"item_id": "TEE-M", "quantity": 2}])
    wait_for(
        lambda: any("webhook_event_process" in line and "received" in line for line in first.lines),
        timeout=60,
        message="the worker never received the import",
    )
    # Once the sandbox starts holding the call, the worker is inside the import, waiting on the channel.
    assert holding.wait(60), "the worker never called the channel"
    first.kill()
    with shop_context(shop_a):
        assert not Order.objects.exists()
        assert WebhookEvent.objects.get().processed_at is None
    start_worker("w2")
    restore_unacknowledged(after=1)

    def imported():
        with shop_context(shop_a):
            return (
                Order.objects.filter(external_id=placed["order_id"]).exists()
                and WebhookEvent.objects.get().processed_at
            )

    wait_for(imported, timeout=60, interval=0.2, message="the import was lost with the worker")
    with shop_context(shop_a):
        assert Order.objects.count() == 1
        assert Order.objects.get().lines.get().quantity_allocated == 2
    assert level(shop_a, variant) == (10, 2)
