"""Meta's Graph API, simulated: catalog batches, localized batches, commerce orders."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid

from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.adapters.base import hmac_sha256_hex
from channels.sandbox.common import bearer, json_body, token_ok
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxBatch, SandboxItem, SandboxOrder
from channels.sandbox.validation import CONDITIONS, PRICE, error

META_MAX_REQUESTS = 5000
META_MAX_LOCALIZED = 1000  # localized_items_batch, as the batch guide states
META_AVAILABILITY = ("in stock", "out of stock", "preorder", "available for order", "discontinued")


def meta_item(data: dict) -> list[dict]:
    errors = []
    for name in ("id", "title", "description", "availability", "condition", "price", "link", "image_link"):
        if not data.get(name):
            errors.append(error(name, f"Missing required field: {name}", "missing"))
    if not (data.get("brand") or data.get("gtin") or data.get("mpn")):
        errors.append(error("brand", "Missing required field: brand (or gtin, mpn)", "missing"))
    for name in ("price", "sale_price"):
        if data.get(name) and not PRICE.match(str(data[name])):
            errors.append(error(name, f'Invalid {name} "{data[name]}": use a number and ISO currency, e.g. "9.99 USD"'))
    if len(str(data.get("title", ""))) > 200:
        errors.append(error("title", "Title is longer than 200 characters"))
    if len(str(data.get("description", ""))) > 9999:
        errors.append(error("description", "Description is longer than 9999 characters"))
    if len(str(data.get("id", ""))) > 100:
        errors.append(error("id", "id is longer than 100 characters"))
    if data.get("availability") and data["availability"] not in META_AVAILABILITY:
        errors.append(
            error(
                "availability", f'Invalid availability "{data["availability"]}": one of {", ".join(META_AVAILABILITY)}'
            )
        )
    if data.get("condition") and data["condition"] not in CONDITIONS:
        errors.append(error("condition", f'Invalid condition "{data["condition"]}"'))
    return errors


META_LOCALIZATION_TYPES = ("LANGUAGE", "COUNTRY", "LANGUAGE_AND_COUNTRY")
META_COUNTRY_ONLY = ("price", "sale_price", "unit_price", "base_price", "status", "availability")
LANGUAGE_KEY = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
COUNTRY_KEY = re.compile(r"^[A-Z]{2}$")


def meta_override(localization: dict, data: dict) -> list[dict]:
    """A localized override as Meta checks it: the key's shape per type; prices and availability
    only in a country override (Meta refuses them in a language override)."""
    kind, value = localization.get("type"), str(localization.get("value") or "")
    errors = []
    if kind == "COUNTRY" and not COUNTRY_KEY.match(value):
        errors.append(error("localization", f'Invalid country "{value}"'))
    if kind == "LANGUAGE" and not LANGUAGE_KEY.match(value):
        errors.append(error("localization", f'Invalid language "{value}": use e.g. fr_XX'))
    if kind == "LANGUAGE":
        errors.extend(
            error(name, f"{name} can only be overridden per country") for name in META_COUNTRY_ONLY if name in data
        )
    for name in ("price", "sale_price"):
        if data.get(name) and not PRICE.match(str(data[name])):
            errors.append(error(name, f'Invalid {name} "{data[name]}"'))
    if len(str(data.get("title", ""))) > 200:
        errors.append(error("title", "Title is longer than 200 characters"))
    if data.get("availability") and data["availability"] not in META_AVAILABILITY:
        errors.append(error("availability", f'Invalid availability "{data["availability"]}"'))
    return errors


def _meta_error(message: str, code: int, status: int = 400, subcode: int | None = None):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": uuid.uuid4().hex[:16]}
    if subcode:
        error["error_subcode"] = subcode
    return JsonResponse({"error": error}, status=status)


def _meta_account(request, **lookup):
    account = SandboxAccount.objects.select_for_update().filter(channel="meta", **lookup).first()
    if account is None:
        return None, _meta_error("Unsupported request: object does not exist or missing permissions.", 100, subcode=33)
    if not token_ok(account, bearer(request)):
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
        problems = meta_override(localization, data)
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
        if not isinstance(localization, dict) or localization.get("type") not in META_LOCALIZATION_TYPES:
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
        problems = meta_item(data)
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
    body = json_body(request)
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
    body = json_body(request)
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
    body = json_body(request)
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
    body = json_body(request) or {}
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


# --- Orders placed through the control endpoint ------------------------------------------------

NEW_ORDER_STATUS = "CREATED"


def order_line_price(item: SandboxItem) -> tuple[str, str]:
    amount, currency = item.data.get("price", "0 USD").split(" ")
    return amount, currency


def order_webhook(account: SandboxAccount, order: SandboxOrder) -> tuple[bytes, dict]:
    """The commerce_orders webhook announcing `order`, signed with the app secret."""
    body = {
        "object": "page",
        "entry": [
            {
                "id": account.commerce_account_id,
                "time": int(time.time()),
                "changes": [
                    {"field": "commerce_orders", "value": {"order_id": order.order_id, "event": "ORDER_CREATED"}}
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    return raw, {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(account.secret, raw)}


# Base URL …/sandbox/meta stands for https://graph.facebook.com/<version>.
urlpatterns = [
    path("<str:catalog_id>/items_batch", meta_items_batch),
    path("<str:catalog_id>/localized_items_batch", meta_localized_items_batch),
    path("<str:catalog_id>/check_batch_request_status", meta_check_batch_status),
    path("<str:cms_id>/commerce_orders", meta_commerce_orders),
    path("<str:order_id>/acknowledge_order", meta_acknowledge_order),
    path("<str:order_id>/shipments", meta_shipments),
    path("<str:order_id>/cancellations", meta_cancellations),
    path("<str:order_id>", meta_order),
]
