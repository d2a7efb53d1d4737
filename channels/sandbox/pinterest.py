"""Pinterest's API v5, simulated: catalog item batches and their status."""

from __future__ import annotations

import uuid

from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.sandbox.common import bearer, json_body, token_ok
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxBatch, SandboxItem
from channels.sandbox.validation import PRICE, error

PINTEREST_MAX_ITEMS = 1000
PINTEREST_AVAILABILITY = ("in stock", "out of stock", "preorder")


def pinterest_item(item: dict) -> list[dict]:
    attributes = item.get("attributes") or {}
    errors = []
    if not item.get("item_id"):
        errors.append(error("item_id", "item_id is required", "MISSING_REQUIRED_FIELD"))
    for name in ("title", "description", "link", "image_link", "price", "availability"):
        if not attributes.get(name):
            errors.append(error(name, f"{name} is required", "MISSING_REQUIRED_FIELD"))
    if attributes.get("price") and not PRICE.match(str(attributes["price"])):
        errors.append(error("price", "price must look like 24.99 USD", "INVALID_PRICE"))
    if len(str(attributes.get("title", ""))) > 500:
        errors.append(error("title", "title is longer than 500 characters", "TITLE_TOO_LONG"))
    if attributes.get("availability") and attributes["availability"] not in PINTEREST_AVAILABILITY:
        errors.append(
            error("availability", "availability must be in stock, out of stock or preorder", "INVALID_AVAILABILITY")
        )
    image = attributes.get("image_link")
    if image is not None and not isinstance(image, list):
        errors.append(error("image_link", "image_link is a list of URLs", "INVALID_IMAGE_LINK"))
    return errors


def _pinterest_error(code: int, message: str, status: int):
    return JsonResponse({"code": code, "message": message}, status=status)


def _pinterest_account(request):
    account = (
        SandboxAccount.objects.select_for_update()
        .filter(channel="pinterest", key=request.GET.get("ad_account_id", ""))
        .first()
    )
    if account is None or not token_ok(account, bearer(request)):
        return None, _pinterest_error(2, "Authentication failed.", 401)
    return account, inject(account, request)


@csrf_exempt
@require_http_methods(["POST"])
def pinterest_items_batch(request):
    account, fault = _pinterest_account(request)
    if account is None or fault is not None:
        return fault
    body = json_body(request)
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
        problems = pinterest_item(item)
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


# Base URL …/sandbox/pinterest stands for https://api.pinterest.com.
urlpatterns = [
    path("v5/catalogs/items/batch", pinterest_items_batch),
    path("v5/catalogs/items/batch/<str:batch_id>", pinterest_batch_status),
]
