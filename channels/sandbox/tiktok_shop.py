"""TikTok Shop's Open API (202309), simulated: signed requests, products, orders, fulfilment."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import time
import uuid

from django.db.models import Q
from django.http import JsonResponse
from django.urls import path, re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.adapters.tiktok_shop import sign as tiktok_sign
from channels.adapters.tiktok_shop import webhook_signature as tiktok_webhook_signature
from channels.sandbox.common import json_body, token_ok
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxItem, SandboxOrder
from channels.sandbox.validation import error

TIKTOK_TIMESTAMP_WINDOW = 300  # seconds either side of now
TIKTOK_PREFIX = "/sandbox/tiktok"
# Sandbox envelope codes (TikTok answers code != 0 with HTTP 200 for request errors).
TIKTOK_SIGN_INVALID = 106001
TIKTOK_TIMESTAMP_EXPIRED = 106002
TIKTOK_AUTH_INVALID = 105002
TIKTOK_INVALID_PARAM = 12052700
TIKTOK_NOT_FOUND = 12052048


def tiktok_product(body: dict) -> list[dict]:
    errors = []
    if not body.get("title"):
        errors.append(error("title", "title is required"))
    elif len(body["title"]) > 255:
        errors.append(error("title", "title is longer than 255 characters"))
    if not body.get("description"):
        errors.append(error("description", "description is required"))
    if not body.get("main_images"):
        errors.append(error("main_images", "at least one main image is required"))
    skus = body.get("skus") or []
    if not skus:
        errors.append(error("skus", "at least one SKU is required"))
    for index, sku in enumerate(skus):
        price = (sku.get("price") or {}).get("amount")
        if not sku.get("seller_sku"):
            errors.append(error(f"skus.{index}.seller_sku", "seller_sku is required"))
        if not price or not re.fullmatch(r"\d+(\.\d{1,3})?", str(price)):
            errors.append(error(f"skus.{index}.price.amount", "price amount must be a decimal string"))
    return errors


def _tiktok(code: int, message: str, data=None, status: int = 200):
    return JsonResponse({"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": data}, status=status)


def _tiktok_account(request):
    """Check app key, timestamp and sign as TikTok does; returns (account, error_response)."""
    params = {k: v for k, v in request.GET.items()}
    account = (
        SandboxAccount.objects.select_for_update().filter(channel="tiktok_shop", key=params.get("app_key", "")).first()
    )
    if account is None:
        return None, _tiktok(TIKTOK_AUTH_INVALID, "Invalid app_key")
    timestamp = params.get("timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TIKTOK_TIMESTAMP_WINDOW:
        return None, _tiktok(TIKTOK_TIMESTAMP_EXPIRED, "Invalid timestamp: it is outside the allowed window")
    path = request.path.removeprefix(TIKTOK_PREFIX)
    expected = tiktok_sign(secret=account.secret, path=path, params=params, body=request.body)
    if not secrets.compare_digest(expected.encode(), params.get("sign", "").encode()):
        return None, _tiktok(TIKTOK_SIGN_INVALID, "Invalid sign")
    if not token_ok(account, request.headers.get("x-tts-access-token", "")):
        return None, _tiktok(TIKTOK_AUTH_INVALID, "Invalid access token", status=401)
    if account.shop_cipher and params.get("shop_cipher") != account.shop_cipher:
        return None, _tiktok(TIKTOK_AUTH_INVALID, "Invalid shop_cipher")
    fault = inject(account, request)
    if fault is not None:
        return None, fault
    return account, None


def _tiktok_upsert(account, body: dict, product_id: str | None):
    problems = tiktok_product(body)
    sku_ids = [s.get("seller_sku", "") for s in body.get("skus") or []]
    if not problems and any(rejected(account, sku) for sku in sku_ids):
        problems = [{"field": "main_images", "message": "Image could not be downloaded (sandbox rejection)"}]
    if problems:
        return _tiktok(TIKTOK_INVALID_PARAM, "; ".join(f"{p['field']}: {p['message']}" for p in problems))
    if product_id:
        if not SandboxItem.objects.filter(account=account, product_id=product_id).exists():
            return _tiktok(TIKTOK_NOT_FOUND, "Product not found")
    else:
        # Idempotent create per external_product_id, so a retried create does not duplicate;
        # the variants of one product (one external id) share its product id.
        external = body.get("external_product_id") or sku_ids[0]
        existing = (
            SandboxItem.objects.filter(account=account)
            .filter(Q(item_id__in=sku_ids) | Q(data__external_product_id=external))
            .exclude(product_id="")
            .first()
        )
        product_id = existing.product_id if existing else str(1729000000000000000 + SandboxItem.objects.count() + 1)
    # One item per seller SKU (what TikTok sells and names in an order's line items), so the
    # orders the sandbox places carry SKUs the seller can match.
    for sku in sku_ids:
        item, created = SandboxItem.objects.get_or_create(
            account=account, item_id=sku, defaults={"product_id": product_id, "data": body}
        )
        if not created:
            item.product_id, item.data, item.active = product_id, body, True
            item.updates, item.updated_at = item.updates + 1, timezone.now()
            item.save()
    skus = [{"id": f"{product_id}{i:02d}", "seller_sku": sku} for i, sku in enumerate(sku_ids)]
    return _tiktok(0, "Success", {"product_id": product_id, "skus": skus, "warnings": []})


@csrf_exempt
@require_http_methods(["POST"])
def tiktok_products(request):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    body = json_body(request)
    if body is None:
        return _tiktok(TIKTOK_INVALID_PARAM, "Invalid JSON body")
    return _tiktok_upsert(account, body, None)


@csrf_exempt
@require_http_methods(["PUT"])
def tiktok_product_edit(request, product_id: str):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    body = json_body(request)
    if body is None:
        return _tiktok(TIKTOK_INVALID_PARAM, "Invalid JSON body")
    return _tiktok_upsert(account, body, product_id)


@csrf_exempt
@require_http_methods(["POST"])
def tiktok_product_skus_update(request, product_id: str, what: str):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    item = SandboxItem.objects.filter(account=account, product_id=product_id).first()
    if item is None:
        return _tiktok(TIKTOK_NOT_FOUND, "Product not found")
    body = json_body(request) or {}
    skus = body.get("skus") or []
    if not skus:
        return _tiktok(TIKTOK_INVALID_PARAM, "skus is required")
    field = "price" if what == "prices" else "inventory"
    item.data = {**item.data, f"last_{field}": skus}
    item.updates += 1
    item.save(update_fields=["data", "updates"])
    return _tiktok(0, "Success", {})


@csrf_exempt
@require_http_methods(["POST"])
def tiktok_products_deactivate(request):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    ids = (json_body(request) or {}).get("product_ids") or []
    if not ids:
        return _tiktok(TIKTOK_INVALID_PARAM, "product_ids is required")
    found = set(SandboxItem.objects.filter(account=account, product_id__in=ids).values_list("product_id", flat=True))
    SandboxItem.objects.filter(account=account, product_id__in=found).update(active=False)
    errors = [
        {"code": TIKTOK_NOT_FOUND, "message": "Product not found", "detail": {"product_id": i}}
        for i in ids
        if i not in found
    ]
    return _tiktok(0, "Success", {"errors": errors})


def _tiktok_order(order: SandboxOrder) -> dict:
    return {
        "id": order.order_id,
        "status": order.status,
        "create_time": int(order.created_at.timestamp()),
        "update_time": int(order.updated_at.timestamp()),
        "line_items": [
            {
                "id": f"{order.order_id}-{n}-{unit}",
                "seller_sku": line["item_id"],
                "product_id": line.get("product_id", ""),
                "sale_price": line["price"],
                "currency": order.currency,
            }
            for n, line in enumerate(order.lines)
            for unit in range(int(line["quantity"]))
        ],
        "payment": {"total_amount": order.total, "currency": order.currency},
    }


@csrf_exempt
@require_http_methods(["POST"])
def tiktok_orders_search(request):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    page_size = request.GET.get("page_size", "")
    if not page_size.isdigit() or not 1 <= int(page_size) <= 100:
        return _tiktok(TIKTOK_INVALID_PARAM, "page_size must be between 1 and 100")
    body = json_body(request) or {}
    orders = account.orders.order_by("created_at", "id")
    if body.get("update_time_ge"):
        orders = orders.filter(updated_at__gte=dt.datetime.fromtimestamp(int(body["update_time_ge"]), tz=dt.UTC))
    offset = int(request.GET["page_token"]) if request.GET.get("page_token", "").isdigit() else 0
    size = int(page_size)
    page = list(orders[offset : offset + size + 1])
    data = {
        "orders": [_tiktok_order(o) for o in page[:size]],
        "next_page_token": str(offset + size) if len(page) > size else "",
        "total_count": orders.count(),
    }
    return _tiktok(0, "Success", data)


@require_http_methods(["GET"])
def tiktok_orders_detail(request):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    ids = [i for i in request.GET.get("ids", "").split(",") if i]
    if not ids or len(ids) > 50:
        return _tiktok(TIKTOK_INVALID_PARAM, "ids: between 1 and 50 order ids")
    orders = account.orders.filter(order_id__in=ids)
    return _tiktok(0, "Success", {"orders": [_tiktok_order(o) for o in orders]})


def _tiktok_order_for(account, order_id: str):
    return account.orders.select_for_update().filter(order_id=order_id).first()


@csrf_exempt
@require_http_methods(["POST"])
def tiktok_ship_packages(request, order_id: str):
    """Mark as shipped (seller shipping): `POST /fulfillment/202309/orders/{id}/packages` with
    the line items shipped, the tracking number and the shipping provider. TikTok keys the
    package by order and tracking number, so the same call again ships nothing more."""
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    order = _tiktok_order_for(account, order_id)
    if order is None:
        return _tiktok(TIKTOK_NOT_FOUND, "Order not found")
    body = json_body(request)
    if body is None:
        return _tiktok(TIKTOK_INVALID_PARAM, "Invalid JSON body")
    line_ids = body.get("order_line_item_ids") or []
    if not line_ids or not body.get("tracking_number") or not body.get("shipping_provider_id"):
        return _tiktok(
            TIKTOK_INVALID_PARAM, "order_line_item_ids, tracking_number and shipping_provider_id are required"
        )
    if order.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
        return _tiktok(TIKTOK_INVALID_PARAM, f"Order status {order.status} does not allow shipping")
    # A line item is named by its id or, as a seller that groups units does, by its seller SKU.
    units = _tiktok_order(order)["line_items"]
    known = {u["id"] for u in units} | {u["seller_sku"] for u in units}
    unknown = [i for i in line_ids if i not in known]
    if unknown:
        return _tiktok(TIKTOK_INVALID_PARAM, f"order_line_item_ids: {unknown[0]} is not in this order")
    tracking = body["tracking_number"]
    package_id = str(int(hashlib.sha256(f"{order_id}:{tracking}".encode()).hexdigest()[:15], 16))
    if not any(r.get("kind") == "package" and r.get("tracking_number") == tracking for r in order.received):
        order.received = [
            *order.received,
            {"kind": "package", "tracking_number": tracking, "package_id": package_id, "body": body},
        ]
        shipped = {i for r in order.received if r["kind"] == "package" for i in r["body"]["order_line_item_ids"]}
        every = all(u["id"] in shipped or u["seller_sku"] in shipped for u in units)
        order.status = "IN_TRANSIT" if every else "PARTIALLY_SHIPPING"
        order.updated_at = timezone.now()
        order.save()
    return _tiktok(0, "Success", {"package_id": package_id})


@csrf_exempt
@require_http_methods(["POST"])
def tiktok_cancellations(request):
    """Seller cancellation: `POST /return_refund/202309/cancellations` with order id and reason."""
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    body = json_body(request)
    if body is None or not body.get("order_id"):
        return _tiktok(TIKTOK_INVALID_PARAM, "order_id is required")
    order = _tiktok_order_for(account, str(body["order_id"]))
    if order is None:
        return _tiktok(TIKTOK_NOT_FOUND, "Order not found")
    if order.status not in ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "CANCELLED"):
        return _tiktok(TIKTOK_INVALID_PARAM, f"Order status {order.status} does not allow cancellation")
    cancel_id = str(int(hashlib.sha256(f"cancel:{order.order_id}".encode()).hexdigest()[:15], 16))
    if order.status != "CANCELLED":
        order.received = [*order.received, {"kind": "cancellation", "cancel_id": cancel_id, "body": body}]
        order.status, order.updated_at = "CANCELLED", timezone.now()
        order.save()
    return _tiktok(0, "Success", {"cancel_id": cancel_id, "cancel_status": "CANCELLATION_REQUEST_COMPLETE"})


# --- Orders placed through the control endpoint ------------------------------------------------

NEW_ORDER_STATUS = "AWAITING_SHIPMENT"


def order_line_price(item: SandboxItem) -> tuple[str, str]:
    skus = item.data.get("skus") or [{}]
    sku = next((s for s in skus if s.get("seller_sku") == item.item_id), skus[0])
    price = sku.get("price") or {}
    return price.get("amount", "0"), price.get("currency", "USD")


def order_webhook(account: SandboxAccount, order: SandboxOrder) -> tuple[bytes, dict]:
    """An order status change notification (type 1), signed as TikTok signs webhooks."""
    now = int(time.time())
    body = {
        "type": 1,
        "tts_notification_id": uuid.uuid4().hex,
        "shop_id": account.shop_cipher or account.key,
        "timestamp": now,
        "data": {"order_id": order.order_id, "order_status": order.status, "update_time": now},
    }
    raw = json.dumps(body).encode()
    return raw, {
        "Authorization": tiktok_webhook_signature(app_key=account.key, app_secret=account.secret, raw_body=raw)
    }


# Base URL …/sandbox/tiktok stands for https://open-api.tiktokglobalshop.com.
urlpatterns = [
    path("product/202309/products", tiktok_products),
    path("product/202309/products/deactivate", tiktok_products_deactivate),
    path("product/202309/products/<str:product_id>", tiktok_product_edit),
    re_path(
        r"^product/202309/products/(?P<product_id>[^/]+)/(?P<what>prices|inventory)/update$",
        tiktok_product_skus_update,
    ),
    path("order/202309/orders/search", tiktok_orders_search),
    path("order/202309/orders", tiktok_orders_detail),
    path("fulfillment/202309/orders/<str:order_id>/packages", tiktok_ship_packages),
    path("return_refund/202309/cancellations", tiktok_cancellations),
]
