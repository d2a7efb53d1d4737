"""The channel simulators over HTTP: same paths, envelopes, signatures and limits as the real APIs.

Mounted at /sandbox/ (only with SANDBOX_ENABLED): Meta at /sandbox/meta/ (in place of
https://graph.facebook.com/v21.0), TikTok Shop at /sandbox/tiktok/ (in place of
https://open-api.tiktokglobalshop.com), Pinterest at /sandbox/pinterest/ (in place of
https://api.pinterest.com), and the control endpoint at /sandbox/_control/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
import uuid
from decimal import Decimal

import httpx
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.adapters.base import hmac_sha256_hex
from channels.adapters.tiktok_shop import sign as tiktok_sign
from channels.adapters.tiktok_shop import webhook_signature as tiktok_webhook_signature
from channels.sandbox import validation
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxBatch, SandboxItem, SandboxOrder

META_MAX_REQUESTS = 5000
META_MAX_LOCALIZED = 1000  # localized_items_batch, as the batch guide states
PINTEREST_MAX_ITEMS = 1000
TIKTOK_TIMESTAMP_WINDOW = 300  # seconds either side of now
TIKTOK_PREFIX = "/sandbox/tiktok"
# Sandbox envelope codes (TikTok answers code != 0 with HTTP 200 for request errors).
TIKTOK_SIGN_INVALID = 106001
TIKTOK_TIMESTAMP_EXPIRED = 106002
TIKTOK_AUTH_INVALID = 105002
TIKTOK_INVALID_PARAM = 12052700
TIKTOK_NOT_FOUND = 12052048


def _json_body(request):
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        return None


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    return (
        header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.GET.get("access_token", "")
    )


def _token_ok(account: SandboxAccount, token: str) -> bool:
    return bool(token) and secrets.compare_digest(account.access_token.encode(), token.encode())


# --- Meta -----------------------------------------------------------------------------------


def _meta_error(message: str, code: int, status: int = 400, subcode: int | None = None):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": uuid.uuid4().hex[:16]}
    if subcode:
        error["error_subcode"] = subcode
    return JsonResponse({"error": error}, status=status)


def _meta_account(request, **lookup):
    account = SandboxAccount.objects.select_for_update().filter(channel="meta", **lookup).first()
    if account is None:
        return None, _meta_error("Unsupported request: object does not exist or missing permissions.", 100, subcode=33)
    if not _token_ok(account, _bearer(request)):
        return None, _meta_error("Invalid OAuth access token.", 190, status=401)
    return account, inject(account, request)


def _meta_apply_localized(account: SandboxAccount, batch: SandboxBatch) -> None:
    """Overrides of existing items, checked as Meta does: the item must exist, prices and
    availability only in a country override, a language override only texts."""
    errors = []
    for line, request in enumerate(batch.requests):
        data = dict(request.get("data") or {})
        item_id = str(data.pop("id", ""))
        localization = request.get("localization") or {}
        key = f"{localization.get('type')}:{localization.get('value')}"
        item = SandboxItem.objects.filter(account=account, item_id=item_id, active=True).first()
        if item is None:
            errors.append({"line": line, "id": item_id, "message": "Catalog item does not exist"})
            continue
        problems = validation.meta_override(localization, data)
        if request.get("method") == "UPDATE" and key not in item.overrides:
            problems.append({"field": "localization", "message": f"No override {key} to update"})
        if problems:
            errors.extend({"line": line, "id": item_id, **p} for p in problems)
            continue
        if request.get("method") == "DELETE":
            item.overrides.pop(key, None)
        else:
            item.overrides[key] = data
        item.updated_at = timezone.now()
        item.save(update_fields=["overrides", "updated_at"])
    batch.status = "finished"
    batch.results = {"errors": errors, "warnings": []}
    batch.save()


@csrf_exempt
@require_http_methods(["POST"])
def meta_localized_items_batch(request, catalog_id: str):
    def check(index, r):
        localization = r.get("localization")
        if not isinstance(localization, dict) or localization.get("type") not in validation.META_LOCALIZATION_TYPES:
            return f"(#100) requests[{index}].localization needs a type and a value"
        return None

    return _meta_batch(request, catalog_id, operation="localized_items_batch", limit=META_MAX_LOCALIZED, check=check)


def _meta_apply(account: SandboxAccount, batch: SandboxBatch) -> None:
    if batch.operation == "localized_items_batch":
        _meta_apply_localized(account, batch)
        return
    errors, warnings = [], []
    for line, request in enumerate(batch.requests):
        method = request.get("method")
        data = request.get("data") or {}
        item_id = str(data.get("id", ""))
        if method == "DELETE":
            if not item_id:
                errors.append({"line": line, "id": "", "message": "Missing required field: id"})
                continue
            SandboxItem.objects.filter(account=account, item_id=item_id).update(active=False, updated_at=timezone.now())
            continue
        problems = validation.meta_item(data)
        if not problems and rejected(account, item_id):
            problems = [{"field": "image_link", "message": "Image could not be downloaded (sandbox rejection)"}]
        if problems:
            errors.extend({"line": line, "id": item_id, **p} for p in problems)
            continue
        if not data.get("google_product_category"):
            warnings.append(
                {
                    "line": line,
                    "id": item_id,
                    "field": "google_product_category",
                    "message": "Add a category to improve delivery",
                }
            )
        item, created = SandboxItem.objects.get_or_create(account=account, item_id=item_id, defaults={"data": data})
        if not created:
            item.data, item.active, item.updates, item.updated_at = data, True, item.updates + 1, timezone.now()
            item.save()
    batch.status = "finished"
    batch.results = {"errors": errors, "warnings": warnings}
    batch.save()


@csrf_exempt
@require_http_methods(["POST"])
def meta_items_batch(request, catalog_id: str):
    return _meta_batch(request, catalog_id, operation="items_batch", limit=META_MAX_REQUESTS)


def _meta_batch(request, catalog_id: str, *, operation: str, limit: int, check=None):
    """`items_batch` and `localized_items_batch`: the same envelope, limits and immediate checks;
    the items are applied when the batch is polled."""
    account, fault = _meta_account(request, key=catalog_id)
    if account is None or fault is not None:
        return fault
    body = _json_body(request)
    if body is None:
        return _meta_error("Invalid JSON body.", 100)
    requests = body.get("requests")
    if isinstance(requests, str):
        requests = json.loads(requests)
    if body.get("item_type") != "PRODUCT_ITEM":
        return _meta_error("(#100) Param item_type must be one of {PRODUCT_ITEM, ...}", 100)
    if not isinstance(requests, list) or not requests:
        return _meta_error("(#100) The parameter requests is required", 100)
    if len(requests) > limit:
        kind = "localized requests" if operation == "localized_items_batch" else "requests"
        return _meta_error(f"(#100) requests: at most {limit} {kind} per batch; got {len(requests)}", 100)
    for index, r in enumerate(requests):
        if r.get("method") not in ("CREATE", "UPDATE", "DELETE"):
            return _meta_error(f"(#100) requests[{index}].method must be CREATE, UPDATE or DELETE", 100)
        problem = check(index, r) if check else None
        if problem:
            return _meta_error(problem, 100)
    batch = SandboxBatch.objects.create(
        account=account,
        handle=uuid.uuid4().hex,
        operation=operation,
        requests=requests,
        polls_left=int((account.faults or {}).get("processing_polls", 0)),
    )
    # Immediate, shallow checks as Meta's `validation_status`; the rest on processing.
    validation_status = [
        {"retailer_id": str((r.get("data") or {}).get("id", "")), "errors": [{"message": "Missing required field: id"}]}
        for r in requests
        if not (r.get("data") or {}).get("id")
    ]
    return JsonResponse({"handles": [batch.handle], "validation_status": validation_status})


@require_http_methods(["GET"])
def meta_check_batch_status(request, catalog_id: str):
    account, fault = _meta_account(request, key=catalog_id)
    if account is None or fault is not None:
        return fault
    batch = (
        SandboxBatch.objects.select_for_update().filter(account=account, handle=request.GET.get("handle", "")).first()
    )
    if batch is None:
        return _meta_error("(#100) Invalid handle", 100)
    if batch.status != "finished":
        if batch.polls_left > 0:
            batch.polls_left -= 1
            batch.save(update_fields=["polls_left"])
            return JsonResponse({"data": [{"handle": batch.handle, "status": "in_progress"}]})
        _meta_apply(account, batch)
    errors, warnings = batch.results.get("errors", []), batch.results.get("warnings", [])
    entry = {
        "handle": batch.handle,
        "status": "finished",
        "errors_total_count": len(errors),
        "errors": errors,
        "warnings_total_count": len(warnings),
        "warnings": warnings,
        "ids_of_invalid_requests": sorted({e["id"] for e in errors}),
    }
    return JsonResponse({"data": [entry]})


def _meta_order(order: SandboxOrder) -> dict:
    return {
        "id": order.order_id,
        "order_status": {"state": order.status},
        "created": order.created_at.isoformat(),
        "last_updated": order.updated_at.isoformat(),
        "channel": "facebook",
        "merchant_order_id": order.merchant_order_reference or None,
        "items": {
            "data": [
                {
                    "retailer_id": line["item_id"],
                    "quantity": line["quantity"],
                    "price_per_unit": {"amount": line["price"], "currency": order.currency},
                }
                for line in order.lines
            ]
        },
        "estimated_payment_details": {"total_amount": {"amount": order.total, "currency": order.currency}},
    }


@require_http_methods(["GET"])
def meta_commerce_orders(request, cms_id: str):
    account, fault = _meta_account(request, commerce_account_id=cms_id)
    if account is None or fault is not None:
        return fault
    orders = account.orders.order_by("created_at", "id")
    states = [s for s in request.GET.get("state", "").split(",") if s]
    if states:
        orders = orders.filter(status__in=states)
    if request.GET.get("updated_after", "").isdigit():
        orders = orders.filter(updated_at__gt=dt.datetime.fromtimestamp(int(request.GET["updated_after"]), tz=dt.UTC))
    offset = int(request.GET["after"]) if request.GET.get("after", "").isdigit() else 0
    limit = min(int(request.GET.get("limit", 25) or 25), 100)
    page = list(orders[offset : offset + limit + 1])
    body = {
        "data": [_meta_order(o) for o in page[:limit]],
        "paging": {"cursors": {"before": str(offset), "after": str(offset + limit)}},
    }
    if len(page) > limit:
        body["paging"]["next"] = request.build_absolute_uri(f"?after={offset + limit}")
    return JsonResponse(body)


def _meta_order_for(request, order_id: str):
    """(order, account, error): the Meta order an `/{order_id}/…` call names, checked as Meta does."""
    order = (
        SandboxOrder.objects.select_for_update()
        .select_related("account")
        .filter(order_id=order_id, account__channel="meta")
        .first()
    )
    if order is None:
        return None, None, _meta_error("Unsupported request. Object does not exist.", 100, subcode=33)
    account, fault = _meta_account(request, pk=order.account_id)
    if account is None or fault is not None:
        return None, None, fault
    return order, account, None


# The fields Meta returns when `fields` is not given (Order API reference).
META_DEFAULT_ORDER_FIELDS = ("id", "order_status", "created", "last_updated")


@require_http_methods(["GET"])
def meta_order(request, order_id: str):
    """`GET /{order_id}?fields=…`: one order; only the default fields unless others are named."""
    order, _account, error = _meta_order_for(request, order_id)
    if error is not None:
        return error
    full = _meta_order(order)
    wanted = [f.split("{")[0].strip() for f in _top_level_fields(request.GET.get("fields", ""))]
    names = [f for f in wanted if f] or list(META_DEFAULT_ORDER_FIELDS)
    return JsonResponse({"id": full["id"], **{name: full[name] for name in names if name in full}})


def _top_level_fields(spec: str) -> list[str]:
    """Split a Graph API `fields` value on the commas outside `{…}` (nested field lists)."""
    fields, depth, current = [], 0, ""
    for char in spec.strip('"'):
        if char == "," and depth == 0:
            fields.append(current)
            current = ""
            continue
        depth += (char == "{") - (char == "}")
        current += char
    return [*fields, current]


def _meta_seen(order: SandboxOrder, kind: str, body: dict) -> bool:
    key = body.get("idempotency_key", "")
    return any(r.get("kind") == kind and r.get("idempotency_key") == key for r in order.received)


def _meta_received(order: SandboxOrder, kind: str, body: dict) -> bool:
    """Store a shipment or cancellation once per idempotency key; True when it is new."""
    if _meta_seen(order, kind, body):
        return False
    key = body.get("idempotency_key", "")
    order.received = [*order.received, {"kind": kind, "idempotency_key": key, "body": body}]
    order.updated_at = timezone.now()
    return True


@csrf_exempt
@require_http_methods(["POST"])
def meta_shipments(request, order_id: str):
    """`POST /{order_id}/shipments`: items by retailer id and quantity, tracking info, idempotency key."""
    order, _account, error = _meta_order_for(request, order_id)
    if error is not None:
        return error
    body = _json_body(request)
    if body is None:
        return _meta_error("Invalid JSON body.", 100)
    if not body.get("idempotency_key"):
        return _meta_error("(#100) The parameter idempotency_key is required", 100)
    items, tracking = body.get("items"), body.get("tracking_info") or {}
    if not isinstance(items, list) or not items:
        return _meta_error("(#100) The parameter items is required", 100)
    if not tracking.get("tracking_number") or not tracking.get("carrier"):
        return _meta_error("(#100) tracking_info needs a carrier and a tracking_number", 100)
    if _meta_seen(order, "shipment", body):
        return JsonResponse({"success": True})  # the same request again: already shipped
    if order.status not in ("CREATED", "IN_PROGRESS"):
        return _meta_error(f"(#100) Order is {order.status}; it cannot be shipped", 100)
    ordered = {line["item_id"]: int(line["quantity"]) for line in order.lines}
    unknown = [i.get("retailer_id") for i in items if i.get("retailer_id") not in ordered]
    if unknown:
        return _meta_error(f"(#100) items: {unknown[0]} is not part of this order", 100)
    if _meta_received(order, "shipment", body):
        shipped: dict[str, int] = {}
        for entry in order.received:
            if entry["kind"] == "shipment":
                for i in entry["body"]["items"]:
                    shipped[i["retailer_id"]] = shipped.get(i["retailer_id"], 0) + int(i.get("quantity") or 0)
        if all(shipped.get(item, 0) >= quantity for item, quantity in ordered.items()):
            order.status = "COMPLETED"
        order.save()
    return JsonResponse({"success": True})


@csrf_exempt
@require_http_methods(["POST"])
def meta_cancellations(request, order_id: str):
    """`POST /{order_id}/cancellations`: cancel_reason, restock_items, idempotency key."""
    order, _account, error = _meta_order_for(request, order_id)
    if error is not None:
        return error
    body = _json_body(request)
    if body is None:
        return _meta_error("Invalid JSON body.", 100)
    if not body.get("idempotency_key"):
        return _meta_error("(#100) The parameter idempotency_key is required", 100)
    if order.status == "COMPLETED" and not _meta_seen(order, "cancellation", body):
        return _meta_error("(#100) Order is COMPLETED; it cannot be cancelled", 100)
    if _meta_received(order, "cancellation", body):
        order.save()
    return JsonResponse({"success": True})


@csrf_exempt
@require_http_methods(["POST"])
def meta_acknowledge_order(request, order_id: str):
    order = (
        SandboxOrder.objects.select_for_update()
        .select_related("account")
        .filter(order_id=order_id, account__channel="meta")
        .first()
    )
    if order is None:
        return _meta_error("Unsupported post request. Object does not exist.", 100, subcode=33)
    account, fault = _meta_account(request, pk=order.account_id)
    if account is None or fault is not None:
        return fault
    body = _json_body(request) or {}
    reference, key = body.get("merchant_order_reference", ""), body.get("idempotency_key", "")
    if not key:
        return _meta_error("(#100) The parameter idempotency_key is required", 100)
    if order.acknowledge_key and order.acknowledge_key != key:
        return _meta_error("(#100) Order is not in CREATED state", 100)
    if order.status == "CREATED":
        order.status, order.merchant_order_reference, order.acknowledge_key = "IN_PROGRESS", reference, key
        order.updated_at = timezone.now()
        order.save()
    return JsonResponse({"id": order.order_id, "state": order.status, "success": True})


# --- TikTok Shop ---------------------------------------------------------------------------------


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
    if not _token_ok(account, request.headers.get("x-tts-access-token", "")):
        return None, _tiktok(TIKTOK_AUTH_INVALID, "Invalid access token", status=401)
    if account.shop_cipher and params.get("shop_cipher") != account.shop_cipher:
        return None, _tiktok(TIKTOK_AUTH_INVALID, "Invalid shop_cipher")
    fault = inject(account, request)
    if fault is not None:
        return None, fault
    return account, None


def _tiktok_upsert(account, body: dict, product_id: str | None):
    problems = validation.tiktok_product(body)
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
    body = _json_body(request)
    if body is None:
        return _tiktok(TIKTOK_INVALID_PARAM, "Invalid JSON body")
    return _tiktok_upsert(account, body, None)


@csrf_exempt
@require_http_methods(["PUT"])
def tiktok_product_edit(request, product_id: str):
    account, error = _tiktok_account(request)
    if error is not None:
        return error
    body = _json_body(request)
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
    body = _json_body(request) or {}
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
    ids = (_json_body(request) or {}).get("product_ids") or []
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
    body = _json_body(request) or {}
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
    body = _json_body(request)
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
    body = _json_body(request)
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


# --- Pinterest -------------------------------------------------------------------------------------


def _pinterest_error(code: int, message: str, status: int):
    return JsonResponse({"code": code, "message": message}, status=status)


def _pinterest_account(request):
    account = (
        SandboxAccount.objects.select_for_update()
        .filter(channel="pinterest", key=request.GET.get("ad_account_id", ""))
        .first()
    )
    if account is None or not _token_ok(account, _bearer(request)):
        return None, _pinterest_error(2, "Authentication failed.", 401)
    return account, inject(account, request)


@csrf_exempt
@require_http_methods(["POST"])
def pinterest_items_batch(request):
    account, fault = _pinterest_account(request)
    if account is None or fault is not None:
        return fault
    body = _json_body(request)
    if body is None:
        return _pinterest_error(1, "Invalid JSON body.", 400)
    operation, items = body.get("operation"), body.get("items")
    if operation not in ("CREATE", "UPDATE", "UPSERT", "DELETE", "DELETE_DISCONTINUED"):
        return _pinterest_error(1, "operation must be CREATE, UPDATE, UPSERT, DELETE or DELETE_DISCONTINUED.", 400)
    if not body.get("country") or not body.get("language"):
        return _pinterest_error(1, "country and language are required.", 400)
    if not isinstance(items, list) or not items:
        return _pinterest_error(1, "items is required.", 400)
    if len(items) > PINTEREST_MAX_ITEMS:
        return _pinterest_error(1, f"items: at most {PINTEREST_MAX_ITEMS} per batch; got {len(items)}.", 400)
    batch = SandboxBatch.objects.create(
        account=account,
        handle=uuid.uuid4().hex,
        operation=operation,
        requests=items,
        polls_left=int((account.faults or {}).get("processing_polls", 0)),
        # Until processed, the batch remembers the locale it names (its items are per locale).
        results={"country": str(body["country"]).upper(), "language": str(body["language"]).upper()},
    )
    return JsonResponse(
        {"batch_id": batch.handle, "status": "PROCESSING", "created_time": batch.created_at.isoformat()}
    )


def _pinterest_apply(account, batch) -> None:
    locale = f"{batch.results.get('country', '')}|{batch.results.get('language', '')}"
    records = []
    for item in batch.requests:
        item_id = str(item.get("item_id", ""))
        if batch.operation in ("DELETE", "DELETE_DISCONTINUED"):
            SandboxItem.objects.filter(account=account, item_id=item_id).update(active=False)
            records.append({"item_id": item_id, "status": "SUCCESS", "errors": [], "warnings": []})
            continue
        problems = validation.pinterest_item(item)
        if not problems and rejected(account, item_id):
            problems = [
                {
                    "field": "image_link",
                    "message": "Image could not be downloaded (sandbox rejection)",
                    "code": "IMAGE_DOWNLOAD_FAILED",
                }
            ]
        if problems:
            errors = [{"attribute": p["field"], "code": p["code"], "message": p["message"]} for p in problems]
            records.append({"item_id": item_id, "status": "FAILURE", "errors": errors, "warnings": []})
            continue
        exists = SandboxItem.objects.filter(account=account, item_id=item_id).first()
        if batch.operation == "CREATE" and exists and exists.active:
            records.append(
                {
                    "item_id": item_id,
                    "status": "FAILURE",
                    "errors": [
                        {"attribute": "item_id", "code": "ITEM_ALREADY_EXISTS", "message": "item already exists"}
                    ],
                    "warnings": [],
                }
            )
            continue
        if batch.operation == "UPDATE" and not exists:
            records.append(
                {
                    "item_id": item_id,
                    "status": "FAILURE",
                    "errors": [{"attribute": "item_id", "code": "ITEM_NOT_FOUND", "message": "item not found"}],
                    "warnings": [],
                }
            )
            continue
        if exists:
            exists.overrides[locale] = item.get("attributes") or {}
            exists.data, exists.active, exists.updates, exists.updated_at = (
                item,
                True,
                exists.updates + 1,
                timezone.now(),
            )
            exists.save()
        else:
            SandboxItem.objects.create(
                account=account, item_id=item_id, data=item, overrides={locale: item.get("attributes") or {}}
            )
        records.append({"item_id": item_id, "status": "SUCCESS", "errors": [], "warnings": []})
    batch.status = "COMPLETED"
    batch.results = {"items": records}
    batch.save()


@require_http_methods(["GET"])
def pinterest_batch_status(request, batch_id: str):
    account, fault = _pinterest_account(request)
    if account is None or fault is not None:
        return fault
    batch = SandboxBatch.objects.select_for_update().filter(account=account, handle=batch_id).first()
    if batch is None:
        return _pinterest_error(4182, "Batch not found.", 404)
    if batch.status != "COMPLETED":
        if batch.polls_left > 0:
            batch.polls_left -= 1
            batch.save(update_fields=["polls_left"])
            return JsonResponse({"batch_id": batch.handle, "status": "PROCESSING", "items": []})
        _pinterest_apply(account, batch)
    return JsonResponse(
        {
            "batch_id": batch.handle,
            "status": batch.status,
            "items": batch.results.get("items", []),
            "created_time": batch.created_at.isoformat(),
        }
    )


# --- Control ---------------------------------------------------------------------------------------

CONTROL_FIELDS = ("secret", "access_token", "commerce_account_id", "shop_cipher", "webhook_url", "faults")


@csrf_exempt
@require_http_methods(["POST", "GET"])
def control_account(request, channel: str, key: str):
    """POST sets up (or reconfigures) a simulated account; GET shows its state."""
    if channel not in ("meta", "tiktok_shop", "pinterest"):
        return JsonResponse({"error": "channel must be meta, tiktok_shop or pinterest"}, status=404)
    if request.method == "POST":
        body = _json_body(request)
        if body is None:
            return JsonResponse({"error": "invalid JSON"}, status=400)
        unknown = set(body) - set(CONTROL_FIELDS)
        if unknown:
            return JsonResponse({"error": f"unknown fields: {', '.join(sorted(unknown))}"}, status=400)
        account, _ = SandboxAccount.objects.get_or_create(channel=channel, key=key)
        for name in CONTROL_FIELDS:
            if name in body:
                setattr(account, name, body[name] if body[name] is not None else "")
        account.save()
    else:
        account = SandboxAccount.objects.filter(channel=channel, key=key).first()
        if account is None:
            return JsonResponse({"error": "no such sandbox account"}, status=404)
    items = account.items.all()
    return JsonResponse(
        {
            "channel": account.channel,
            "key": account.key,
            "faults": account.faults,
            "webhook_url": account.webhook_url,
            "request_count": account.request_count,
            "items": {
                i.item_id: {
                    "active": i.active,
                    "updates": i.updates,
                    "product_id": i.product_id,
                    **_details(request, i),
                }
                for i in items
            },
            "orders": [
                {"id": o.order_id, "status": o.status, "received": o.received} for o in account.orders.order_by("id")
            ],
        }
    )


def _details(request, item: SandboxItem) -> dict:
    """With ?details=1 the control GET shows what each item holds (its data and overrides)."""
    if request.GET.get("details") != "1":
        return {}
    return {"data": item.data, "overrides": item.overrides}


def _webhook_for(account: SandboxAccount, order: SandboxOrder) -> tuple[bytes, dict]:
    now = int(time.time())
    if account.channel == "meta":
        body = {
            "object": "page",
            "entry": [
                {
                    "id": account.commerce_account_id,
                    "time": now,
                    "changes": [
                        {"field": "commerce_orders", "value": {"order_id": order.order_id, "event": "ORDER_CREATED"}}
                    ],
                }
            ],
        }
        raw = json.dumps(body).encode()
        return raw, {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(account.secret, raw)}
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


@csrf_exempt
@require_http_methods(["POST"])
@transaction.non_atomic_requests
def control_place_order(request, channel: str, key: str):
    """Place an order for listed items and announce it by a signed webhook to `webhook_url`.

    Body: {"items": [{"item_id", "quantity"}]} (default: one of the first listed item).
    Non-atomic so the order is committed before the webhook makes the app look it up.
    """
    account = SandboxAccount.objects.filter(channel=channel, key=key).first()
    if account is None or channel not in ("meta", "tiktok_shop"):
        return JsonResponse({"error": "no such sandbox account with orders"}, status=404)
    body = _json_body(request) or {}
    wanted = body.get("items") or []
    listed = {i.item_id: i for i in account.items.filter(active=True)}
    if not listed:
        return JsonResponse({"error": "nothing is listed on this account yet"}, status=400)
    if not wanted:
        wanted = [{"item_id": next(iter(sorted(listed))), "quantity": 1}]
    lines, total, currency = [], Decimal(0), "USD"
    for entry in wanted:
        item = listed.get(str(entry.get("item_id")))
        if item is None:
            return JsonResponse({"error": f"item {entry.get('item_id')} is not listed"}, status=400)
        if channel == "meta":
            amount, currency = item.data.get("price", "0 USD").split(" ")
        else:
            skus = item.data.get("skus") or [{}]
            sku = next((s for s in skus if s.get("seller_sku") == item.item_id), skus[0])
            price = sku.get("price") or {}
            amount, currency = price.get("amount", "0"), price.get("currency", "USD")
        quantity = int(entry.get("quantity", 1))
        lines.append({"item_id": item.item_id, "product_id": item.product_id, "quantity": quantity, "price": amount})
        total += Decimal(amount) * quantity
    order = SandboxOrder.objects.create(
        account=account,
        order_id=str(int(hashlib.sha256(uuid.uuid4().bytes).hexdigest()[:15], 16)),
        status="CREATED" if channel == "meta" else "AWAITING_SHIPMENT",
        lines=lines,
        total=str(total),
        currency=currency,
    )
    delivery = None
    if account.webhook_url:
        raw, headers = _webhook_for(account, order)
        try:
            response = httpx.post(
                account.webhook_url, content=raw, headers={"Content-Type": "application/json", **headers}, timeout=10
            )
            delivery = {"status": response.status_code}
        except httpx.HTTPError as exc:
            delivery = {"error": type(exc).__name__}
    return JsonResponse(
        {"order_id": order.order_id, "status": order.status, "total": order.total, "webhook": delivery}, status=201
    )
