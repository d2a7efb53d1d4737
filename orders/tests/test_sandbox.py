"""Orders through each adapter from the sandbox over real HTTP: webhooks, polling, acknowledgement."""

import json
import time
import uuid

import httpx
import pytest

from channels.adapters.meta import MetaAdapter
from channels.adapters.tiktok_shop import webhook_signature
from channels.models import WebhookEvent
from channels.sandbox.control import control_headers
from channels.sandbox.models import SandboxOrder
from channels.services import webhook_event_process
from channels.tests.factories import META_CREDENTIALS, TIKTOK_CREDENTIALS, make_account
from orders.models import Lifecycle, Order, OrderSyncCursor
from orders.services.pushes import order_acknowledge
from orders.sync import orders_poll
from orders.tests.conftest import (
    level,
    meta_sandbox,
    sandbox_list,
    sandbox_order,
    stocked_variant,
    tiktok_sandbox,
)
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)
META_KEY = META_CREDENTIALS["catalog_id"]
TIKTOK_KEY = TIKTOK_CREDENTIALS["app_key"]


def process_events(shop):
    with shop_context(shop):
        events = list(WebhookEvent.objects.filter(processed_at=None).order_by("id"))
        for event in events:
            event = webhook_event_process(event=event)
            assert event.status == "processed", event.error
        return len(events)


def test_meta_webhook_import_acknowledge_and_redelivery(live_server, shop_a):
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    placed = sandbox_order(live_server, "meta", META_KEY, [{"item_id": "TEE-M", "quantity": 2}])
    assert placed["webhook"] == {"status": 200}
    assert process_events(shop_a) == 1
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.external_id == placed["order_id"]
        assert order.channel_status == "CREATED" and order.status == Lifecycle.AWAITING_FULFILLMENT
        assert order.total == 2 * order.lines.get().unit_price
        assert order.lines.get().variant_id == variant.pk
        assert order_acknowledge(order=order)
        order.refresh_from_db()
        assert order.acknowledged_at is not None
    sandbox = SandboxOrder.objects.get(order_id=placed["order_id"])
    assert sandbox.status == "IN_PROGRESS" and sandbox.merchant_order_reference == f"SA-{order.pk}"
    assert level(shop_a, variant) == (10, 2)

    # The channel delivers the same webhook five more times: stored once, imported once.
    body = {
        "object": "page",
        "entry": [
            {
                "id": "x",
                "time": int(time.time()),
                "changes": [
                    {"field": "commerce_orders", "value": {"order_id": placed["order_id"], "event": "ORDER_CREATED"}}
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    signature = MetaAdapter(credentials=META_CREDENTIALS).signature(raw)
    url = f"{live_server.url}/webhooks/meta/{account.webhook_key}/"
    for _ in range(5):
        response = httpx.post(
            url, content=raw, headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        )
        assert response.status_code == 200
    assert process_events(shop_a) == 1
    with shop_context(shop_a):
        assert Order.objects.count() == 1
        # Acknowledged already: the status moved to IN_PROGRESS, which is the same lifecycle.
        assert Order.objects.get().status == Lifecycle.AWAITING_FULFILLMENT
    assert level(shop_a, variant) == (10, 2)
    bad = httpx.post(url, content=raw, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert bad.status_code == 401


def tiktok_notify(live_server, account, order_id, status="AWAITING_SHIPMENT"):
    body = {
        "type": 1,
        "tts_notification_id": uuid.uuid4().hex,
        "shop_id": TIKTOK_CREDENTIALS["shop_cipher"],
        "timestamp": int(time.time()),
        "data": {"order_id": order_id, "order_status": status},
    }
    raw = json.dumps(body).encode()
    signature = webhook_signature(app_key=TIKTOK_KEY, app_secret=TIKTOK_CREDENTIALS["app_secret"], raw_body=raw)
    response = httpx.post(
        f"{live_server.url}/webhooks/tiktok_shop/{account.webhook_key}/",
        content=raw,
        headers={"Authorization": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def test_tiktok_webhook_five_notifications_of_one_order_make_one_order(live_server, shop_a):
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = make_account(shop_a, "tiktok_shop", api_base_url=f"{live_server.url}/sandbox/tiktok")
    tiktok_sandbox(live_server, account)
    sandbox_list("tiktok_shop", TIKTOK_KEY, ["TEE-M"])
    placed = sandbox_order(live_server, "tiktok_shop", TIKTOK_KEY, [{"item_id": "TEE-M", "quantity": 3}])
    for _ in range(5):
        tiktok_notify(live_server, account, placed["order_id"])
    assert process_events(shop_a) == 6
    with shop_context(shop_a):
        order = Order.objects.get()
        line = order.lines.get()
        # TikTok lists one line item per unit; they are summed back into one line of 3.
        assert (line.quantity, line.quantity_allocated) == (3, 3)
        assert order.events.filter(kind="received").count() == 1
    assert level(shop_a, variant) == (10, 3)


def test_tiktok_polling_with_cursor_overlap_and_a_cancellation(live_server, shop_a):
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = make_account(shop_a, "tiktok_shop", api_base_url=f"{live_server.url}/sandbox/tiktok")
    tiktok_sandbox(live_server, account)
    httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{TIKTOK_KEY}/",
        headers=control_headers(),
        json={"webhook_url": ""},
    )
    sandbox_list("tiktok_shop", TIKTOK_KEY, ["TEE-M"])
    ids = [
        sandbox_order(live_server, "tiktok_shop", TIKTOK_KEY, [{"item_id": "TEE-M", "quantity": 1}])["order_id"]
        for _ in range(3)
    ]
    with shop_context(shop_a):
        assert orders_poll(account=account) == {"created": 3}
        cursor = OrderSyncCursor.objects.get(account=account)
        assert cursor.updated_since and cursor.last_error == ""
        # The next poll overlaps the last one: nothing is imported twice.
        assert orders_poll(account=account) == {"unchanged": 3}
    assert level(shop_a, variant) == (10, 3)
    from django.utils import timezone

    SandboxOrder.objects.filter(order_id=ids[0]).update(
        status="CANCELLED", updated_at=timezone.now() + timezone.timedelta(seconds=2)
    )
    with shop_context(shop_a):
        outcome = orders_poll(account=account)
        assert outcome.get("updated") == 1
        assert Order.objects.get(external_id=ids[0]).status == Lifecycle.CANCELLED
        assert Order.objects.count() == 3
    assert level(shop_a, variant) == (10, 2)


def test_meta_polling_sees_every_state(live_server, shop_a):
    stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    httpx.post(
        f"{live_server.url}/sandbox/_control/meta/{META_KEY}/", headers=control_headers(), json={"webhook_url": ""}
    )
    sandbox_list("meta", META_KEY, ["TEE-M"])
    placed = [sandbox_order(live_server, "meta", META_KEY, [{"item_id": "TEE-M"}])["order_id"] for _ in range(2)]
    SandboxOrder.objects.filter(order_id=placed[1]).update(status="COMPLETED")
    with shop_context(shop_a):
        assert orders_poll(account=account) == {"created": 2}
        assert Order.objects.get(external_id=placed[1]).status == Lifecycle.FULFILLED
        assert Order.objects.get(external_id=placed[0]).status == Lifecycle.AWAITING_FULFILLMENT
