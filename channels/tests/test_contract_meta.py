"""Meta's Graph API (Commerce Platform) as its primary sources describe it, against the sandbox
over real HTTP: for each endpoint a request the sources show accepted and the refusals they
imply; then the adapter's flows end to end against that strict sandbox.

Sources (see docs/channels.md, "Meta (Graph API, Commerce Platform)"):
facebook/facebook-python-business-sdk (adobjects/commerceorder.py, commercemerchantsettings.py,
productitem.py, productcatalog.py, apiconfig.py) and facebookincubator/facebook-for-woocommerce
(includes/API/Orders/*, includes/Commerce/Orders.php, includes/Utilities/Shipment.php).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from channels.adapters.base import AdapterError, ChannelItem
from channels.adapters.meta import (
    ORDER_FIELDS,
    QUANTITY_FIELD,
    MetaAdapter,
    appsecret_proof,
    cancel_reason_code,
    carrier_code,
)
from channels.sandbox.models import SandboxAccount, SandboxItem, SandboxOrder
from channels.tests.factories import META_CREDENTIALS, make_account
from orders.models import Fulfillment, Lifecycle, Order, PushState
from orders.services.ingest import order_import
from orders.services.lifecycle import order_cancel, order_fulfill
from orders.services.pushes import cancellation_push, fulfillment_push, order_acknowledge
from orders.tests.conftest import channel_order, level, sandbox_list, sandbox_order, sandbox_setup, stocked_variant
from shopadmin.tenancy import shop_context

KEY = META_CREDENTIALS["catalog_id"]
CMS = META_CREDENTIALS["commerce_account_id"]
live = pytest.mark.django_db(transaction=True)


# --- Helpers -------------------------------------------------------------------------------------


def setup_sandbox(live_server, **extra):
    return sandbox_setup(
        live_server,
        "meta",
        KEY,
        secret=META_CREDENTIALS["app_secret"],
        access_token=META_CREDENTIALS["access_token"],
        commerce_account_id=CMS,
        webhook_url="",
        faults={},
        **extra,
    )


def graph(live_server, method: str, path: str, **kwargs) -> httpx.Response:
    """A Graph API call to the sandbox, authorised as the adapter does it: the token and its
    appsecret_proof (the sandbox app requires one on every call)."""
    token = META_CREDENTIALS["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    params = {**kwargs.pop("params", {}), "appsecret_proof": appsecret_proof(META_CREDENTIALS["app_secret"], token)}
    return httpx.request(
        method, f"{live_server.url}/sandbox/meta{path}", headers=headers, params=params, timeout=10, **kwargs
    )


def graph_error(response: httpx.Response, code: int = 100) -> dict:
    """Meta's error shape: {"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id"}}."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["type"] == "OAuthException" and error["fbtrace_id"]
    assert set(error) <= {"message", "type", "code", "error_subcode", "fbtrace_id"}
    return error


def place(live_server, items=(("TEE-M", 2),), status: str | None = None) -> str:
    placed = sandbox_order(live_server, "meta", KEY, [{"item_id": i, "quantity": q} for i, q in items])
    if status:
        SandboxOrder.objects.filter(order_id=placed["order_id"]).update(status=status)
    return placed["order_id"]


def acknowledge(live_server, order_id: str, key: str = "ack-1") -> httpx.Response:
    return graph(
        live_server,
        "POST",
        f"/{order_id}/acknowledge_order",
        json={"merchant_order_reference": "SA-1", "idempotency_key": key},
    )


def ship(live_server, order_id: str, items, carrier="FEDEX", key="ship-1", **extra) -> httpx.Response:
    body = {
        "items": items,
        "tracking_info": {"carrier": carrier, "tracking_number": "7749", **extra.pop("tracking", {})},
        "idempotency_key": key,
        **extra,
    }
    return graph(live_server, "POST", f"/{order_id}/shipments", json=body)


def product(n: int, **overrides) -> ChannelItem:
    values = {
        "id": f"SKU-{n}",
        "title": f"Linen shirt {n}",
        "description": "A shirt of washed linen.",
        "link": f"https://alice.example.com/p/{n}",
        "image_link": f"https://alice.example.com/i/{n}.jpg",
        "price": Decimal("49.90"),
        "currency": "USD",
        "brand": "Alice",
        "quantity": 5,
    }
    values.update(overrides)
    return ChannelItem(**values)


@pytest.fixture
def meta(live_server):
    setup_sandbox(live_server)
    adapter = MetaAdapter(
        base_url=f"{live_server.url}/sandbox/meta", credentials=META_CREDENTIALS, sleep=lambda s: None, timeout=5
    )
    yield adapter
    adapter.close()


# --- Pure functions ------------------------------------------------------------------------------


def test_carrier_names_map_to_meta_codes_and_unknown_ones_do_not():
    assert carrier_code("UPS") == "UPS"
    assert carrier_code("fedex") == carrier_code("Fed Ex") == carrier_code("FEDEX") == "FEDEX"
    assert carrier_code("  royal   mail ") == "ROYAL_MAIL"
    assert carrier_code("Canada Post") == "CANADA_POST"
    assert carrier_code("DHL eCommerce US") == "DHL_ECOMMERCE_US"
    assert carrier_code("NZ Post") == "NEW_ZEALAND_POST"  # another usual name
    assert carrier_code("other") == "OTHER"
    assert carrier_code("Bob's Couriers") is None and carrier_code("") is None


def test_cancel_reasons_map_to_meta_reason_codes():
    assert cancel_reason_code("OUT_OF_STOCK") == "OUT_OF_STOCK"
    assert cancel_reason_code("Ran out of stock") == "OUT_OF_STOCK"
    assert cancel_reason_code("The customer asked") == "CUSTOMER_REQUESTED"
    assert cancel_reason_code("Looks like fraud") == "SUSPICIOUS_ORDER"
    assert cancel_reason_code("") == cancel_reason_code("Cancelled by the merchant") == "CANCEL_REASON_OTHER"


def test_the_stock_field_is_quantity_to_sell_on_facebook():
    adapter = MetaAdapter(credentials=META_CREDENTIALS)
    payload = adapter.build_payload(product(1, quantity=7))
    assert payload[QUANTITY_FIELD] == 7 and QUANTITY_FIELD == "quantity_to_sell_on_facebook"
    assert "quantity_to_sell_on_fb" not in payload and QUANTITY_FIELD in adapter.feed_columns
    assert adapter.payload_quantity(payload) == 7
    assert adapter.payload_quantity({"quantity_to_sell_on_fb": 3}) == 3  # accepted under the old name


def test_a_webhook_delivery_names_every_order_of_every_change():
    body = {
        "object": "page",
        "entry": [
            {
                "id": "1",
                "time": 1,
                "changes": [{"field": "commerce_orders", "value": {"order_id": "11", "event": "X"}}],
            },
            {
                "id": "1",
                "time": 2,
                "changes": [
                    {"field": "commerce_orders", "value": {"order_id": "22", "event": "X"}},
                    {"field": "feed", "value": {"item": "post"}},
                    {"field": "commerce_orders", "value": {"order_id": "11", "event": "Y"}},
                ],
            },
        ],
    }
    parsed = MetaAdapter(credentials=META_CREDENTIALS).parse_webhook(json.dumps(body).encode())
    assert parsed.is_order and parsed.order_ids == ["11", "22"] and parsed.order_id == "11"


def test_normalize_reads_cancellations_and_refunds():
    adapter = MetaAdapter(credentials=META_CREDENTIALS)
    raw = {
        "id": "77",
        "order_status": {"state": "COMPLETED"},
        "items": {
            "data": [
                {"retailer_id": "A", "quantity": 2, "price_per_unit": {"amount": "10.00", "currency": "EUR"}},
                {"retailer_id": "B", "quantity": 1, "price_per_unit": {"amount": "5.00", "currency": "EUR"}},
            ]
        },
        "cancellations": {"data": [{"id": "c1", "items": {"data": [{"retailer_id": "A", "quantity": 1}]}}]},
        "refunds": {"data": [{"id": "r1", "items": {"data": [{"retailer_id": "B", "item_refund_quantity": 1}]}}]},
    }
    order = adapter.normalize_order(raw)
    assert [(ln.quantity_cancelled, ln.quantity_refunded) for ln in order.lines] == [(1, 0), (0, 1)]
    assert order.lifecycle == "partially_refunded" and order.currency == "EUR"
    everything = {**raw, "refunds": {"data": []}, "cancellations": {"data": [{"id": "c2"}]}}
    assert adapter.normalize_order(everything).lifecycle == "cancelled"  # no items: the whole order


# --- Contract: catalog batches ---------------------------------------------------------------------


@live
def test_items_batch_accepts_the_sdk_words_and_refuses_what_meta_refuses(live_server, meta):
    good = {
        "id": "SKU-1",
        "title": "Linen shirt",
        "description": "A shirt of washed linen.",
        "availability": "in stock",
        "condition": "used_like_new",  # ProductItem.Condition
        "price": "49.90 USD",
        "link": "https://alice.example.com/p/1",
        "image_link": "https://alice.example.com/i/1.jpg",
        "brand": "Alice",
        "quantity_to_sell_on_facebook": 4,
        "visibility": "published",
    }
    bad = [
        {**good, "id": "SKU-2", "quantity_to_sell_on_fb": 4},  # not a Meta field
        {**good, "id": "SKU-3", "availability": "in_stock"},  # Google's spelling, not Meta's
        {**good, "id": "SKU-4", QUANTITY_FIELD: -1},
        {**good, "id": "SKU-5", "condition": "mint"},
    ]
    requests = [{"method": "UPDATE", "data": d} for d in [good, *bad]]
    response = graph(
        live_server, "POST", f"/{KEY}/items_batch", json={"item_type": "PRODUCT_ITEM", "requests": requests}
    )
    assert response.status_code == 200 and response.json()["handles"]
    handle = response.json()["handles"][0]
    status = graph(live_server, "GET", f"/{KEY}/check_batch_request_status", params={"handle": handle}).json()
    errors = {(e["id"], e["field"]) for e in status["data"][0]["errors"]}
    assert errors == {
        ("SKU-2", "quantity_to_sell_on_fb"),
        ("SKU-3", "availability"),
        ("SKU-4", QUANTITY_FIELD),
        ("SKU-5", "condition"),
    }
    assert set(SandboxItem.objects.filter(active=True).values_list("item_id", flat=True)) == {"SKU-1"}

    for body, words in (
        ({"item_type": "PRODUCT", "requests": requests}, "item_type"),
        ({"item_type": "PRODUCT_ITEM", "requests": []}, "requests"),
        ({"item_type": "PRODUCT_ITEM", "requests": [{"method": "UPSERT", "data": good}]}, "method"),
    ):
        assert words in graph_error(graph(live_server, "POST", f"/{KEY}/items_batch", json=body))["message"]


@live
def test_localized_items_batch_accepts_a_country_override_and_refuses_a_price_per_language(live_server, meta):
    meta.batch_status(meta.publish_batch([product(1)]), sent_ids=["SKU-1"])
    requests = [
        {
            "method": "CREATE",
            "localization": {"type": "COUNTRY", "value": "CA"},
            "data": {"id": "SKU-1", "price": "59.90 CAD"},
        },
        {
            "method": "CREATE",
            "localization": {"type": "LANGUAGE", "value": "fr_XX"},
            "data": {"id": "SKU-1", "price": "59.90 CAD"},
        },
    ]
    response = graph(
        live_server, "POST", f"/{KEY}/localized_items_batch", json={"item_type": "PRODUCT_ITEM", "requests": requests}
    )
    handle = response.json()["handles"][0]
    status = graph(live_server, "GET", f"/{KEY}/check_batch_request_status", params={"handle": handle}).json()
    assert [(e["line"], e["field"]) for e in status["data"][0]["errors"]] == [(1, "price")]
    no_type = [{"method": "CREATE", "localization": {"value": "CA"}, "data": {"id": "SKU-1"}}]
    graph_error(
        graph(
            live_server,
            "POST",
            f"/{KEY}/localized_items_batch",
            json={"item_type": "PRODUCT_ITEM", "requests": no_type},
        )
    )


# --- Contract: reading orders ----------------------------------------------------------------------


@live
def test_commerce_orders_returns_only_the_fields_asked_for(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M"])
    order_id = place(live_server)
    bare = graph(live_server, "GET", f"/{CMS}/commerce_orders", params={"state": "CREATED"}).json()
    assert set(bare["data"][0]) == {"id", "order_status", "created", "last_updated"}  # the default fields
    full = graph(
        live_server, "GET", f"/{CMS}/commerce_orders", params={"state": "CREATED,FB_PROCESSING", "fields": ORDER_FIELDS}
    ).json()
    [order] = full["data"]
    assert order["id"] == order_id and order["channel"] == "facebook"
    assert order["estimated_payment_details"]["total_amount"] == {"amount": "99.80", "currency": "USD"}
    assert order["items"]["data"][0]["retailer_id"] == "TEE-M" and order["items"]["data"][0]["quantity"] == 2
    assert set(order["items"]["data"][0]) == {
        "id",
        "retailer_id",
        "product_id",
        "quantity",
        "price_per_unit",
        "tax_details",
    }
    assert order["selected_shipping_option"]["price"]["currency"] == "USD"
    assert order["buyer_details"]["email"] and order["shipping_address"]["country"] == "US"
    assert order["cancellations"] == {"data": []} and order["refunds"] == {"data": []}
    few = graph(
        live_server, "GET", f"/{CMS}/commerce_orders", params={"state": "CREATED", "fields": "id,items{quantity}"}
    )
    assert few.json()["data"] == [{"id": order_id, "items": {"data": [{"quantity": 2}]}}]


@live
def test_commerce_orders_refuses_unknown_fields_states_and_filters(live_server, meta):
    error = graph_error(graph(live_server, "GET", f"/{CMS}/commerce_orders", params={"fields": "id,total"}))
    assert error["message"] == "(#100) Tried accessing nonexisting field (total) on node type (CommerceOrder)"
    nested = graph_error(graph(live_server, "GET", f"/{CMS}/commerce_orders", params={"fields": "items{name}"}))
    assert "(name)" in nested["message"]
    assert (
        "state"
        in graph_error(graph(live_server, "GET", f"/{CMS}/commerce_orders", params={"state": "PAID"}))["message"]
    )
    assert (
        "filters"
        in graph_error(graph(live_server, "GET", f"/{CMS}/commerce_orders", params={"filters": "has_returns"}))[
            "message"
        ]
    )
    wrong_token = httpx.get(
        f"{live_server.url}/sandbox/meta/{CMS}/commerce_orders", headers={"Authorization": "Bearer nope"}
    )
    assert wrong_token.status_code == 401 and wrong_token.json()["error"]["code"] == 190


@live
def test_filters_state_and_updated_after(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M"])
    plain, cancelled = place(live_server, status="IN_PROGRESS"), place(live_server, status="IN_PROGRESS")
    response = graph(
        live_server,
        "POST",
        f"/{cancelled}/cancellations",
        json={"cancel_reason": {"reason_code": "OUT_OF_STOCK"}, "idempotency_key": "c-1"},
    )
    assert response.json() == {"success": True}
    listed = graph(
        live_server,
        "GET",
        f"/{CMS}/commerce_orders",
        params={"state": "COMPLETED", "filters": "has_cancellations", "fields": "id,cancellations{cancel_reason}"},
    ).json()["data"]
    assert [o["id"] for o in listed] == [cancelled]
    assert listed[0]["cancellations"]["data"][0]["cancel_reason"]["reason_code"] == "OUT_OF_STOCK"
    none = graph(
        live_server, "GET", f"/{CMS}/commerce_orders", params={"state": "IN_PROGRESS", "filters": "HAS_REFUNDS"}
    )
    assert none.json()["data"] == []
    later = int(time.time()) + 60
    SandboxOrder.objects.filter(order_id=plain).update(updated_at=timezone.now() + dt.timedelta(minutes=5))
    changed = graph(
        live_server,
        "GET",
        f"/{CMS}/commerce_orders",
        params={"state": "IN_PROGRESS,COMPLETED", "updated_after": str(later)},
    )
    assert [o["id"] for o in changed.json()["data"]] == [plain]


@live
def test_single_order_read_answers_the_named_fields_or_refuses(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M"])
    order_id = place(live_server)
    assert set(graph(live_server, "GET", f"/{order_id}").json()) == {"id", "order_status", "created", "last_updated"}
    named = graph(live_server, "GET", f"/{order_id}", params={"fields": "id,buyer_details,items{retailer_id}"}).json()
    assert set(named) == {"id", "buyer_details", "items"} and named["items"]["data"] == [{"retailer_id": "TEE-M"}]
    error = graph_error(graph(live_server, "GET", f"/{order_id}", params={"fields": "order_total"}))
    assert "nonexisting field (order_total)" in error["message"]
    unknown = graph_error(graph(live_server, "GET", "/404040404", params={"fields": "id"}))
    assert unknown["error_subcode"] == 33
    edge = graph(live_server, "GET", f"/{order_id}/items", params={"fields": "retailer_id,quantity"}).json()
    assert edge == {"data": [{"retailer_id": "TEE-M", "quantity": 2}]}


# --- Contract: acting on orders --------------------------------------------------------------------


@live
def test_acknowledge_order_takes_created_orders_only(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M"])
    created, waiting = place(live_server), place(live_server, status="FB_PROCESSING")
    first = acknowledge(live_server, created)
    assert first.json() == {"id": created, "state": "IN_PROGRESS", "success": True}
    assert acknowledge(live_server, created).json()["success"]  # the same key again: answered the same
    assert "CREATED" in graph_error(acknowledge(live_server, created, key="ack-2"))["message"]
    assert "FB_PROCESSING" in graph_error(acknowledge(live_server, waiting))["message"]
    assert SandboxOrder.objects.get(order_id=waiting).status == "FB_PROCESSING"
    no_key = graph(live_server, "POST", f"/{created}/acknowledge_order", json={"merchant_order_reference": "x"})
    assert "idempotency_key" in graph_error(no_key)["message"]


@live
def test_shipments_take_carrier_codes_and_unshipped_items_of_acknowledged_orders(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M", "TEE-L"])
    order_id = place(live_server, items=(("TEE-M", 2), ("TEE-L", 1)))
    assert (
        "IN_PROGRESS" in graph_error(ship(live_server, order_id, [{"retailer_id": "TEE-M", "quantity": 1}]))["message"]
    )
    acknowledge(live_server, order_id)
    accepted = ship(
        live_server,
        order_id,
        [{"retailer_id": "TEE-M", "quantity": 1}],
        tracking={"shipping_method_name": "Ground"},
    )
    assert accepted.json() == {"success": True}
    refusals = {
        "carrier": ship(live_server, order_id, [{"retailer_id": "TEE-M", "quantity": 1}], carrier="FedEx", key="k2"),
        "part of this order": ship(live_server, order_id, [{"retailer_id": "HAT", "quantity": 1}], key="k3"),
        "only 1 left": ship(live_server, order_id, [{"retailer_id": "TEE-M", "quantity": 2}], key="k4"),
        "not both": ship(live_server, order_id, [{"retailer_id": "TEE-M", "item_id": "1", "quantity": 1}], key="k5"),
        "not a valid parameter": ship(
            live_server, order_id, [{"retailer_id": "TEE-M", "quantity": 1}], key="k6", tracking_url="https://x"
        ),
        "tracking_info[label]": ship(
            live_server, order_id, [{"retailer_id": "TEE-M", "quantity": 1}], key="k7", tracking={"label": "x"}
        ),
    }
    for words, response in refusals.items():
        assert words in graph_error(response)["message"], words
    no_key = graph(live_server, "POST", f"/{order_id}/shipments", json={"items": [], "tracking_info": {}})
    assert "idempotency_key" in graph_error(no_key)["message"]
    rest = ship(
        live_server,
        order_id,
        [{"retailer_id": "TEE-M", "quantity": 1}, {"retailer_id": "TEE-L", "quantity": 1}],
        key="k8",
    )
    assert rest.json() == {"success": True}
    assert SandboxOrder.objects.get(order_id=order_id).status == "COMPLETED"
    shipments = graph(live_server, "GET", f"/{order_id}/shipments", params={"fields": "tracking_info"}).json()
    assert shipments["data"][0]["tracking_info"] == {
        "carrier": "FEDEX",
        "tracking_number": "7749",
        "shipping_method_name": "Ground",
    }


@live
def test_cancellations_take_reason_codes_and_unshipped_units(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M"])
    waiting, order_id = place(live_server, status="FB_PROCESSING"), place(live_server, status="IN_PROGRESS")
    body = {"cancel_reason": {"reason_code": "CUSTOMER_REQUESTED", "reason_description": "No longer needed"}}
    assert (
        "FB_PROCESSING"
        in graph_error(graph(live_server, "POST", f"/{waiting}/cancellations", json={**body, "idempotency_key": "c0"}))[
            "message"
        ]
    )
    wrong = {"cancel_reason": {"reason_code": "CHANGED_MIND"}, "idempotency_key": "c1"}
    assert "reason_code" in graph_error(graph(live_server, "POST", f"/{order_id}/cancellations", json=wrong))["message"]
    partial = {
        **body,
        "items": [{"retailer_id": "TEE-M", "quantity": 1}],
        "restock_items": True,
        "idempotency_key": "c2",
    }
    assert graph(live_server, "POST", f"/{order_id}/cancellations", json=partial).json() == {"success": True}
    assert graph(live_server, "POST", f"/{order_id}/cancellations", json=partial).json() == {"success": True}  # again
    too_many = {**partial, "items": [{"retailer_id": "TEE-M", "quantity": 2}], "idempotency_key": "c3"}
    assert (
        "only 1 left" in graph_error(graph(live_server, "POST", f"/{order_id}/cancellations", json=too_many))["message"]
    )
    rest = {**body, "idempotency_key": "c4"}  # no items: every unshipped unit
    assert graph(live_server, "POST", f"/{order_id}/cancellations", json=rest).json() == {"success": True}
    assert SandboxOrder.objects.get(order_id=order_id).status == "COMPLETED"
    completed = graph(live_server, "POST", f"/{order_id}/cancellations", json={**body, "idempotency_key": "c5"})
    assert "COMPLETED" in graph_error(completed)["message"]
    read = graph(live_server, "GET", f"/{order_id}/cancellations", params={"fields": "items{retailer_id,quantity}"})
    assert [c["items"]["data"] for c in read.json()["data"]] == [
        [{"retailer_id": "TEE-M", "quantity": 1}],
        [{"retailer_id": "TEE-M", "quantity": 1}],
    ]


@live
def test_refunds_take_shipped_units_and_refund_reason_codes(live_server, meta):
    sandbox_list("meta", KEY, ["TEE-M"])
    order_id = place(live_server, status="IN_PROGRESS")
    refund = {"reason_code": "DAMAGED_GOODS", "items": [{"retailer_id": "TEE-M", "item_refund_quantity": 1}]}
    nothing_shipped = graph(live_server, "POST", f"/{order_id}/refunds", json={**refund, "idempotency_key": "r0"})
    assert "no shipped items" in graph_error(nothing_shipped)["message"]
    ship(live_server, order_id, [{"retailer_id": "TEE-M", "quantity": 2}])
    wrong = graph(
        live_server, "POST", f"/{order_id}/refunds", json={**refund, "reason_code": "OOPS", "idempotency_key": "r1"}
    )
    assert "reason_code" in graph_error(wrong)["message"]
    assert graph(live_server, "POST", f"/{order_id}/refunds", json={**refund, "idempotency_key": "r2"}).json() == {
        "success": True
    }
    read = graph(
        live_server, "GET", f"/{order_id}/refunds", params={"fields": "items{retailer_id,item_refund_quantity}"}
    )
    assert read.json()["data"][0]["items"]["data"] == [{"retailer_id": "TEE-M", "item_refund_quantity": 1}]


# --- The adapter end to end against the strict sandbox ---------------------------------------------


@live
def test_publish_create_update_delete(live_server, meta):
    first = meta.batch_status(meta.publish_batch([product(1), product(2)]), sent_ids=["SKU-1", "SKU-2"])
    assert first.done and all(r.ok for r in first.results) and not any(r.errors for r in first.results)
    stored = SandboxItem.objects.get(item_id="SKU-1")
    assert stored.data[QUANTITY_FIELD] == 5 and stored.data["availability"] == "in stock"
    updated = meta.batch_status(
        meta.publish_batch([product(1, quantity=0, availability="out_of_stock")]), sent_ids=["SKU-1"]
    )
    assert updated.done and updated.results[0].ok
    stored.refresh_from_db()
    assert stored.data[QUANTITY_FIELD] == 0 and stored.data["availability"] == "out of stock" and stored.updates == 1
    deleted = meta.batch_status(meta.delete_items([product(2)]), sent_ids=["SKU-2"])
    assert deleted.done and not SandboxItem.objects.get(item_id="SKU-2").active


def meta_account(shop, live_server, **kwargs):
    account = make_account(shop, "meta", api_base_url=f"{live_server.url}/sandbox/meta", **kwargs)
    setup_sandbox(live_server)
    return account


@live
def test_polled_orders_import_with_totals_lines_currency_and_buyer(live_server, shop_a, monkeypatch):
    from orders.sync import orders_poll
    from orders.tasks import order_acknowledge_task

    monkeypatch.setattr(order_acknowledge_task, "delay", lambda *args: None)
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = meta_account(shop_a, live_server)
    sandbox_list("meta", KEY, ["TEE-M"])
    order_id = place(live_server, items=(("TEE-M", 3),))
    with shop_context(shop_a):
        assert orders_poll(account=account) == {"created": 1}
        order = Order.objects.get(external_id=order_id)
        line = order.lines.get()
        assert (order.total, order.subtotal, order.currency) == (Decimal("149.70"), Decimal("149.70"), "USD")
        assert (line.quantity, line.unit_price, line.variant_id) == (3, Decimal("49.90"), variant.pk)
        assert order.buyer_email == f"buyer-{order_id}@sandbox.example" and order.shipping_address["country"] == "US"
        assert order.status == Lifecycle.AWAITING_FULFILLMENT and order.placed_at is not None
        assert orders_poll(account=account) == {"unchanged": 1}
    assert level(shop_a, variant) == (10, 3)


@live
def test_a_webhook_with_two_changes_imports_two_orders(live_server, shop_a):
    from channels.models import WebhookEvent
    from channels.services import webhook_event_process

    stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = meta_account(shop_a, live_server)
    sandbox_list("meta", KEY, ["TEE-M"])
    first, second = place(live_server), place(live_server, items=(("TEE-M", 1),))
    body = {
        "object": "page",
        "entry": [
            {
                "id": CMS,
                "time": int(time.time()),
                "changes": [
                    {"field": "commerce_orders", "value": {"order_id": first, "event": "ORDER_CREATED"}},
                    {"field": "commerce_orders", "value": {"order_id": second, "event": "ORDER_CREATED"}},
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    signature = MetaAdapter(credentials=META_CREDENTIALS).signature(raw)
    url = f"{live_server.url}/webhooks/meta/{account.webhook_key}/"
    for _ in range(2):  # a redelivery is the same delivery
        response = httpx.post(
            url, content=raw, headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        )
        assert response.status_code == 200
    with shop_context(shop_a):
        [event] = WebhookEvent.objects.filter(processed_at=None)
        assert webhook_event_process(event=event).status == "processed"
        assert sorted(Order.objects.values_list("external_id", flat=True)) == sorted([first, second])
        assert Order.objects.get(external_id=first).total == Decimal("99.80")


@live
def test_acknowledge_created_orders_and_wait_for_fb_processing_ones(live_server, shop_a, monkeypatch):
    from orders.sync import orders_poll
    from orders.tasks import order_acknowledge_task

    asked: list[int] = []
    monkeypatch.setattr(order_acknowledge_task, "delay", lambda shop_id, order_pk: asked.append(order_pk))
    stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = meta_account(shop_a, live_server)
    sandbox_list("meta", KEY, ["TEE-M"])
    created, waiting = place(live_server), place(live_server, status="FB_PROCESSING")
    with shop_context(shop_a):
        orders_poll(account=account)
        ready, held = Order.objects.get(external_id=created), Order.objects.get(external_id=waiting)
        assert held.status == Lifecycle.PENDING and set(asked) == {ready.pk}  # the waiting one is not asked
        assert order_acknowledge(order=ready)
        assert not order_acknowledge(order=held)  # waits: nothing is sent
        held.refresh_from_db()
        assert held.acknowledged_at is None and held.acknowledge_error == ""
    assert SandboxOrder.objects.get(order_id=created).status == "IN_PROGRESS"
    assert SandboxOrder.objects.get(order_id=waiting).status == "FB_PROCESSING"

    # Meta releases the order: the next poll imports the change and asks for its acknowledgement.
    SandboxOrder.objects.filter(order_id=waiting).update(status="CREATED", updated_at=timezone.now())
    asked.clear()
    with shop_context(shop_a):
        orders_poll(account=account)
        assert asked and set(asked) == {held.pk}
        assert order_acknowledge(order=held)
    assert SandboxOrder.objects.get(order_id=waiting).status == "IN_PROGRESS"

    # A refused acknowledgement is not dropped: recorded, and asked for again after the next poll.
    third = place(live_server)
    with shop_context(shop_a):
        orders_poll(account=account)
        order = Order.objects.get(external_id=third)
    SandboxOrder.objects.filter(order_id=third).update(status="FB_PROCESSING")  # Meta holds it back again
    with shop_context(shop_a):
        assert not order_acknowledge(order=order)
        order.refresh_from_db()
        assert "FB_PROCESSING" in order.acknowledge_error
    SandboxOrder.objects.filter(order_id=third).update(status="CREATED")
    asked.clear()
    with shop_context(shop_a):
        orders_poll(account=account)
        assert order.pk in asked
        assert order_acknowledge(order=order)


@live
def test_checkout_url_accounts_are_not_polled_or_acknowledged(live_server, shop_a, monkeypatch):
    from channels.models import ChannelAccount
    from orders.sync import orders_poll
    from orders.tasks import _order_accounts

    account = meta_account(shop_a, live_server)
    with shop_context(shop_a):
        ChannelAccount.objects.filter(pk=account.pk).update(checkout_method="checkout_url")
        account.refresh_from_db()
        before = SandboxAccount.objects.get(channel="meta", key=KEY).request_count
        assert orders_poll(account=account) == {}
        # An order reaching such an account otherwise (a late webhook) is not acknowledged either.
        order, _outcome = order_import(account=account, data=channel_order("880001"))
        assert not order_acknowledge(order=order)
    assert SandboxAccount.objects.get(channel="meta", key=KEY).request_count == before
    from shopadmin.context import all_shops_access

    with all_shops_access():
        assert account.pk not in [pk for _shop, pk in _order_accounts()]


def imported_and_acknowledged(live_server, shop, account, items=(("TEE-M", 2),)) -> Order:
    from orders.sync import orders_poll

    order_id = place(live_server, items=items)
    with shop_context(shop):
        orders_poll(account=account)
        order = Order.objects.get(external_id=order_id)
        assert order_acknowledge(order=order)
        return order


@live
def test_ship_with_a_mapped_carrier_and_refuse_an_unmappable_one(live_server, shop_a, monkeypatch):
    from orders.tasks import fulfillment_push_task, order_acknowledge_task

    monkeypatch.setattr(order_acknowledge_task, "delay", lambda *args: None)
    monkeypatch.setattr(fulfillment_push_task, "delay", lambda *args: None)
    stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = meta_account(shop_a, live_server)
    sandbox_list("meta", KEY, ["TEE-M"])
    order = imported_and_acknowledged(live_server, shop_a, account)
    with shop_context(shop_a):
        [line] = order.lines.all()
        unmapped = order_fulfill(order=order, lines=[(line.pk, 1)], carrier="Bob's Couriers", tracking_number="B1")
        assert fulfillment_push(fulfillment=unmapped) == PushState.FAILED
        error = Fulfillment.objects.get(pk=unmapped.pk).push_error
        assert "Bob's Couriers" in error and "UPS" in error
        mapped = order_fulfill(order=order, lines=[(line.pk, 1)], carrier="fed ex", tracking_number="F1")
        assert fulfillment_push(fulfillment=mapped) == PushState.PUSHED
    sandbox = SandboxOrder.objects.get(order_id=order.external_id)
    assert [r["body"]["tracking_info"] for r in sandbox.received] == [{"carrier": "FEDEX", "tracking_number": "F1"}]
    assert sandbox.received[0]["body"]["items"] == [{"retailer_id": "TEE-M", "quantity": 1}]
    with pytest.raises(AdapterError):
        MetaAdapter(credentials=META_CREDENTIALS).push_fulfillment(
            "1", lines=[], carrier="UPS", tracking_number=" ", idempotency_key="k"
        )


@live
def test_cancel_sends_a_reason_code(live_server, shop_a, monkeypatch):
    from orders.tasks import cancellation_push_task, order_acknowledge_task

    monkeypatch.setattr(order_acknowledge_task, "delay", lambda *args: None)
    monkeypatch.setattr(cancellation_push_task, "delay", lambda *args: None)
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = meta_account(shop_a, live_server)
    sandbox_list("meta", KEY, ["TEE-M"])
    order = imported_and_acknowledged(live_server, shop_a, account)
    with shop_context(shop_a):
        cancellation = order_cancel(order=order, reason="Sold out: out of stock")
        assert cancellation_push(cancellation=cancellation) == PushState.PUSHED
    [sent] = SandboxOrder.objects.get(order_id=order.external_id).received
    assert sent["body"]["cancel_reason"] == {
        "reason_code": "OUT_OF_STOCK",
        "reason_description": "Sold out: out of stock",
    }
    assert SandboxOrder.objects.get(order_id=order.external_id).status == "COMPLETED"
    assert level(shop_a, variant) == (10, 0)


@live
def test_cancelled_and_refunded_completed_orders_import_as_such(live_server, shop_a, monkeypatch):
    from orders.sync import orders_poll
    from orders.tasks import order_acknowledge_task

    monkeypatch.setattr(order_acknowledge_task, "delay", lambda *args: None)
    variant, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = meta_account(shop_a, live_server)
    sandbox_list("meta", KEY, ["TEE-M"])
    cancelled = imported_and_acknowledged(live_server, shop_a, account, items=(("TEE-M", 2),))
    refunded = imported_and_acknowledged(live_server, shop_a, account, items=(("TEE-M", 3),))
    assert level(shop_a, variant) == (10, 5)

    # On Meta: one order cancelled (by the buyer, say), the other shipped and one unit refunded.
    reason = {"cancel_reason": {"reason_code": "CUSTOMER_REQUESTED"}, "idempotency_key": "meta-c"}
    graph(live_server, "POST", f"/{cancelled.external_id}/cancellations", json=reason)
    ship(live_server, refunded.external_id, [{"retailer_id": "TEE-M", "quantity": 3}], carrier="UPS")
    refund = {
        "reason_code": "DAMAGED_GOODS",
        "items": [{"retailer_id": "TEE-M", "item_refund_quantity": 1}],
        "idempotency_key": "meta-r",
    }
    graph(live_server, "POST", f"/{refunded.external_id}/refunds", json=refund)
    future = timezone.now() + dt.timedelta(seconds=2)
    SandboxOrder.objects.filter(order_id__in=[cancelled.external_id, refunded.external_id]).update(updated_at=future)
    for order in (cancelled, refunded):
        assert SandboxOrder.objects.get(order_id=order.external_id).status == "COMPLETED"

    with shop_context(shop_a):
        orders_poll(account=account)
        cancelled.refresh_from_db()
        refunded.refresh_from_db()
        assert cancelled.status == Lifecycle.CANCELLED and cancelled.lines.get().quantity_cancelled == 2
        line = refunded.lines.get()
        assert refunded.status == Lifecycle.PARTIALLY_REFUNDED
        assert (line.quantity_fulfilled, line.quantity_refunded) == (3, 1)
        assert refunded.refunds.get().amount == Decimal("49.90")
    # The cancelled units went back to stock; the shipped ones left it.
    assert level(shop_a, variant) == (7, 0)

    # Importing the same orders again changes nothing.
    SandboxOrder.objects.filter(order_id__in=[cancelled.external_id, refunded.external_id]).update(
        updated_at=future + dt.timedelta(seconds=5)
    )
    with shop_context(shop_a):
        orders_poll(account=account)
        assert refunded.refunds.count() == 1 and cancelled.cancellations.count() == 1
        assert Order.objects.get(pk=refunded.pk).status == Lifecycle.PARTIALLY_REFUNDED
    assert level(shop_a, variant) == (7, 0)

    # The rest refunded on Meta: the order becomes refunded.
    rest = {"reason_code": "REFUND_REASON_OTHER", "idempotency_key": "meta-r2"}
    graph(live_server, "POST", f"/{refunded.external_id}/refunds", json=rest)
    SandboxOrder.objects.filter(order_id=refunded.external_id).update(updated_at=future + dt.timedelta(seconds=10))
    with shop_context(shop_a):
        orders_poll(account=account)
        refunded.refresh_from_db()
        assert refunded.status == Lifecycle.REFUNDED and refunded.lines.get().quantity_refunded == 3
        assert sum(r.amount for r in refunded.refunds.all()) == refunded.total
