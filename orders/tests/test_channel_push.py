"""Status tables and normalising per adapter; fulfilments and cancellations back to the channel.

Pushes go over real HTTP to the sandbox on the live server (Meta `POST /{order_id}/shipments`
and `/cancellations`, TikTok Shop's signed 202309 package and cancellation calls), which stores
what it receives; its fault knobs inject the 5xx and 429 answers the retries must ride out.
"""

from decimal import Decimal

import pytest
from django.utils import translation

from channels.adapters.base import ORDER_LIFECYCLE
from channels.adapters.meta import ORDER_STATES, MetaAdapter
from channels.adapters.meta import ORDER_STATUS_LIFECYCLE as META_STATUS
from channels.adapters.tiktok_shop import ORDER_STATUS_LIFECYCLE as TIKTOK_STATUS
from channels.adapters.tiktok_shop import ORDER_STATUSES, TikTokShopAdapter
from channels.sandbox.models import SandboxOrder
from channels.tests.factories import META_CREDENTIALS, TIKTOK_CREDENTIALS, make_account
from orders.models import Cancellation, Fulfillment, IssueKind, PushState, ReconciliationIssue
from orders.reconciliation import issue_act
from orders.services import pushes
from orders.services.ingest import order_import
from orders.services.lifecycle import order_cancel, order_fulfill
from orders.services.pushes import cancellation_push, fulfillment_push, order_acknowledge
from orders.sync import channel_order_fetch
from orders.tests.conftest import (
    channel_order,
    meta_sandbox,
    sandbox_list,
    sandbox_order,
    sandbox_setup,
    stocked_variant,
    tiktok_sandbox,
)
from shopadmin.tenancy import shop_context

META_KEY = META_CREDENTIALS["catalog_id"]
TIKTOK_KEY = TIKTOK_CREDENTIALS["app_key"]
live = pytest.mark.django_db(transaction=True)


def test_every_channel_status_maps_onto_our_lifecycle():
    assert set(META_STATUS) == set(ORDER_STATES)
    assert set(TIKTOK_STATUS) == set(ORDER_STATUSES)
    assert set(META_STATUS.values()) | set(TIKTOK_STATUS.values()) <= set(ORDER_LIFECYCLE)
    assert META_STATUS["CREATED"] == "awaiting_fulfillment" and META_STATUS["COMPLETED"] == "fulfilled"
    assert TIKTOK_STATUS["UNPAID"] == "pending" and TIKTOK_STATUS["CANCELLED"] == "cancelled"
    assert TIKTOK_STATUS["PARTIALLY_SHIPPING"] == "partially_fulfilled"


def test_normalisers_read_each_wire_format():
    meta = MetaAdapter(credentials=META_CREDENTIALS).normalize_order(
        {
            "id": "331",
            "order_status": {"state": "IN_PROGRESS"},
            "created": "2026-01-31T10:00:00+0000",
            "last_updated": "2026-01-31T10:05:00+00:00",
            "items": {
                "data": [
                    {"retailer_id": "TEE-M", "quantity": 2, "price_per_unit": {"amount": "9.99", "currency": "EUR"}}
                ]
            },
            "buyer_details": {"name": "Bea", "email": "bea@example.net"},
            "estimated_payment_details": {"total_amount": {"amount": "24.97", "currency": "EUR"}},
        }
    )
    assert (meta.external_id, meta.lifecycle, meta.currency, meta.total) == (
        "331",
        "awaiting_fulfillment",
        "EUR",
        Decimal("24.97"),
    )
    assert meta.lines[0].quantity == 2 and meta.lines[0].unit_price == Decimal("9.99")
    assert meta.placed_at.isoformat() == "2026-01-31T10:00:00+00:00" and meta.buyer_email == "bea@example.net"
    tiktok = TikTokShopAdapter(credentials=TIKTOK_CREDENTIALS).normalize_order(
        {
            "id": "5770",
            "status": "AWAITING_SHIPMENT",
            "create_time": 1767225600,
            "update_time": 1767225700,
            "line_items": [{"seller_sku": "TEE-M", "sale_price": "10.00", "currency": "GBP"}] * 3,
            "payment": {"total_amount": "34.90", "sub_total": "30.00", "shipping_fee": "4.90", "currency": "GBP"},
            "recipient_address": {"name": "Al", "phone_number": "+44 20 0000", "region_code": "GB"},
        }
    )
    assert (tiktok.lifecycle, tiktok.currency, tiktok.total, tiktok.shipping) == (
        "awaiting_fulfillment",
        "GBP",
        Decimal("34.90"),
        Decimal("4.90"),
    )
    assert [(ln.sku, ln.quantity) for ln in tiktok.lines] == [("TEE-M", 3)]
    assert tiktok.country == "GB" and int(tiktok.updated_at.timestamp()) == 1767225700


@pytest.fixture
def no_pauses(monkeypatch):
    """The adapters' real retrying client over HTTP, without sleeping through its backoff."""
    from channels.adapters import adapter_for

    monkeypatch.setattr(pushes, "_adapter", lambda account: adapter_for(account, sleep=lambda s: None))


def faults(live_server, channel, key, **knobs):
    sandbox_setup(live_server, channel, key, faults=knobs)


def placed_and_imported(live_server, shop, account, channel, key, items, acknowledge=True):
    """An order placed on the sandbox, read back through the adapter and imported."""
    placed = sandbox_order(live_server, channel, key, items)
    with shop_context(shop):
        from channels.adapters import adapter_for

        with adapter_for(account) as adapter:
            raw = channel_order_fetch(account, placed["order_id"], adapter=adapter)
            order, outcome = order_import(account=account, data=adapter.normalize_order(raw))
        # Meta takes shipments and cancellations of acknowledged orders only; TikTok needs none.
        if acknowledge:
            order_acknowledge(order=order)
    assert outcome == "created"
    return order


def received(order_id):
    return SandboxOrder.objects.get(order_id=order_id).received


@live
def test_fulfilment_pushed_to_meta_through_5xx_and_429_and_a_refusal_becomes_a_repush_issue(
    live_server, shop_a, no_pauses
):
    stocked_variant(shop_a, on_hand=10)
    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    order = placed_and_imported(live_server, shop_a, account, "meta", META_KEY, [{"item_id": "TEE-M", "quantity": 2}])
    with shop_context(shop_a):
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z1")
        faults(live_server, "meta", META_KEY, fail_next=1, rate_limit_next=1, retry_after=0)
        assert fulfillment_push(fulfillment=fulfillment) == PushState.PUSHED
        assert order.events.filter(kind="pushed").exists()
    [shipment] = received(order.external_id)
    assert shipment["kind"] == "shipment" and shipment["idempotency_key"] == f"fulfil-{shop_a.pk}-{fulfillment.pk}"
    assert shipment["body"]["tracking_info"] == {"carrier": "UPS", "tracking_number": "1Z1"}
    assert shipment["body"]["items"] == [{"retailer_id": "TEE-M", "quantity": 2}]
    assert SandboxOrder.objects.get(order_id=order.external_id).status == "COMPLETED"
    # The same push again (a retried task) ships nothing more: the idempotency key holds.
    with shop_context(shop_a):
        Fulfillment.objects.filter(pk=fulfillment.pk).update(push_state=PushState.PENDING)
        assert fulfillment_push(fulfillment=fulfillment) == PushState.PUSHED
    assert len(received(order.external_id)) == 1

    # An order Meta does not know: refused (not retried), recorded as a re-push issue.
    with shop_context(shop_a):
        unknown, _ = order_import(account=account, data=channel_order("990001", lines=(("TEE-M", 1, "5"),)))
        refused = order_fulfill(order=unknown, carrier="UPS", tracking_number="1Z2")
        assert fulfillment_push(fulfillment=refused) == PushState.FAILED
        issue = ReconciliationIssue.objects.get(kind=IssueKind.PUSH_FAILED)
        assert issue.suggested_action == "repush" and "does not exist" in issue.theirs
    # Once the channel has the order, the one-click re-push sends it and settles the issue.
    sandbox = SandboxOrder.objects.get(order_id=order.external_id)
    SandboxOrder.objects.create(
        account=sandbox.account,
        order_id="990001",
        status="IN_PROGRESS",
        lines=[dict(sandbox.lines[0], quantity=1)],
        total="49.90",
        currency="USD",
    )
    with shop_context(shop_a):
        issue_act(issue=issue, action="repush")
        assert Fulfillment.objects.get(pk=refused.pk).push_state == PushState.PUSHED
        issue.refresh_from_db()
        assert issue.status == "resolved"
    assert received("990001")[0]["body"]["tracking_info"]["tracking_number"] == "1Z2"


@live
def test_transient_failures_raise_for_the_task_until_the_last_attempt(live_server, shop_a, no_pauses):
    from channels.adapters.base import TransientError

    stocked_variant(shop_a, on_hand=10)
    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    order = placed_and_imported(live_server, shop_a, account, "meta", META_KEY, [{"item_id": "TEE-M", "quantity": 1}])
    with shop_context(shop_a):
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z3")
        faults(live_server, "meta", META_KEY, fail_next=10)
        with pytest.raises(TransientError):
            fulfillment_push(fulfillment=fulfillment, final_attempt=False)
        assert Fulfillment.objects.get(pk=fulfillment.pk).push_state == PushState.PENDING
        faults(live_server, "meta", META_KEY, fail_next=10)
        assert fulfillment_push(fulfillment=fulfillment, final_attempt=True) == PushState.FAILED
    assert received(order.external_id) == []


@live
def test_tiktok_shipment_and_cancellation_signed_through_the_sandbox(live_server, shop_a, no_pauses):
    stocked_variant(shop_a, on_hand=10)
    account = make_account(shop_a, "tiktok_shop", api_base_url=f"{live_server.url}/sandbox/tiktok")
    tiktok_sandbox(live_server, account)
    sandbox_list("tiktok_shop", TIKTOK_KEY, ["TEE-M"])
    shipped = placed_and_imported(
        live_server, shop_a, account, "tiktok_shop", TIKTOK_KEY, [{"item_id": "TEE-M", "quantity": 2}]
    )
    cancelled = placed_and_imported(
        live_server, shop_a, account, "tiktok_shop", TIKTOK_KEY, [{"item_id": "TEE-M", "quantity": 1}]
    )
    with shop_context(shop_a):
        assert shipped.lines.get().variant_id is not None  # the sandbox's order names our SKU
        fulfillment = order_fulfill(order=shipped, carrier="USPS", tracking_number="9400")
        faults(live_server, "tiktok_shop", TIKTOK_KEY, fail_next=1, rate_limit_next=1, retry_after=0)
        assert fulfillment_push(fulfillment=fulfillment) == PushState.PUSHED
        cancellation = order_cancel(order=cancelled, reason="out of stock")
        assert cancellation_push(cancellation=cancellation) == PushState.PUSHED
    [package] = received(shipped.external_id)
    # TikTok ships line items (one per unit, by id) with its own shipping provider id for "USPS".
    units = SandboxOrder.objects.get(order_id=shipped.external_id).details["line_items"]
    assert package["kind"] == "package" and package["body"] == {
        "order_line_item_ids": [u["id"] for u in units],
        "tracking_number": "9400",
        "shipping_provider_id": "6617675021119438849",
    }
    assert SandboxOrder.objects.get(order_id=shipped.external_id).status == "IN_TRANSIT"
    [cancel] = received(cancelled.external_id)
    assert cancel["body"] == {"order_id": cancelled.external_id, "cancel_reason": "seller_cancel_reason_out_of_stock"}
    assert SandboxOrder.objects.get(order_id=cancelled.external_id).status == "CANCELLED"


@live
def test_tiktok_sandbox_refuses_a_bad_signature_and_pinterest_has_no_cancellation(live_server, shop_a, no_pauses):
    stocked_variant(shop_a, on_hand=10)
    account = make_account(
        shop_a,
        "tiktok_shop",
        credentials={**TIKTOK_CREDENTIALS, "app_secret": "not-the-secret"},
        api_base_url=f"{live_server.url}/sandbox/tiktok",
    )
    tiktok_sandbox(live_server, account)
    pinterest = make_account(shop_a, "pinterest")
    with shop_context(shop_a):
        order, _ = order_import(account=account, data=channel_order("X-1"))
        cancellation = order_cancel(order=order, reason="out of stock")
        assert cancellation_push(cancellation=cancellation) == PushState.FAILED
        cancellation.refresh_from_db()
        assert "`sign` query parameter is invalid" in cancellation.push_error
        other, _ = order_import(account=pinterest, data=channel_order("P-1"))
        assert cancellation_push(cancellation=order_cancel(order=other)) == PushState.NOT_SUPPORTED


@live
def test_push_task_retries_transient_failures_then_records_the_outcome(live_server, shop_a, no_pauses):
    from orders.tasks import fulfillment_push_task

    stocked_variant(shop_a, on_hand=10)
    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    order = placed_and_imported(live_server, shop_a, account, "meta", META_KEY, [{"item_id": "TEE-M", "quantity": 1}])
    with shop_context(shop_a):
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z5")
    faults(live_server, "meta", META_KEY, fail_next=5)
    # The HTTP client's own 5 attempts meet 5xx; the task retries (here eagerly) and succeeds.
    result = fulfillment_push_task.apply(args=(shop_a.pk, fulfillment.pk))
    assert result.get() == PushState.PUSHED
    with shop_context(shop_a):
        refreshed = Fulfillment.objects.get(pk=fulfillment.pk)
        assert refreshed.push_state == PushState.PUSHED and refreshed.push_attempts == 2
    assert len(received(order.external_id)) == 1


def test_the_three_push_tasks_retry_one_way():
    from orders.tasks import (
        PUSH_RETRIES,
        PushTask,
        cancellation_push_task,
        fulfillment_push_task,
        order_acknowledge_task,
    )

    for task in (order_acknowledge_task, fulfillment_push_task, cancellation_push_task):
        assert isinstance(task, PushTask) and task.max_retries == PUSH_RETRIES
        assert not getattr(task, "autoretry_for", ())  # PushTask.push retries, not Celery on its own


@live
def test_cancellation_push_retries_counts_attempts_and_settles_its_issue(live_server, shop_a, no_pauses):
    from channels.adapters.base import TransientError
    from orders.tasks import cancellation_push_task

    stocked_variant(shop_a, on_hand=10)
    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    order = placed_and_imported(live_server, shop_a, account, "meta", META_KEY, [{"item_id": "TEE-M", "quantity": 1}])
    with shop_context(shop_a):
        cancellation = order_cancel(order=order, reason="out of stock")
        # A transient failure goes up for the task to retry; the cancellation still waits to be sent.
        faults(live_server, "meta", META_KEY, fail_next=10)
        with pytest.raises(TransientError):
            cancellation_push(cancellation=cancellation, final_attempt=False)
        waiting = Cancellation.objects.get(pk=cancellation.pk)
        assert waiting.push_state == PushState.PENDING and waiting.push_attempts == 1 and waiting.push_error
        # The final attempt records it as failed, with a re-push issue.
        faults(live_server, "meta", META_KEY, fail_next=10)
        assert cancellation_push(cancellation=cancellation, final_attempt=True) == PushState.FAILED
        issue = ReconciliationIssue.objects.get(kind=IssueKind.PUSH_FAILED, key=f"cancellation:{cancellation.pk}")
        assert issue.status == "open" and issue.suggested_action == "repush"
        # Our side is kept as a status, shown in the reader's language; so is the timeline entry.
        assert issue.data == {"ours": {"lifecycle": "cancelled"}}
        failed = cancellation.order.events.filter(kind="push_failed").latest("id")
        assert failed.data["words"]["msgid"] == "Cancellation not sent: %(e)s"
        with translation.override("fr"):
            assert failed.text.startswith("Annulation non transmise : ")
        assert order.events.filter(kind="push_failed").exists()
    assert received(order.external_id) == []

    # The HTTP client's own 5 attempts meet 5xx; the task retries (here eagerly) and gets through.
    faults(live_server, "meta", META_KEY, fail_next=5)
    result = cancellation_push_task.apply(args=(shop_a.pk, cancellation.pk))
    assert result.get() == PushState.PUSHED
    with shop_context(shop_a):
        sent = Cancellation.objects.get(pk=cancellation.pk)
        assert sent.push_state == PushState.PUSHED and sent.push_attempts == 4
        assert sent.push_error == "" and sent.pushed_at is not None
        issue.refresh_from_db()
        assert issue.status == "resolved" and issue.resolution_note == "Sent on a later attempt."
        assert order.events.filter(kind="pushed").exists()
    [cancel] = received(order.external_id)
    assert cancel["idempotency_key"] == f"cancel-{shop_a.pk}-{cancellation.pk}"


@live
def test_acknowledgement_retries_counts_attempts_and_settles_its_issue(live_server, shop_a, no_pauses):
    from orders.tasks import order_acknowledge_task

    account = make_account(shop_a, "meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    order = placed_and_imported(
        live_server, shop_a, account, "meta", META_KEY, [{"item_id": "TEE-M", "quantity": 1}], acknowledge=False
    )
    with shop_context(shop_a):
        faults(live_server, "meta", META_KEY, fail_next=10)
        assert not order_acknowledge(order=order, final_attempt=True)
        order.refresh_from_db()
        assert order.acknowledged_at is None and order.acknowledge_attempts == 1 and order.acknowledge_error
        issue = ReconciliationIssue.objects.get(kind=IssueKind.PUSH_FAILED, key=f"ack:{order.external_id}")
    faults(live_server, "meta", META_KEY, fail_next=5)
    assert order_acknowledge_task.apply(args=(shop_a.pk, order.pk)).get() is True
    with shop_context(shop_a):
        order.refresh_from_db()
        assert order.acknowledged_at is not None and order.acknowledge_attempts == 3 and order.acknowledge_error == ""
        issue.refresh_from_db()
        assert issue.status == "resolved"
