"""TikTok Shop Open API (202309) contract: the sandbox over real HTTP accepts what TikTok's
documentation and SDKs show as accepted and refuses what TikTok refuses, with TikTok's
envelope and codes (docs/channels.md, "TikTok Shop (Open API 202309)", lists the sources);
then the adapter's flows against that strict sandbox."""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal

import httpx
import pytest

from catalog.demo_images import png as coloured_png
from channels.adapters.base import AdapterError, ChannelItem, ShipmentLine
from channels.adapters.tiktok_shop import (
    TikTokShopAdapter,
    identifier_code,
    reference_kind,
    sign,
    webhook_signature,
)
from channels.models import ChannelAccount, ChannelReference, WebhookEvent
from channels.sandbox.control import control_headers
from channels.sandbox.models import SandboxAccount, SandboxItem, SandboxOrder
from channels.sandbox.tiktok_shop import record_return
from channels.tests.factories import TIKTOK_CREDENTIALS, make_account
from shopadmin.audit import AuditLogEntry
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)

KEY = TIKTOK_CREDENTIALS["app_key"]
SECRET = TIKTOK_CREDENTIALS["app_secret"]
TOKEN = TIKTOK_CREDENTIALS["access_token"]
CIPHER = TIKTOK_CREDENTIALS["shop_cipher"]
V = "202309"
WAREHOUSE = "7000714532876273410"  # the sandbox's default sales warehouse
RETURN_WAREHOUSE = "7000714532876273411"
LEAF = "601302"  # Shirts & Blouses
NOT_LEAF = "601152"  # Women's Tops
ALICE_BRAND = "7082427311584347905"
DELIVERY_OPTION = "6955034615128000261"
USPS = "6617675021119438849"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def base(live_server):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{KEY}/",
        headers=control_headers(),
        json={"secret": SECRET, "access_token": TOKEN, "shop_cipher": CIPHER},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return f"{live_server.url}/sandbox/tiktok"


def png(width: int, height: int) -> bytes:
    return coloured_png(width, height, (128, 128, 128))


def call(base, method, path, *, query=None, body=None, files=None, data=None, **overrides):
    """One request signed as TikTok's documentation describes (the same algorithm as the
    official signing vector in test_adapters)."""
    params = {"app_key": overrides.get("app_key", KEY), "timestamp": str(overrides.get("timestamp", int(time.time())))}
    if overrides.get("shop_cipher", CIPHER):
        params["shop_cipher"] = overrides.get("shop_cipher", CIPHER)
    params.update(query or {})
    raw = json.dumps(body).encode() if body is not None else b""
    secret = overrides.get("secret", SECRET)
    params["sign"] = sign(secret=secret, path=path, params=params, body=raw, multipart=files is not None)
    headers = {"x-tts-access-token": overrides.get("token", TOKEN)}
    if files is None:
        headers["content-type"] = "application/json"
        response = httpx.request(method, base + path, params=params, content=raw or None, headers=headers, timeout=10)
    else:
        response = httpx.request(
            method, base + path, params=params, files=files, data=data, headers=headers, timeout=10
        )
    envelope = response.json()
    assert set(envelope) == {"code", "message", "request_id", "data"}, envelope
    return envelope


def upload(base, data=None, use_case="MAIN_IMAGE"):
    return call(
        base,
        "POST",
        f"/product/{V}/images/upload",
        files={"data": ("image.png", data or png(600, 600), "image/png")},
        data={"use_case": use_case},
        shop_cipher="",
    )


def product_body(base, **changes):
    """A Create Product body in the shape of TikTok's request sample (trimmed)."""
    uri = upload(base)["data"]["uri"]
    body = {
        "title": "Washed linen shirt",
        "description": "<p>A shirt of washed linen.</p>",
        "category_id": LEAF,
        "brand_id": ALICE_BRAND,
        "main_images": [{"uri": uri}],
        "package_weight": {"value": "0.35", "unit": "KILOGRAM"},
        "external_product_id": "P-1",
        "skus": [
            {
                "seller_sku": "SHIRT-M",
                "price": {"amount": "49.90", "currency": "USD"},
                "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 5}],
                "sales_attributes": [{"name": "Size", "value_name": "M"}],
                "identifier_code": {"code": "00012345678905", "type": "GTIN"},
            },
            {
                "seller_sku": "SHIRT-L",
                "price": {"amount": "49.90", "currency": "USD"},
                "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 3}],
                "sales_attributes": [{"name": "Size", "value_name": "L"}],
            },
        ],
    }
    body.update(changes)
    return body


def create(base, **changes):
    answer = call(base, "POST", f"/product/{V}/products", body=product_body(base, **changes))
    assert answer["code"] == 0, answer
    return answer["data"]


def place_order(live_server, items):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{KEY}/orders/",
        headers=control_headers(),
        json={"items": items},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


def order_detail(base, order_id):
    return call(base, "GET", f"/order/{V}/orders", query={"ids": order_id})["data"]["orders"][0]


# --- Authentication ---------------------------------------------------------------------------------------


def test_signed_calls_and_common_errors(base):
    path = f"/logistics/{V}/warehouses"
    assert call(base, "GET", path)["code"] == 0
    assert call(base, "GET", path, secret="wrong")["code"] == 106001
    assert call(base, "GET", path, timestamp=int(time.time()) - 301)["code"] == 36009004
    assert call(base, "GET", path, timestamp=int(time.time()) + 60)["code"] == 36009004
    assert call(base, "GET", path, app_key="nope")["code"] == 36009004
    assert call(base, "GET", path, token="not-the-token")["code"] == 36009004
    assert call(base, "GET", path, shop_cipher="")["code"] == 106013
    assert call(base, "GET", "/logistics/202212/warehouses")["code"] == 36009009
    # Upload Product Image takes no shop_cipher.
    refused = call(base, "POST", f"/product/{V}/images/upload", files={"data": ("i.png", png(600, 600), "image/png")})
    assert refused["code"] == 36009004 and "shop_cipher" in refused["message"]


# --- Reference data -----------------------------------------------------------------------------------------


def test_categories_recommendation_brands_warehouses_and_shipping_providers(base):
    categories = call(base, "GET", f"/product/{V}/categories")["data"]["categories"]
    assert {"id", "parent_id", "local_name", "is_leaf"} <= set(categories[0])
    recommended = call(base, "POST", f"/product/{V}/categories/recommend", body={"product_title": "Linen shirt"})
    assert recommended["data"]["leaf_category_id"] == "601226" and recommended["data"]["categories"][0]["is_leaf"]
    none = call(base, "POST", f"/product/{V}/categories/recommend", body={"product_title": "Quantum widget"})
    assert none["code"] == 12019064
    assert call(base, "GET", f"/product/{V}/brands")["code"] == 12052910  # page_size is required
    brands = call(base, "GET", f"/product/{V}/brands", query={"page_size": 100, "brand_name": "ali"})["data"]
    assert [b["id"] for b in brands["brands"]] == [ALICE_BRAND]
    warehouses = call(base, "GET", f"/logistics/{V}/warehouses")["data"]["warehouses"]
    default = [w for w in warehouses if w["is_default"] and w["type"] == "SALES_WAREHOUSE"]
    assert [w["id"] for w in default] == [WAREHOUSE] and default[0]["effect_status"] == "ENABLED"
    path = f"/logistics/{V}/delivery_options/{DELIVERY_OPTION}/shipping_providers"
    assert {"id": USPS, "name": "USPS"} in call(base, "GET", path)["data"]["shipping_providers"]
    assert call(base, "GET", f"/logistics/{V}/delivery_options/1/shipping_providers")["code"] != 0


def test_image_upload_is_multipart_and_checked(base):
    answer = upload(base)
    assert answer["code"] == 0 and answer["data"]["uri"] and answer["data"]["use_case"] == "MAIN_IMAGE"
    assert {"uri", "url", "width", "height", "use_case"} <= set(answer["data"])
    as_json = call(base, "POST", f"/product/{V}/images/upload", body={"data": "x"}, shop_cipher="")
    assert as_json["code"] == 36009023
    assert upload(base, data=b"GIF89a not a supported image")["code"] == 12038015
    assert upload(base, data=png(200, 200))["code"] == 12038014  # MAIN_IMAGE: at least 300x300
    assert upload(base, data=png(200, 200), use_case="DESCRIPTION_IMAGE")["code"] == 0


# --- Products ------------------------------------------------------------------------------------------------


def test_create_product_accepted_and_answered_with_sku_ids(base):
    data = create(base)
    assert data["product_id"] and [s["seller_sku"] for s in data["skus"]] == ["SHIRT-M", "SHIRT-L"]
    assert all(s["id"] for s in data["skus"])
    product = call(base, "GET", f"/product/{V}/products/{data['product_id']}")["data"]
    assert product["status"] == "ACTIVATE" and product["brand"]["id"] == ALICE_BRAND
    assert product["category_chains"][-1] == {
        "id": LEAF,
        "parent_id": "601152",
        "local_name": "Shirts & Blouses",
        "is_leaf": True,
    }
    assert product["package_weight"] == {"value": "0.35", "unit": "KILOGRAM"}
    sku = product["skus"][0]
    assert sku["inventory"] == [{"warehouse_id": WAREHOUSE, "quantity": 5}]
    assert sku["price"]["currency"] == "USD" and sku["price"]["sale_price"] == "49.90"
    assert call(base, "GET", f"/product/{V}/products/1729000000000000001")["code"] == 12052032


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"main_images": [{"uri": "https://alice.example.com/i/1.jpg"}]}, 12052300),  # an external URL
        ({"main_images": [{"uri": "tos-sandbox-i-0000000000000000/" + "0" * 32}]}, 12052300),  # not issued
        ({"main_images": []}, 12052028),
        ({"package_weight": None}, 12019011),
        ({"package_weight": {"value": "0", "unit": "KILOGRAM"}}, 12052181),
        ({"package_weight": {"value": "350", "unit": "GRAM"}}, 12019011),
        ({"category_id": NOT_LEAF}, 12052024),
        ({"category_id": "999999"}, 12052023),
        ({"category_id": "Apparel & Accessories > Clothing > Shirts & Tops"}, 12052002),  # Google's taxonomy
        ({"brand_id": "42"}, 12052026),
        ({"brand_name": "Alice"}, 12052910),
        ({"title": ""}, 12052261),
        ({"description": ""}, 12052015),
    ],
)
def test_create_product_refusals(base, change, code):
    body = product_body(base)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    answer = call(base, "POST", f"/product/{V}/products", body=body)
    assert answer["code"] == code, answer
    assert answer["data"] is None and answer["message"]


@pytest.mark.parametrize(
    ("sku_change", "code"),
    [
        ({"inventory": [{"quantity": 5}]}, 12019022),  # no warehouse_id
        ({"inventory": []}, 12019022),
        ({"inventory": [{"warehouse_id": "123", "quantity": 5}]}, 12052097),
        ({"inventory": [{"warehouse_id": RETURN_WAREHOUSE, "quantity": 5}]}, 12052532),
        ({"inventory": [{"warehouse_id": WAREHOUSE, "quantity": 1000000}]}, 12052055),
        ({"identifier_code": {"code": "4006381333931", "type": "GTIN"}}, 12052591),  # 13 digits: an EAN
        ({"identifier_code": {"code": "012345678905", "type": "EAN"}}, 12052591),  # 12 digits: a UPC
        ({"identifier_code": {"code": "4006381333931", "type": "BARCODE"}}, 12052600),
        ({"price": {"amount": "49.90", "currency": "EUR"}}, 12052084),
        ({"price": {"amount": "free", "currency": "USD"}}, 12052073),
        ({"seller_sku": "S" * 51}, 12052054),
        ({"seller_sku": "SHIRT-L"}, 12052910),  # the other SKU's seller SKU
    ],
)
def test_create_product_sku_refusals(base, sku_change, code):
    body = product_body(base)
    body["skus"][0].update(sku_change)
    answer = call(base, "POST", f"/product/{V}/products", body=body)
    assert answer["code"] == code, answer


def test_identifier_codes_accepted_by_type(base):
    body = product_body(base)
    body["skus"][0]["identifier_code"] = {"code": "4006381333931", "type": "EAN"}
    body["skus"][1]["identifier_code"] = {"code": "012345678905", "type": "UPC"}
    assert call(base, "POST", f"/product/{V}/products", body=body)["code"] == 0
    assert identifier_code("4006381333931") == {"code": "4006381333931", "type": "EAN"}
    assert identifier_code("012345678905") == {"code": "012345678905", "type": "UPC"}
    assert identifier_code("00012345678905") == {"code": "00012345678905", "type": "GTIN"}
    assert identifier_code("12345") is None


def test_edit_replaces_the_sku_list_and_refuses_foreign_sku_ids(base):
    data = create(base)
    product_id, (medium, large) = data["product_id"], data["skus"]
    body = product_body(base)
    body["skus"] = [{**body["skus"][0], "id": medium["id"]}]  # SHIRT-L's id left out
    assert call(base, "PUT", f"/product/{V}/products/{product_id}", body=body)["code"] == 0
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    assert [(s["id"], s["seller_sku"]) for s in product["skus"]] == [(medium["id"], "SHIRT-M")]
    assert not SandboxItem.objects.filter(sku_id=large["id"]).exists()  # deleted, as TikTok does
    body["skus"] = [{**body["skus"][0], "id": "1729000000000000999"}]
    assert call(base, "PUT", f"/product/{V}/products/{product_id}", body=body)["code"] == 12052557
    assert call(base, "PUT", f"/product/{V}/products/1729000000000000998", body=body)["code"] == 12052032


def test_price_and_inventory_updates(base):
    data = create(base)
    product_id, sku_id = data["product_id"], data["skus"][0]["id"]
    prices = f"/product/{V}/products/{product_id}/prices/update"
    ok = call(base, "POST", prices, body={"skus": [{"id": sku_id, "price": {"amount": "39.50", "currency": "USD"}}]})
    assert ok["code"] == 0
    unknown = {"skus": [{"id": "1729000000000000777", "price": {"amount": "39.50", "currency": "USD"}}]}
    assert call(base, "POST", prices, body=unknown)["code"] == 12052557
    assert call(base, "POST", prices, body={"skus": []})["code"] == 12052902
    stock = f"/product/{V}/products/{product_id}/inventory/update"
    entry = {"warehouse_id": WAREHOUSE, "quantity": 2}
    assert call(base, "POST", stock, body={"skus": [{"id": sku_id, "inventory": [entry]}]})["code"] == 0
    assert call(base, "POST", stock, body={"skus": [{"id": "1729000000000000777", "inventory": [entry]}]})["code"] == (
        12052556
    )
    moved = {"skus": [{"id": sku_id, "inventory": [{"warehouse_id": "1", "quantity": 2}]}]}
    assert call(base, "POST", stock, body=moved)["code"] == 12052533
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    sku = next(s for s in product["skus"] if s["id"] == sku_id)
    assert sku["price"]["sale_price"] == "39.50" and sku["inventory"][0]["quantity"] == 2


def test_search_products_by_seller_sku(base):
    product_id = create(base)["product_id"]
    path = f"/product/{V}/products/search"
    assert call(base, "POST", path, body={"seller_skus": ["SHIRT-L"]})["code"] == 12052910  # page_size required
    found = call(base, "POST", path, query={"page_size": 20}, body={"seller_skus": ["SHIRT-L"]})["data"]
    assert [p["id"] for p in found["products"]] == [product_id] and found["products"][0]["status"] == "ACTIVATE"
    assert {s["seller_sku"] for s in found["products"][0]["skus"]} == {"SHIRT-M", "SHIRT-L"}
    none = call(base, "POST", path, query={"page_size": 20}, body={"seller_skus": ["NOPE"]})["data"]
    assert none["products"] == [] and none["total_count"] == 0


def test_deactivate_reports_unknown_products(base):
    product_id = create(base)["product_id"]
    answer = call(base, "POST", f"/product/{V}/products/deactivate", body={"product_ids": [product_id, "17290001"]})
    assert answer["code"] == 0 and [e["detail"]["product_id"] for e in answer["data"]["errors"]] == ["17290001"]
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    assert product["status"] == "SELLER_DEACTIVATED"


# --- Orders, packages, cancellations ---------------------------------------------------------------------


def test_orders_line_items_per_unit_packages_and_cancellations(base, live_server):
    create(base)
    order_id = place_order(live_server, [{"item_id": "SHIRT-M", "quantity": 2}, {"item_id": "SHIRT-L", "quantity": 1}])
    search = call(base, "POST", f"/order/{V}/orders/search", query={"page_size": 10}, body={})
    assert [o["id"] for o in search["data"]["orders"]] == [order_id]
    order = order_detail(base, order_id)
    assert order["status"] == "AWAITING_SHIPMENT" and order["delivery_option_id"] == DELIVERY_OPTION
    units = order["line_items"]
    assert len(units) == 3 and len({u["id"] for u in units}) == 3  # one line item, one id, per unit
    assert all(u["sku_id"] and u["display_status"] == "AWAITING_SHIPMENT" for u in units)
    packages = f"/fulfillment/{V}/orders/{order_id}/packages"
    medium = [u["id"] for u in units if u["seller_sku"] == "SHIRT-M"]
    by_sku = {"order_line_item_ids": ["SHIRT-M"], "tracking_number": "9400111", "shipping_provider_id": USPS}
    assert call(base, "POST", packages, body=by_sku)["code"] == 21001001  # seller SKUs are not line item ids
    carrier_text = {"order_line_item_ids": medium, "tracking_number": "9400111", "shipping_provider_id": "USPS"}
    assert call(base, "POST", packages, body=carrier_text)["code"] == 21011022
    shipped = call(base, "POST", packages, body={**carrier_text, "shipping_provider_id": USPS})
    assert shipped["code"] == 0 and shipped["data"]["package_id"]
    assert order_detail(base, order_id)["status"] == "PARTIALLY_SHIPPING"
    again = {**carrier_text, "shipping_provider_id": USPS, "tracking_number": "9400222"}
    assert call(base, "POST", packages, body=again)["code"] == 21001001  # those units are shipped
    rest = [u["id"] for u in units if u["seller_sku"] == "SHIRT-L"]
    duplicate = {"order_line_item_ids": rest, "tracking_number": "9400111", "shipping_provider_id": USPS}
    assert call(base, "POST", packages, body=duplicate)["code"] == 21011025
    cancel = {"order_id": order_id, "cancel_reason": "seller_cancel_reason_out_of_stock"}
    assert call(base, "POST", f"/return_refund/{V}/cancellations", body=cancel)["code"] == 25001045  # shipped

    other = place_order(live_server, [{"item_id": "SHIRT-L", "quantity": 1}])
    cancellations = f"/return_refund/{V}/cancellations"
    free_text = {"order_id": other, "cancel_reason": "out of stock"}
    assert call(base, "POST", cancellations, body=free_text)["code"] == 25001014
    unpaid_code = {"order_id": other, "cancel_reason": "seller_cancel_unpaid_reason_out_of_stock"}
    assert call(base, "POST", cancellations, body=unpaid_code)["code"] == 25001021
    done = call(base, "POST", cancellations, body={"order_id": other, "cancel_reason": cancel["cancel_reason"]})
    assert done["code"] == 0 and done["data"]["cancel_id"]
    cancelled = order_detail(base, other)
    assert cancelled["status"] == "CANCELLED" and cancelled["line_items"][0]["display_status"] == "CANCELLED"


def test_returns_search(base, live_server):
    create(base)
    order_id = place_order(live_server, [{"item_id": "SHIRT-M", "quantity": 2}])
    order = SandboxOrder.objects.get(order_id=order_id)
    unit = order_detail(base, order_id)["line_items"][0]["id"]
    record_return(SandboxAccount.objects.get(key=KEY), order, [unit])
    found = call(
        base, "POST", f"/return_refund/{V}/returns/search", query={"page_size": 50}, body={"order_ids": [order_id]}
    )
    [entry] = found["data"]["return_orders"]
    assert entry["order_id"] == order_id and entry["return_line_items"][0]["order_line_item_id"] == unit


def _sandbox_orders(count):
    from django.utils import timezone

    account = SandboxAccount.objects.get(channel="tiktok_shop", key=KEY)
    now = timezone.now()
    orders = SandboxOrder.objects.bulk_create(
        SandboxOrder(
            account=account,
            order_id=f"58{i:012d}",
            status="AWAITING_SHIPMENT",
            lines=[{"item_id": "SHIRT-M", "product_id": "", "quantity": 1, "price": "9.99"}],
            total="9.99",
            currency="USD",
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    )
    return [o.order_id for o in orders]


def test_order_detail_takes_at_most_50_ids(base):
    """Get Order Detail: `ids` holds 1 to 50 order ids (TTS docs `orders/get-order-detail.doc.json`,
    "Max count: 50"); 51 are refused, none too."""
    ids = _sandbox_orders(51)
    path = f"/order/{V}/orders"
    fifty = call(base, "GET", path, query={"ids": ",".join(ids[:50])})
    assert fifty["code"] == 0 and len(fifty["data"]["orders"]) == 50
    for query in ({"ids": ",".join(ids)}, {"ids": ""}):
        refused = call(base, "GET", path, query=query)
        assert refused["code"] == 36009004 and "50" in refused["message"]


# --- The adapter against the strict sandbox --------------------------------------------------------------


class Spy(TikTokShopAdapter):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def call(self, method, path, **kwargs):
        self.calls.append(f"{method} {path}")
        return super().call(method, path, **kwargs)


@pytest.fixture
def tiktok(base):
    adapter = Spy(base_url=base, credentials=TIKTOK_CREDENTIALS, sleep=Sleeps())
    yield adapter
    adapter.close()


def variant(live_server, size, **overrides):
    values = {
        "id": f"SHIRT-{size}",
        "title": "Washed linen shirt",
        "description": "A shirt of washed linen.",
        "link": "https://alice.example.com/p/shirt",
        "image_link": f"{live_server.url}/sandbox/_images/600x600.png",
        "price": Decimal("49.9"),
        "currency": "USD",
        "brand": "Alice",
        "quantity": 5,
        "size": size,
        "item_group_id": "SHIRT",
        "weight_grams": 350,
    }
    values.update(overrides)
    return ChannelItem(**values)


def published(results, items):
    for result, item in zip(results, items, strict=True):
        assert result.ok, result.errors
        item.channel_item_id, item.channel_sku_id = result.channel_item_id, result.channel_sku_id
    return items


def test_adapter_create_two_variants_make_one_product(tiktok, live_server, base):
    items = [variant(live_server, "M", gtin="4006381333931"), variant(live_server, "L")]
    results = tiktok.publish_batch(items)
    assert [r.ok for r in results] == [True, True]
    assert results[0].channel_item_id == results[1].channel_item_id
    assert results[0].channel_sku_id and results[0].channel_sku_id != results[1].channel_sku_id
    assert tiktok.calls.count(f"POST /product/{V}/products") == 1
    # A create retried after its answer was lost edits the product it made.
    again = tiktok.publish_batch([variant(live_server, "M", gtin="4006381333931"), variant(live_server, "L")])
    assert [(r.channel_item_id, r.channel_sku_id) for r in again] == [
        (r.channel_item_id, r.channel_sku_id) for r in results
    ]
    assert tiktok.calls.count(f"POST /product/{V}/products") == 1
    assert f"POST /product/{V}/images/upload" in tiktok.calls
    product = call(base, "GET", f"/product/{V}/products/{results[0].channel_item_id}")["data"]
    assert product["category_chains"][-1]["is_leaf"] and product["brand"]["id"] == ALICE_BRAND
    assert product["package_weight"] == {"value": "0.35", "unit": "KILOGRAM"}
    by_sku = {s["seller_sku"]: s for s in product["skus"]}
    assert by_sku["SHIRT-M"]["identifier_code"] == {"code": "4006381333931", "type": "EAN"}
    assert by_sku["SHIRT-L"]["inventory"] == [{"warehouse_id": WAREHOUSE, "quantity": 5}]
    # The local payload names no TikTok ids: they are resolved when publishing.
    payload = tiktok.build_payload(items[0])
    assert "main_images" not in payload and "category_id" not in payload and "brand_name" not in payload


def test_adapter_price_only_and_stock_only_changes_use_their_endpoints(tiktok, live_server, base):
    items = published(
        tiktok.publish_batch([variant(live_server, "M"), variant(live_server, "L")]),
        [variant(live_server, "M"), variant(live_server, "L")],
    )
    product_id = items[0].channel_item_id
    tiktok.calls.clear()
    items[0].price = Decimal("39.5")
    assert all(r.ok for r in tiktok.publish_batch(items))
    assert tiktok.calls == [
        f"GET /product/{V}/products/{product_id}",
        f"POST /product/{V}/products/{product_id}/prices/update",
    ]
    tiktok.calls.clear()
    items[1].quantity = 0
    results = tiktok.publish_batch(items)
    assert all(r.ok for r in results) and results[1].channel_sku_id == items[1].channel_sku_id
    assert tiktok.calls == [
        f"GET /product/{V}/products/{product_id}",
        f"POST /product/{V}/products/{product_id}/inventory/update",
    ]
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    by_sku = {s["seller_sku"]: s for s in product["skus"]}
    assert by_sku["SHIRT-M"]["price"]["sale_price"] == "39.50" and by_sku["SHIRT-L"]["inventory"][0]["quantity"] == 0


def test_adapter_full_edit_keeps_the_other_skus(tiktok, live_server, base):
    items = published(
        tiktok.publish_batch([variant(live_server, "M"), variant(live_server, "L")]),
        [variant(live_server, "M"), variant(live_server, "L")],
    )
    product_id, large_sku = items[0].channel_item_id, items[1].channel_sku_id
    tiktok.calls.clear()
    medium = items[0]
    medium.title = "Washed linen shirt, relaxed fit"
    [result] = tiktok.publish_batch([medium])  # only one variant changed
    assert result.ok and result.channel_sku_id == medium.channel_sku_id
    assert f"PUT /product/{V}/products/{product_id}" in tiktok.calls
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    assert product["title"] == "Washed linen shirt, relaxed fit"
    assert {s["seller_sku"]: s["id"] for s in product["skus"]} == {
        "SHIRT-M": medium.channel_sku_id,
        "SHIRT-L": large_sku,
    }
    # A new variant of the product is added as a SKU of it.
    small = variant(live_server, "S", channel_item_id=product_id)
    [added] = tiktok.publish_batch([small])
    assert added.ok and added.channel_item_id == product_id and added.channel_sku_id
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    assert sorted(s["seller_sku"] for s in product["skus"]) == ["SHIRT-L", "SHIRT-M", "SHIRT-S"]


def test_adapter_delete_one_variant_then_all(tiktok, live_server, base):
    items = published(
        tiktok.publish_batch([variant(live_server, "M"), variant(live_server, "L")]),
        [variant(live_server, "M"), variant(live_server, "L")],
    )
    product_id = items[0].channel_item_id
    [gone] = tiktok.delete_items([items[1]])
    assert gone.ok
    product = call(base, "GET", f"/product/{V}/products/{product_id}")["data"]
    assert [s["seller_sku"] for s in product["skus"]] == ["SHIRT-M"] and product["status"] == "ACTIVATE"
    [last] = tiktok.delete_items([items[0]])
    assert last.ok and f"POST /product/{V}/products/deactivate" in tiktok.calls
    assert call(base, "GET", f"/product/{V}/products/{product_id}")["data"]["status"] == "SELLER_DEACTIVATED"
    # Selected again: the product is edited and activated.
    [back] = tiktok.publish_batch([items[0]])
    assert back.ok and back.channel_item_id == product_id and f"POST /product/{V}/products/activate" in tiktok.calls
    assert call(base, "GET", f"/product/{V}/products/{product_id}")["data"]["status"] == "ACTIVATE"


def test_adapter_listing_problems_are_results_not_crashes(tiktok, live_server):
    no_weight = variant(live_server, "M", weight_grams=None)
    assert any(e.field == "weight_grams" for e in tiktok.validate_item(no_weight))
    assert any(e.field == "gtin" for e in tiktok.validate_item(variant(live_server, "M", gtin="12345")))
    [result] = tiktok.publish_batch([no_weight])
    assert not result.ok and "weight" in result.errors[0].message
    two = [{"id": i, "type": "SALES_WAREHOUSE", "effect_status": "ENABLED", "is_default": False} for i in "12"]
    SandboxAccount.objects.filter(key=KEY).update(settings={"warehouses": two})  # none is the default
    [result] = TikTokShopAdapter(base_url=tiktok.base_url, credentials=TIKTOK_CREDENTIALS).publish_batch(
        [variant(live_server, "M")]
    )
    assert not result.ok and "default sales warehouse" in result.errors[0].message
    [result] = tiktok.publish_batch([variant(live_server, "M", title="Quantum widget")])
    assert not result.ok and "category" in result.errors[0].message


def test_adapter_orders_ship_and_cancel(tiktok, live_server):
    published(
        tiktok.publish_batch([variant(live_server, "M"), variant(live_server, "L")]),
        [variant(live_server, "M"), variant(live_server, "L")],
    )
    order_id = place_order(live_server, [{"item_id": "SHIRT-M", "quantity": 2}, {"item_id": "SHIRT-L", "quantity": 1}])
    page = tiktok.fetch_orders(since=int(time.time()) - 60)
    [raw] = [o for o in page.orders if o["id"] == order_id]
    order = tiktok.normalize_order(raw)
    assert order.lifecycle == "awaiting_fulfillment"
    assert {(ln.channel_item_id, ln.quantity) for ln in order.lines} == {("SHIRT-M", 2), ("SHIRT-L", 1)}
    with pytest.raises(AdapterError) as exc:
        tiktok.push_fulfillment(
            order_id,
            lines=[ShipmentLine("SHIRT-M", 2)],
            carrier="Pony Express",
            tracking_number="T1",
            idempotency_key="k",
        )
    assert "Pony Express" in str(exc.value) and "USPS" in str(exc.value)
    tiktok.push_fulfillment(
        order_id, lines=[ShipmentLine("SHIRT-M", 2)], carrier="usps", tracking_number="T1", idempotency_key="k"
    )
    [package] = SandboxOrder.objects.get(order_id=order_id).received
    units = {u["id"]: u for u in tiktok.order_detail([order_id])[0]["line_items"]}
    assert package["body"]["shipping_provider_id"] == USPS
    assert sorted(package["body"]["order_line_item_ids"]) == sorted(
        i for i, u in units.items() if u["seller_sku"] == "SHIRT-M"
    )
    tiktok.calls.clear()
    tiktok.push_fulfillment(  # a retry ships nothing twice
        order_id, lines=[ShipmentLine("SHIRT-M", 2)], carrier="USPS", tracking_number="T1", idempotency_key="k"
    )
    assert not any("packages" in c for c in tiktok.calls)
    assert tiktok.normalize_order(tiktok.order_detail([order_id])[0]).lifecycle == "partially_fulfilled"

    other = place_order(live_server, [{"item_id": "SHIRT-L", "quantity": 1}])
    with pytest.raises(AdapterError) as exc:
        tiktok.cancel_order(other, reason="I just don't feel like it", idempotency_key="c")
    assert "out of stock" in str(exc.value)
    tiktok.cancel_order(other, reason="Out of stock", idempotency_key="c")
    [cancel] = SandboxOrder.objects.get(order_id=other).received
    assert cancel["body"] == {"order_id": other, "cancel_reason": "seller_cancel_reason_out_of_stock"}
    cancelled = tiktok.normalize_order(tiktok.order_detail([other])[0])
    assert cancelled.lifecycle == "cancelled" and cancelled.lines[0].quantity_cancelled == 1
    assert tiktok.cancel_order(other, reason="Out of stock", idempotency_key="c") == {"already_cancelled": True}


def test_adapter_refunded_units_from_returns(tiktok, live_server):
    published(tiktok.publish_batch([variant(live_server, "M")]), [variant(live_server, "M")])
    order_id = place_order(live_server, [{"item_id": "SHIRT-M", "quantity": 2}])
    unit = tiktok.order_detail([order_id])[0]["line_items"][0]["id"]
    record_return(SandboxAccount.objects.get(key=KEY), SandboxOrder.objects.get(order_id=order_id), [unit])
    order = tiktok.normalize_order(tiktok.order_detail([order_id])[0])
    assert order.lines[0].quantity == 2 and order.lines[0].quantity_refunded == 1
    assert order.lifecycle == "partially_refunded"


# --- Webhooks ----------------------------------------------------------------------------------------------


def notify(client, account, body: dict):
    raw = json.dumps(body).encode()
    signature = webhook_signature(app_key=KEY, app_secret=SECRET, raw_body=raw)
    return client.post(
        f"/webhooks/tiktok_shop/{account.webhook_key}/",
        raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=signature,
    )


def test_webhook_types(shop_a):
    adapter = TikTokShopAdapter(credentials=TIKTOK_CREDENTIALS)
    order = adapter.parse_webhook(
        json.dumps({"type": 1, "tts_notification_id": "n1", "data": {"order_id": "576"}}).encode()
    )
    assert order.is_order and order.order_id == "576" and order.event_id == "n1"
    reverse = adapter.parse_webhook(
        json.dumps({"type": 2, "tts_notification_id": "n2", "data": {"order_id": "577"}}).encode()
    )
    assert reverse.is_order and reverse.order_ids == ["577"] and not reverse.needs_reconnect
    returned = adapter.parse_webhook(
        json.dumps({"type": 12, "tts_notification_id": "n3", "data": {"order_id": "578"}}).encode()
    )
    assert returned.is_order
    product = adapter.parse_webhook(
        json.dumps({"type": 5, "tts_notification_id": "n4", "data": {"product_id": "1"}}).encode()
    )
    assert not product.is_order and not product.needs_reconnect
    for kind in (6, 7):
        data = {"message": "x", "expiration_time": "1627587506"}
        event = adapter.parse_webhook(
            json.dumps({"type": kind, "tts_notification_id": f"a{kind}", "data": data}).encode()
        )
        assert event.needs_reconnect and event.account_message and not event.is_order
    raw = json.dumps({"type": 1, "data": {"order_id": "579"}}).encode()
    assert adapter.parse_webhook(raw).event_id == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_webhook_deauthorisation_marks_the_account(client, shop_a):
    from channels.services import webhook_event_process

    account = make_account(shop_a, "tiktok_shop")
    body = {
        "type": 6,
        "tts_notification_id": "7327112393057371910",
        "shop_id": "7494049642642441621",
        "timestamp": 1644412885,
        "data": {"message": "Shop_id {xxx} is deauthorized from your APP by merchant."},
    }
    assert notify(client, account, body).status_code == 200
    no_id = {
        "type": 1,
        "shop_id": "1",
        "timestamp": 1,
        "data": {"order_id": "576", "order_status": "AWAITING_SHIPMENT"},
    }
    first, again = notify(client, account, no_id), notify(client, account, no_id)
    assert first.status_code == again.status_code == 200 and again.json()["duplicate"] is True
    with shop_context(shop_a):
        event = WebhookEvent.objects.get(provider_event_id="7327112393057371910")
        assert webhook_event_process(event=event).status == WebhookEvent.Status.PROCESSED
        account.refresh_from_db()
        assert account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
        assert "Authorise it again" in account.connection_message
        assert AuditLogEntry.objects.filter(action="channel_account.needs_reconnect").count() == 1
        assert WebhookEvent.objects.filter(provider_event_id__startswith="sha256:").count() == 1


# --- Reference data cached per account ----------------------------------------------------------------------


def test_reference_data_is_cached_per_account_and_refreshed(live_server, base, shop_a, shop_b):
    from channels.adapters import adapter_for
    from channels.references import read, refresh, set_category_mapping

    account = make_account(shop_a, "tiktok_shop", api_base_url=base)
    other = make_account(shop_b, "tiktok_shop", api_base_url=base)
    with shop_context(shop_a):
        adapter = adapter_for(account)
        [result] = adapter.publish_batch([variant(live_server, "M")])
        assert result.ok
        kinds = {k.split(":")[0] for k in ChannelReference.objects.values_list("kind", flat=True)}
        assert {"warehouses", "image", "brand", "category_recommendation"} <= kinds
        assert read(account, "warehouses")[0]["id"] == WAREHOUSE
        sizes = refresh(account)
        assert sizes["warehouses"] == 2 and sizes["categories"] > 0
        assert set_category_mapping(account, {"212": "601226"}) == {"212": "601226"}
        with pytest.raises(ValueError):
            set_category_mapping(account, {"212": NOT_LEAF})
        adapter.close()
    with shop_context(shop_b):
        assert not ChannelReference.objects.exists()  # another shop sees none of it
        assert read(other, "warehouses") is None
    # The task refreshes one account, in its own shop's context.
    from channels.tasks import references_refresh_task

    assert references_refresh_task.apply(args=(shop_b.pk, other.pk)).get()["warehouses"] == 2
    assert references_refresh_task.apply(args=(shop_b.pk, account.pk)).get() == {}  # not shop B's account
    with shop_context(shop_b):
        assert set(ChannelReference.objects.values_list("kind", flat=True)) == {"warehouses", "categories"}


def test_api_version_comes_from_settings(tiktok, base, settings):
    settings.TIKTOK_SHOP_API_VERSION = "202312"
    assert tiktok.fetch_warehouses()[0]["id"] == WAREHOUSE
    assert tiktok.calls == ["GET /logistics/202312/warehouses"]
    assert call(base, "GET", f"/logistics/{V}/warehouses")["code"] == 36009009  # not the version in use


def test_adapter_uploads_again_an_image_tiktok_no_longer_knows_and_deletes_what_is_gone(tiktok, live_server):
    medium = variant(live_server, "M")
    tiktok.references.put(reference_kind("image", medium.image_link), "tos-sandbox-i-0000000000000000/" + "0" * 32)
    [result] = tiktok.publish_batch([medium])
    assert result.ok and tiktok.calls.count(f"POST /product/{V}/images/upload") == 1
    gone = variant(live_server, "L", channel_item_id="1729000000000000123", channel_sku_id="1")
    [removed] = tiktok.delete_items([gone])
    assert removed.ok  # TikTok has no such product: nothing left to remove


# --- Through plan and apply -------------------------------------------------------------------------------


def test_plan_and_apply_publish_each_product_once_with_its_skus(live_server, base, shop_a):
    from catalog.models import Product, ProductMedia, ProductVariant
    from channels.models import ChannelListing
    from channels.publishing import publish_batch_run, publish_plan_apply, publish_plan_create
    from channels.tests.listing_fixtures import seeded_account
    from localization.pricing import market_prices_recompute

    account = seeded_account(shop_a, variants=12, channel="tiktok_shop", api_base_url=base)
    with shop_context(shop_a):
        # Images TikTok can download (the seeded ones are elsewhere on the internet).
        ProductMedia.objects.update(url=f"{live_server.url}/sandbox/_images/800x1000.png")
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        for batch in plan.batches.order_by("number"):
            publish_batch_run(batch_id=batch.pk)
        listings = list(ChannelListing.objects.filter(account=account))
        problems = [(x.item_id, x.errors) for x in listings if x.status != "published"]
        assert not problems, problems
        products = {x.channel_item_id for x in listings}
        assert len(products) == Product.objects.filter(variants__isnull=False).distinct().count()
        assert len({x.channel_sku_id for x in listings}) == len(listings) and all(x.channel_sku_id for x in listings)
    rows = SandboxItem.objects.filter(account__key=KEY)
    assert {r.product_id for r in rows} == products and rows.count() == len(listings)
    # A price change of one variant goes out as a price update of its SKU, nothing else.
    with shop_context(shop_a):
        listing = listings[0]
        variant = ProductVariant.objects.get(pk=listing.variant_id)
        variant.price = variant.price + type(variant.price)(1, variant.price.currency)
        variant.save()
        market_prices_recompute(shop_id=shop_a.pk)
        plan = publish_plan_create(account=account)
        assert (plan.creates, plan.updates, plan.deletes) == (0, 1, 0)
        publish_plan_apply(plan=plan)
        for batch in plan.batches.order_by("number"):
            publish_batch_run(batch_id=batch.pk)
        listing.refresh_from_db()
        assert listing.status == "published"
    row = SandboxItem.objects.get(account__key=KEY, sku_id=listing.channel_sku_id)
    assert row.updates == 2 and row.data["skus"][0]["price"]["amount"] != "0"


def test_adapter_reads_orders_50_ids_a_call(tiktok, base):
    ids = _sandbox_orders(51)
    found = tiktok.order_detail(ids)
    assert sorted(o["id"] for o in found) == sorted(ids)
    assert tiktok.calls.count(f"GET /order/{V}/orders") == 2
