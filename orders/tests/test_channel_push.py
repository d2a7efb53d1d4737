"""Status tables and normalising per adapter; fulfilments and cancellations back to the channel.

The sandbox has no fulfilment or cancellation endpoints yet, so these calls run against an
httpx MockTransport standing in for the channel (the adapters' own retrying client is real).
"""

import json
from decimal import Decimal

import httpx
import pytest

from channels.adapters.base import ORDER_LIFECYCLE
from channels.adapters.meta import ORDER_STATES, MetaAdapter
from channels.adapters.meta import ORDER_STATUS_LIFECYCLE as META_STATUS
from channels.adapters.tiktok_shop import ORDER_STATUS_LIFECYCLE as TIKTOK_STATUS
from channels.adapters.tiktok_shop import ORDER_STATUSES, TikTokShopAdapter
from channels.tests.factories import META_CREDENTIALS, TIKTOK_CREDENTIALS, make_account
from orders import services
from orders.models import Fulfillment, IssueKind, PushState, ReconciliationIssue
from orders.reconciliation import issue_act
from orders.services import cancellation_push, fulfillment_push, order_cancel, order_fulfill, order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.tenancy import shop_context


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


class Channel:
    """A stand-in channel: answers from a script and records what it was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        status, body = self.answers.pop(0) if self.answers else (200, {"success": True})
        return httpx.Response(status, json=body)


@pytest.fixture
def scripted(monkeypatch):
    channel = Channel()

    def adapter(account):
        from channels.adapters import ADAPTERS

        return ADAPTERS[account.channel](
            base_url="https://channel.test",
            credentials=dict(account.credentials),
            transport=httpx.MockTransport(channel),
            sleep=lambda s: None,
        )

    monkeypatch.setattr(services, "_adapter", adapter)
    return channel


def test_fulfilment_pushed_with_retries_and_a_refusal_becomes_a_repush_issue(shop_a, meta_account, scripted):
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("F-1", lines=(("TEE-M", 2, "5"),)))
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z1")
        scripted.answers = [(503, {}), (503, {}), (200, {"success": True})]
        assert fulfillment_push(fulfillment=fulfillment) == PushState.PUSHED
        assert len(scripted.requests) == 3  # two transient failures retried
        sent = json.loads(scripted.requests[-1].content)
        assert scripted.requests[-1].url.path == "/F-1/shipments"
        assert sent["tracking_info"] == {"carrier": "UPS", "tracking_number": "1Z1"}
        assert sent["items"] == [{"retailer_id": "TEE-M", "quantity": 2}] and sent["idempotency_key"]
        assert order.events.filter(kind="pushed").exists()

        second, _ = order_import(account=meta_account, data=channel_order("F-2", lines=(("TEE-M", 1, "5"),)))
        refused = order_fulfill(order=second, tracking_number="1Z2")
        scripted.answers = [(400, {"error": {"message": "Invalid tracking number", "code": 100}})]
        assert fulfillment_push(fulfillment=refused) == PushState.FAILED
        issue = ReconciliationIssue.objects.get(kind=IssueKind.PUSH_FAILED)
        assert issue.suggested_action == "repush" and "Invalid tracking" in issue.theirs
        scripted.answers = [(200, {"success": True})]
        issue_act(issue=issue, action="repush")
        assert Fulfillment.objects.get(pk=refused.pk).push_state == PushState.PUSHED
        issue.refresh_from_db()
        assert issue.status == "resolved"


def test_transient_failures_raise_for_the_task_until_the_last_attempt(shop_a, meta_account, scripted):
    from channels.adapters.base import TransientError

    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("F-3"))
        fulfillment = order_fulfill(order=order)
        scripted.answers = [(503, {})] * 10
        with pytest.raises(TransientError):
            fulfillment_push(fulfillment=fulfillment, final_attempt=False)
        assert Fulfillment.objects.get(pk=fulfillment.pk).push_state == PushState.PENDING
        scripted.answers = [(503, {})] * 10
        assert fulfillment_push(fulfillment=fulfillment, final_attempt=True) == PushState.FAILED


def test_cancellation_pushed_to_tiktok_and_not_supported_on_pinterest(shop_a, tiktok_account, scripted):
    stocked_variant(shop_a, on_hand=10)
    pinterest = make_account(shop_a, "pinterest")
    with shop_context(shop_a):
        order, _ = order_import(account=tiktok_account, data=channel_order("X-1"))
        cancellation = order_cancel(order=order, reason="out of stock")
        scripted.answers = [(200, {"code": 0, "message": "Success", "data": {}})]
        assert cancellation_push(cancellation=cancellation) == PushState.PUSHED
        request = scripted.requests[-1]
        assert request.url.path == "/return_refund/202309/cancellations"
        assert json.loads(request.content) == {"order_id": "X-1", "cancel_reason": "out of stock"}
        other, _ = order_import(account=pinterest, data=channel_order("P-1"))
        assert cancellation_push(cancellation=order_cancel(order=other)) == PushState.NOT_SUPPORTED


def test_push_task_retries_transient_failures_then_records_the_outcome(shop_a, meta_account, scripted):
    from orders.tasks import fulfillment_push_task

    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("T-1"))
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z5")
    scripted.answers = [(503, {})] * 5 + [(200, {"success": True})]
    # The HTTP client's own 5 attempts fail; the task retries (here eagerly) and succeeds.
    result = fulfillment_push_task.apply(args=(shop_a.pk, fulfillment.pk))
    assert result.get() == PushState.PUSHED
    with shop_context(shop_a):
        refreshed = Fulfillment.objects.get(pk=fulfillment.pk)
        assert refreshed.push_state == PushState.PUSHED and refreshed.push_attempts == 2
