"""Meta's Graph API, simulated: catalog batches, localized batches, commerce orders."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import time
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.adapters.base import hmac_sha256_hex
from channels.adapters.meta_carriers import CARRIERS
from channels.sandbox import grants
from channels.sandbox.common import bearer, json_body
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxBatch, SandboxGrant, SandboxItem, SandboxOrder
from channels.sandbox.validation import PRICE, error

# The credential the simulated account is known by (SandboxAccount.key).
ACCOUNT_KEY = "catalog_id"

META_MAX_REQUESTS = 5000
META_MAX_LOCALIZED = 1000  # localized_items_batch, as the batch guide states
# ProductItem.Availability and ProductItem.Condition (facebook-python-business-sdk, adobjects/productitem.py).
META_AVAILABILITY = (
    "available for order",
    "discontinued",
    "in stock",
    "mark_as_expired",
    "mark_as_sold",
    "out of stock",
    "pending",
    "preorder",
)
META_CONDITIONS = ("cpo", "new", "open_box_new", "refurbished", "used", "used_fair", "used_good", "used_like_new")
# The fields an items_batch item may carry: ProductItem's fields (SDK productitem.py) and the
# catalog feed names the batch takes (Catalog reference: title, link, image_link …). Whether
# Graph refuses other names is not settled by the sources; the sandbox refuses them (strictest
# reading), so a misspelt field (`quantity_to_sell_on_fb`) shows up as an item error.
META_ITEM_FIELDS = frozenset(
    {
        "additional_image_link", "additional_variant_attribute", "age_group", "applink", "availability",
        "availability_date", "brand", "checkout_url", "color", "commerce_tax_category", "condition",
        "custom_label_0", "custom_label_1", "custom_label_2", "custom_label_3", "custom_label_4",
        "custom_number_0", "custom_number_1", "custom_number_2", "custom_number_3", "custom_number_4",
        "description", "expiration_date", "fb_product_category", "gender", "google_product_category", "gtin",
        "id", "image_link", "importer_address", "importer_name", "inventory", "item_group_id", "link",
        "manufacturer_info", "material", "mobile_link", "mpn", "origin_country", "pattern", "price",
        "product_type", "quantity_to_sell_on_facebook", "return_policy_days", "rich_text_description",
        "sale_price", "sale_price_effective_date", "shipping", "shipping_weight", "size", "status",
        "title", "video", "visibility",
    }
)  # fmt: skip
META_VISIBILITY = ("published", "staging")


def meta_item(data: dict) -> list[dict]:
    errors = []
    for name in sorted(set(data) - META_ITEM_FIELDS):
        errors.append(error(name, f"Unknown field: {name}", "unknown_field"))
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
    if data.get("condition") and data["condition"] not in META_CONDITIONS:
        errors.append(error("condition", f'Invalid condition "{data["condition"]}"'))
    if data.get("visibility") and data["visibility"] not in META_VISIBILITY:
        errors.append(error("visibility", f'Invalid visibility "{data["visibility"]}"'))
    for name in ("quantity_to_sell_on_facebook", "inventory"):
        if name in data and not (isinstance(data[name], int) and not isinstance(data[name], bool) and data[name] >= 0):
            errors.append(error(name, f"{name} must be a whole number of 0 or more"))
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


def _meta_error(message: str, code: int, status: int = 400, subcode: int | None = None, kind: str = "OAuthException"):
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": uuid.uuid4().hex[:16]}
    if subcode:
        error["error_subcode"] = subcode
    return JsonResponse({"error": error}, status=status)


NOT_FOUND = "Unsupported request: object does not exist or missing permissions."


def _invalid_token():
    return _meta_error("Invalid OAuth access token.", 190, status=401)


def _graph_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")


def _expired_token(expired_at: dt.datetime):
    """Graph's answer to an expired token: 400, OAuthException code 190, subcode 463."""
    return _meta_error(
        f"Error validating access token: Session has expired on {_graph_time(expired_at)}. "
        f"The current time is {_graph_time(timezone.now())}.",
        190,
        subcode=463,
    )


def _proof_refusal(request, token: str, app_secret: str):
    """Every call must carry appsecret_proof = HMAC-SHA256(app secret, token), hex: the app is
    set to "Require App Secret" (the strictest reading). Graph answers both refusals with
    GraphMethodException code 100 and no subcode."""
    given = request.GET.get("appsecret_proof", "")
    if not given:
        return _meta_error(
            "API calls from the server require an appsecret_proof argument", 100, kind="GraphMethodException"
        )
    expected = hmac_sha256_hex(app_secret, token.encode())
    if not app_secret or not secrets.compare_digest(expected.encode(), given.strip().lower().encode()):
        return _meta_error("Invalid appsecret_proof provided in the API argument", 100, kind="GraphMethodException")
    return None


def _token_grant(token: str) -> SandboxGrant | None:
    return SandboxGrant.objects.filter(channel="meta", access_token=token).first() if token else None


def _grant_refusal(grant: SandboxGrant):
    """The answer to a revoked or expired grant's token; None while it works."""
    if grant.revoked_at is not None:
        return _invalid_token()
    if grant.access_expires_at is not None and grant.access_expires_at <= timezone.now():
        return _expired_token(grant.access_expires_at)
    return None


def _meta_account(request, **lookup):
    """(account, None) for a call on one catalog or commerce account, or (None, Graph's refusal):
    the object, then the token (the account's own or a grant of its seller), then its proof,
    signed with the account's own app secret for its own token, the platform app's for a grant."""
    account = SandboxAccount.objects.select_for_update().filter(channel="meta", **lookup).first()
    if account is None:
        return None, _meta_error(NOT_FOUND, 100, subcode=33)
    token = bearer(request)
    state = grants.token_state(account, token)
    if state != "ok":
        grant = _token_grant(token)
        if grant is not None:
            refusal = _grant_refusal(grant)
            # A working token of another seller: the object is not one it may see.
            return None, refusal or _meta_error(NOT_FOUND, 100, subcode=33)
        if token and SandboxAccount.objects.filter(channel="meta", access_token=token).exists():
            return None, _meta_error(NOT_FOUND, 100, subcode=33)
        return None, _invalid_token()
    own = bool(account.access_token) and secrets.compare_digest(account.access_token.encode(), token.encode())
    secret = (account.secret or settings.META_APP_SECRET) if own else settings.META_APP_SECRET
    refusal = _proof_refusal(request, token, secret)
    if refusal is not None:
        return None, refusal
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


# --- Orders (Commerce Platform Order Management API) -------------------------------------------

# CommerceOrder (facebook-python-business-sdk, adobjects/commerceorder.py): its fields, its
# states and list filters; `items`, `cancellations`, `refunds` and `shipments` are its edges,
# readable by field expansion (`items{retailer_id,quantity}`), as facebook-for-woocommerce does.
META_ORDER_STATES = ("FB_PROCESSING", "CREATED", "IN_PROGRESS", "COMPLETED")
META_ORDER_FILTERS = (
    "HAS_CANCELLATIONS",
    "HAS_FULFILLMENTS",
    "HAS_REFUNDS",
    "NO_CANCELLATIONS",
    "NO_REFUNDS",
    "NO_SHIPMENTS",
)
# Node types, their fields (None: a scalar or object; a str: an edge of that node type) and the
# fields Meta returns when none are named. The nested nodes' fields beyond what the sources show
# are not settled: the strictest reading, refuse anything else, is what the sandbox does.
META_NODES = {
    "CommerceOrder": (
        {
            "buyer_details": None,
            "channel": None,
            "contains_bopis_items": None,
            "created": None,
            "estimated_payment_details": None,
            "id": None,
            "is_group_buy": None,
            "is_test_order": None,
            "last_updated": None,
            "merchant_order_id": None,
            "order_status": None,
            "selected_shipping_option": None,
            "ship_by_date": None,
            "shipping_address": None,
            "items": "CommerceOrderItem",
            "cancellations": "CommerceOrderCancellation",
            "refunds": "CommerceOrderRefund",
            "shipments": "CommerceOrderShipment",
        },
        ("id", "order_status", "created", "last_updated"),
    ),
    # The item fields facebook-for-woocommerce reads (API/Orders/Read/Request.php).
    "CommerceOrderItem": (
        {f: None for f in ("id", "retailer_id", "product_id", "quantity", "price_per_unit", "tax_details")},
        ("id",),
    ),
    "CommerceOrderCancellation": (
        {"id": None, "cancel_reason": None, "items": "CommerceOrderCancellationItem"},
        ("id",),
    ),
    "CommerceOrderCancellationItem": ({"retailer_id": None, "item_id": None, "quantity": None}, ("retailer_id",)),
    "CommerceOrderRefund": ({"id": None, "items": "CommerceOrderRefundItem"}, ("id",)),
    "CommerceOrderRefundItem": ({"retailer_id": None, "item_id": None, "item_refund_quantity": None}, ("retailer_id",)),
    "CommerceOrderShipment": (
        {"id": None, "items": "CommerceOrderShipmentItem", "tracking_info": None},
        ("id",),
    ),
    "CommerceOrderShipmentItem": ({"retailer_id": None, "item_id": None, "quantity": None}, ("retailer_id",)),
}
# Cancellation reason codes (Cancellation and Refund API reference).
META_CANCEL_REASONS = (
    "CUSTOMER_REQUESTED",
    "OUT_OF_STOCK",
    "INVALID_ADDRESS",
    "SUSPICIOUS_ORDER",
    "CANCEL_REASON_OTHER",
)
# CommerceOrder.ReasonCode, the refund reason codes (SDK v25.0.0 commerceorder.py).
META_REFUND_REASONS = (
    "BUYERS_REMORSE",
    "DAMAGED_GOODS",
    "FACEBOOK_INITIATED",
    "NOT_AS_DESCRIBED",
    "QUALITY_ISSUE",
    "REFUND_COMPROMISED",
    "REFUND_FOR_RETURN",
    "REFUND_REASON_OTHER",
    "REFUND_SFI_FAKE",
    "REFUND_SFI_REAL",
    "WRONG_ITEM",
)
# The parameters of each order call (SDK v25.0.0 commerceorder.py param_types). Graph's answer to
# an unknown parameter is not settled by the sources; the sandbox refuses it (strictest reading).
META_ORDER_PARAMS = {
    "acknowledge_order": ("idempotency_key", "merchant_order_reference"),
    "shipments": (
        "external_redemption_link",
        "external_shipment_id",
        "fulfillment",
        "idempotency_key",
        "items",
        "merchant_order_reference",
        "shipment_origin_postal_code",
        "shipping_tax_details",
        "should_use_default_fulfillment_location",
        "tracking_info",
    ),
    "cancellations": ("cancel_reason", "idempotency_key", "items", "restock_items"),
    "refunds": (
        "adjustment_amount",
        "deductions",
        "idempotency_key",
        "items",
        "reason_code",
        "reason_text",
        "return_id",
        "shipping",
    ),
}
TRACKING_INFO_KEYS = ("carrier", "tracking_number", "shipping_method_name")
# Buyers may cancel an order Meta keeps in FB_PROCESSING for more than a day (Cancellation API).
FB_PROCESSING_CANCEL_AFTER = dt.timedelta(hours=24)


class GraphError(Exception):
    """A Graph API refusal: (#code) message, as `{"error": {...}}` with status 400."""

    def __init__(self, message: str, code: int = 100, subcode: int | None = None, status: int = 400):
        super().__init__(message)
        self.code, self.subcode, self.status = code, subcode, status

    def response(self):
        return _meta_error(str(self), self.code, status=self.status, subcode=self.subcode)


def parse_fields(spec: str, node: str) -> dict[str, dict | None]:
    """`a,b,c{d,e{f}}` → {"a": None, "b": None, "c": {"d": None, "e": {"f": None}}}, each name
    checked against the node type: an unknown one is refused as Graph refuses it."""
    known, _defaults = META_NODES[node]
    fields: dict[str, dict | None] = {}
    for part in _top_level_fields(spec):
        part = part.strip()
        if not part:
            continue
        name, _brace, rest = part.partition("{")
        name = name.strip()
        if name not in known:
            raise GraphError(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})")
        if _brace:
            if not rest.endswith("}"):
                raise GraphError(f"(#100) Syntax error in fields near ({part})")
            child = known[name]
            if child is None:
                raise GraphError(f"(#100) Field {name} on node type ({node}) has no fields to select")
            fields[name] = parse_fields(rest[:-1], child)
        else:
            fields[name] = None
    return fields


def project(node: str, full: dict, fields: dict[str, dict | None] | None) -> dict:
    """The named fields of a node (its default fields when none are named); edges as {"data": [...]}."""
    known, defaults = META_NODES[node]
    fields = fields or dict.fromkeys(defaults)
    out = {}
    for name, sub in fields.items():
        if name not in full or full[name] is None:
            continue
        child = known[name]
        if child is None:
            out[name] = full[name]
        else:
            out[name] = {"data": [project(child, entry, sub) for entry in full[name]]}
    if "id" in full and "id" not in out and node == "CommerceOrder":
        out["id"] = full["id"]
    return out


def _iso(when) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _money(amount, currency: str) -> dict:
    return {"amount": str(amount), "currency": currency}


def _units(order: SandboxOrder, kind: str, key: str = "quantity") -> dict[str, int]:
    done: dict[str, int] = {}
    for entry in (order.details or {}).get(kind, []):
        for item in entry.get("items", []):
            done[item["retailer_id"]] = done.get(item["retailer_id"], 0) + int(item.get(key) or 0)
    return done


def _meta_order(order: SandboxOrder) -> dict:
    """The order as Meta holds it, every field and edge (projected by `fields` on the way out)."""
    details = order.details or {}
    currency = order.currency
    items = []
    for index, line in enumerate(order.lines):
        items.append(
            {
                "id": line.get("line_id") or f"{order.order_id}{index + 1:02d}",
                "retailer_id": line["item_id"],
                "product_id": line.get("product_id")
                or str(int(hashlib.sha256(line["item_id"].encode()).hexdigest()[:13], 16)),
                "quantity": int(line["quantity"]),
                "price_per_unit": _money(line["price"], currency),
                "tax_details": {"estimated_tax": _money("0.00", currency)},
            }
        )
    shipping_price = details.get("shipping_price", "0.00")
    return {
        "id": order.order_id,
        "order_status": {"state": order.status},
        "created": _iso(order.created_at),
        "last_updated": _iso(order.updated_at),
        "channel": details.get("channel", "facebook"),
        "merchant_order_id": order.merchant_order_reference or None,
        "is_test_order": True,
        "is_group_buy": False,
        "contains_bopis_items": False,
        "ship_by_date": (order.created_at + dt.timedelta(days=3)).date().isoformat(),
        "buyer_details": details.get(
            "buyer_details",
            {
                "name": "Sandbox Buyer",
                "email": f"buyer-{order.order_id}@sandbox.example",
                "email_remarketing_option": False,
            },
        ),
        "shipping_address": details.get(
            "shipping_address",
            {
                "name": "Sandbox Buyer",
                "street1": "1 Main St",
                "city": "Menlo Park",
                "state": "CA",
                "postal_code": "94025",
                "country": "US",
            },
        ),
        "selected_shipping_option": {
            "name": details.get("shipping_name", "Standard"),
            "reference_id": "standard",
            "price": _money(shipping_price, currency),
            "calculated_tax": _money("0.00", currency),
            "estimated_shipping_time": {"min_days": 3, "max_days": 5},
        },
        "estimated_payment_details": {
            "subtotal": {
                "items": _money(order.total, currency),
                "shipping": _money(shipping_price, currency),
            },
            "tax": _money("0.00", currency),
            "total_amount": _money(str(Decimal(order.total) + Decimal(shipping_price)), currency),
            "tax_remitted": True,
        },
        "items": items,
        "cancellations": details.get("cancellations", []),
        "refunds": details.get("refunds", []),
        "shipments": details.get("shipments", []),
    }


def _filter_ok(order: SandboxOrder, wanted: list[str]) -> bool:
    details = order.details or {}
    has = {
        "CANCELLATIONS": bool(details.get("cancellations")),
        "REFUNDS": bool(details.get("refunds")),
        "FULFILLMENTS": bool(details.get("shipments")),
        "SHIPMENTS": bool(details.get("shipments")),
    }
    for name in wanted:
        kind, _sep, what = name.partition("_")
        if (kind == "HAS") != has[what]:
            return False
    return True


def _time_param(request, name: str):
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GraphError(
            f'(#100) Param {name} must be a valid unix time or ISO 8601 datetime - got "{value}"'
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _list_param(request, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = [v.strip().upper() for v in request.GET.get(name, "").split(",") if v.strip()]
    for index, value in enumerate(values):
        if value not in allowed:
            raise GraphError(f'(#100) Param {name}[{index}] must be one of {{{", ".join(allowed)}}} - got "{value}"')
    return values


@require_http_methods(["GET"])
def meta_commerce_orders(request, cms_id: str):
    """`GET /{cms_id}/commerce_orders`: state, filters, updated_after/before, fields, paging."""
    account, fault = _meta_account(request, commerce_account_id=cms_id)
    if account is None or fault is not None:
        return fault
    try:
        fields = parse_fields(request.GET.get("fields", ""), "CommerceOrder")
        states = _list_param(request, "state", META_ORDER_STATES)
        filters = _list_param(request, "filters", META_ORDER_FILTERS)
        after, before = _time_param(request, "updated_after"), _time_param(request, "updated_before")
    except GraphError as exc:
        return exc.response()
    orders = account.orders.order_by("created_at", "id")
    if states:
        orders = orders.filter(status__in=states)
    if after is not None:
        orders = orders.filter(updated_at__gt=after)
    if before is not None:
        orders = orders.filter(updated_at__lt=before)
    matching = [o for o in orders if _filter_ok(o, filters)]
    offset = int(request.GET["after"]) if request.GET.get("after", "").isdigit() else 0
    limit = min(int(request.GET.get("limit", 25) or 25), 100)
    page = matching[offset : offset + limit]
    body = {
        "data": [project("CommerceOrder", _meta_order(o), fields) for o in page],
        "paging": {"cursors": {"before": str(offset), "after": str(offset + limit)}},
    }
    if len(matching) > offset + limit:
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
META_DEFAULT_ORDER_FIELDS = META_NODES["CommerceOrder"][1]


@require_http_methods(["GET"])
def meta_order(request, order_id: str):
    """`GET /{order_id}?fields=…`: one order; only the default fields unless others are named."""
    order, _account, error = _meta_order_for(request, order_id)
    if error is not None:
        return error
    try:
        fields = parse_fields(request.GET.get("fields", ""), "CommerceOrder")
    except GraphError as exc:
        return exc.response()
    return JsonResponse(project("CommerceOrder", _meta_order(order), fields))


def _meta_edge(edge: str):
    @require_http_methods(["GET"])
    def view(request, order_id: str):
        """`GET /{order_id}/<edge>?fields=…`: the order's cancellations, refunds, shipments or items."""
        order, _account, error = _meta_order_for(request, order_id)
        if error is not None:
            return error
        node = META_NODES["CommerceOrder"][0][edge]
        try:
            fields = parse_fields(request.GET.get("fields", ""), node)
        except GraphError as exc:
            return exc.response()
        return JsonResponse({"data": [project(node, e, fields) for e in _meta_order(order)[edge]]})

    return view


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


def _post_body(request, call: str) -> dict:
    body = json_body(request)
    if not isinstance(body, dict):
        raise GraphError("(#100) Invalid JSON body.")
    body = {k: v for k, v in body.items() if k != "access_token"}
    unknown = sorted(set(body) - set(META_ORDER_PARAMS[call]))
    if unknown:
        # Strictest reading (the sources do not say whether Graph ignores unknown parameters).
        raise GraphError(f"(#100) Param {unknown[0]} is not a valid parameter of /{{order_id}}/{call}")
    if not body.get("idempotency_key"):
        raise GraphError("(#100) The parameter idempotency_key is required")
    return body


# What `received` calls each request (shown by the control endpoint).
RECEIVED_KIND = {"shipments": "shipment", "cancellations": "cancellation", "refunds": "refund"}


def _seen(order: SandboxOrder, call: str, key: str) -> bool:
    kind = RECEIVED_KIND[call]
    return any(r.get("kind") == kind and r.get("idempotency_key") == key for r in order.received)


def _record(order: SandboxOrder, call: str, body: dict) -> None:
    entry = {"kind": RECEIVED_KIND[call], "idempotency_key": body["idempotency_key"], "body": body}
    order.received = [*order.received, entry]
    order.updated_at = timezone.now()


def _open_units(order: SandboxOrder) -> dict[str, int]:
    """Units of each retailer id neither shipped nor cancelled."""
    shipped, cancelled = _units(order, "shipments"), _units(order, "cancellations")
    left: dict[str, int] = {}
    for line in order.lines:
        key = line["item_id"]
        left[key] = left.get(key, 0) + int(line["quantity"])
    return {k: v - shipped.get(k, 0) - cancelled.get(k, 0) for k, v in left.items()}


def _requested_items(order: SandboxOrder, items, quantity_key: str, available: dict[str, int], what: str) -> list[dict]:
    """`items` as retailer id and units, checked against the order and what is left to `what`."""
    if items is None:
        return [{"retailer_id": k, quantity_key: v} for k, v in available.items() if v > 0]
    if not isinstance(items, list) or not items:
        raise GraphError("(#100) Param items must be a non-empty array")
    by_item_id = {}
    for index, line in enumerate(order.lines):
        by_item_id[line.get("line_id") or f"{order.order_id}{index + 1:02d}"] = line["item_id"]
    wanted: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise GraphError("(#100) Param items must be an array of objects")
        if bool(item.get("retailer_id")) == bool(item.get("item_id")):
            raise GraphError("(#100) Each item needs either retailer_id or item_id, not both")
        key = str(item.get("retailer_id") or by_item_id.get(str(item.get("item_id")), ""))
        if key not in available:
            raise GraphError(f"(#100) Item {item.get('retailer_id') or item.get('item_id')} is not part of this order")
        try:
            quantity = int(item.get(quantity_key))
        except (TypeError, ValueError):
            raise GraphError(f"(#100) Param items[].{quantity_key} must be a positive integer") from None
        if quantity <= 0:
            raise GraphError(f"(#100) Param items[].{quantity_key} must be a positive integer")
        wanted[key] = wanted.get(key, 0) + quantity
    for key, quantity in wanted.items():
        if quantity > available.get(key, 0):
            raise GraphError(
                f"(#100) Cannot {what} {quantity} of item {key}: only {max(0, available.get(key, 0))} left to {what}"
            )
    return [{"retailer_id": k, quantity_key: v} for k, v in wanted.items()]


def _complete_if_done(order: SandboxOrder) -> None:
    if order.status == "IN_PROGRESS" and all(v <= 0 for v in _open_units(order).values()):
        order.status = "COMPLETED"


def _order_call(call: str):
    """A POST on an order: the order and token checks, the body's parameters and idempotency."""

    def decorate(handler):
        @csrf_exempt
        @require_http_methods(["POST"])
        def view(request, order_id: str):
            order, _account, error = _meta_order_for(request, order_id)
            if error is not None:
                return error
            try:
                body = _post_body(request, call)
                if _seen(order, call, body["idempotency_key"]):
                    return JsonResponse({"success": True})  # the same request again: done once already
                answer = handler(order, body)
            except GraphError as exc:
                return exc.response()
            _record(order, call, body)
            order.save()
            return JsonResponse(answer or {"success": True})

        return view

    return decorate


@_order_call("shipments")
def meta_shipments(order: SandboxOrder, body: dict):
    """`POST /{order_id}/shipments`: items by retailer id (or item id) and quantity within what is
    unshipped, `tracking_info` with one of Meta's carrier codes, an idempotency key."""
    if order.status != "IN_PROGRESS":
        # Only an acknowledged order can be acted on (Order Lifecycle).
        raise GraphError(f"(#100) Order {order.order_id} is {order.status}; only IN_PROGRESS orders can be shipped")
    tracking = body.get("tracking_info")
    # Older references make tracking_info and items required, newer ones optional: required here.
    if not isinstance(tracking, dict):
        raise GraphError("(#100) The parameter tracking_info is required")
    unknown = sorted(set(tracking) - set(TRACKING_INFO_KEYS))
    if unknown:
        raise GraphError(f"(#100) Param tracking_info[{unknown[0]}] is not a valid field")
    if not str(tracking.get("tracking_number") or "").strip():
        raise GraphError("(#100) Param tracking_info[tracking_number] is required")
    if tracking.get("carrier") not in CARRIERS:
        raise GraphError(
            f'(#100) Param tracking_info[carrier] must be a valid carrier code - got "{tracking.get("carrier")}"'
        )
    if "items" not in body:
        raise GraphError("(#100) The parameter items is required")
    items = _requested_items(order, body.get("items"), "quantity", _open_units(order), "ship")
    details = dict(order.details or {})
    details["shipments"] = [
        *details.get("shipments", []),
        {"id": uuid.uuid4().hex[:15], "items": items, "tracking_info": tracking},
    ]
    order.details = details
    _complete_if_done(order)
    return None


@_order_call("cancellations")
def meta_cancellations(order: SandboxOrder, body: dict):
    """`POST /{order_id}/cancellations`: cancel_reason with a reason code, unshipped items (all
    of them when `items` is left out), restock_items, an idempotency key."""
    aged = timezone.now() - order.created_at > FB_PROCESSING_CANCEL_AFTER
    if order.status == "COMPLETED" or (order.status == "FB_PROCESSING" and not aged):
        raise GraphError(f"(#100) Order {order.order_id} is {order.status}; it cannot be cancelled")
    reason = body.get("cancel_reason")
    # Older references make cancel_reason and its reason_code required, newer ones optional: required here.
    if not isinstance(reason, dict) or not reason.get("reason_code"):
        raise GraphError("(#100) The parameter cancel_reason[reason_code] is required")
    if reason["reason_code"] not in META_CANCEL_REASONS:
        raise GraphError(
            f"(#100) Param cancel_reason[reason_code] must be one of {{{', '.join(META_CANCEL_REASONS)}}} "
            f'- got "{reason["reason_code"]}"'
        )
    if "restock_items" in body and not isinstance(body["restock_items"], bool):
        raise GraphError("(#100) Param restock_items must be a boolean")
    open_units = _open_units(order)
    if not any(v > 0 for v in open_units.values()):
        raise GraphError(f"(#100) Order {order.order_id} has no unshipped items to cancel")
    items = _requested_items(order, body.get("items"), "quantity", open_units, "cancel")
    details = dict(order.details or {})
    details["cancellations"] = [
        *details.get("cancellations", []),
        {"id": uuid.uuid4().hex[:15], "cancel_reason": reason, "items": items},
    ]
    order.details = details
    if all(v <= 0 for v in _open_units(order).values()):
        order.status = "COMPLETED"  # every item shipped or cancelled (Order Lifecycle)
    return None


@_order_call("refunds")
def meta_refunds(order: SandboxOrder, body: dict):
    """`POST /{order_id}/refunds`: reason_code, shipped items by `item_refund_quantity` (all
    shipped units when `items` is left out), an idempotency key."""
    if body.get("reason_code") not in META_REFUND_REASONS:
        raise GraphError(
            f"(#100) Param reason_code must be one of {{{', '.join(META_REFUND_REASONS)}}} "
            f'- got "{body.get("reason_code")}"'
        )
    shipped, refunded = _units(order, "shipments"), _units(order, "refunds", "item_refund_quantity")
    refundable = {k: v - refunded.get(k, 0) for k, v in shipped.items()}
    if not any(v > 0 for v in refundable.values()):
        raise GraphError(f"(#100) Order {order.order_id} has no shipped items to refund")
    items = _requested_items(order, body.get("items"), "item_refund_quantity", refundable, "refund")
    details = dict(order.details or {})
    details["refunds"] = [*details.get("refunds", []), {"id": uuid.uuid4().hex[:15], "items": items}]
    order.details = details
    return None


@csrf_exempt
@require_http_methods(["POST"])
def meta_acknowledge_order(request, order_id: str):
    """`POST /{order_id}/acknowledge_order`: CREATED → IN_PROGRESS; the same idempotency key
    again answers as the first time; an order in any other state is refused."""
    order, _account, error = _meta_order_for(request, order_id)
    if error is not None:
        return error
    try:
        body = _post_body(request, "acknowledge_order")
    except GraphError as exc:
        return exc.response()
    key = body["idempotency_key"]
    if order.acknowledge_key == key:
        return JsonResponse({"id": order.order_id, "state": order.status, "success": True})
    if order.status != "CREATED":
        # The error code Meta uses here is not in the sources; code 100 with the state named.
        return _meta_error(
            f"(#100) Order {order.order_id} is in state {order.status}; only CREATED orders can be acknowledged", 100
        )
    order.status, order.acknowledge_key = "IN_PROGRESS", key
    order.merchant_order_reference = str(body.get("merchant_order_reference") or "")
    order.updated_at = timezone.now()
    order.save()
    return JsonResponse({"id": order.order_id, "state": order.status, "success": True})


# --- Orders placed through the control endpoint ------------------------------------------------

NEW_ORDER_STATUS = "CREATED"
DELIVERED_ORDER_STATUS = "COMPLETED"  # seeded history: shipped and done


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


def _meta_edge_or(post_view, edge: str):
    """One path, two calls: GET reads the edge, POST creates on it."""
    get_view = _meta_edge(edge)

    @csrf_exempt
    def view(request, order_id: str):
        return get_view(request, order_id) if request.method == "GET" else post_view(request, order_id)

    return view


def throttled(*, retry_after: int, regain_minutes: int, key: str) -> JsonResponse:
    """Meta's throttle: HTTP 400 with code 80014 and the wait in X-Business-Use-Case-Usage."""
    usage = {
        key: [
            {
                "type": "catalog_management",
                "call_count": 100,
                "total_cputime": 100,
                "total_time": 100,
                "estimated_time_to_regain_access": regain_minutes,
            }
        ]
    }
    body = {
        "error": {
            "message": "(#80014) There have been too many calls for this catalog.",
            "type": "OAuthException",
            "code": 80014,
            "fbtrace_id": uuid.uuid4().hex[:16],
        }
    }
    response = JsonResponse(body, status=400)
    response["X-Business-Use-Case-Usage"] = json.dumps(usage)
    return response


# --- Facebook Login for Business and the catalogs a token can use ------------------------------

# What the sandbox app's login configuration (META_LOGIN_CONFIG_ID) asks for, shown on the
# consent page (permissions Facebook Login for Business offers).
META_LOGIN_PERMISSIONS = (
    "business_management",
    "catalog_management",
    "commerce_account_read_orders",
    "commerce_account_manage_orders",
)
# A user access token from the login is short-lived ("expiring in hours"); the long-lived one
# from fb_exchange_token "generally lasts about 60 days" (Long-Lived Access Tokens guide).
SHORT_LIVED = dt.timedelta(hours=1)
LONG_LIVED = dt.timedelta(days=60)
SELLER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def registered_redirect_uri() -> str:
    """The one Valid OAuth Redirect URI of the deployment's app: Facebook accepts only an exact match."""
    return settings.SITE_URL + reverse("channel-connect-callback", args=["meta"])


def _digits(*parts) -> str:
    """A stable 15-digit Graph id for a sandbox object."""
    digest = int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest(), 16) % 10**14
    return f"8{digest:014d}"


def _business(account: SandboxAccount) -> dict:
    """The business (portfolio) owning the catalog: set through the control endpoint's settings,
    or one per seller."""
    conf = account.settings or {}
    owner = account.seller or account.key
    return {
        "id": str(conf.get("business_id") or _digits("business", owner)),
        "name": conf.get("business_name") or f"{owner} business",
    }


def _catalog(account: SandboxAccount) -> dict:
    conf = account.settings or {}
    node = {
        "id": account.key,
        "name": conf.get("catalog_name") or f"Catalog {account.key}",
        "business": _business(account),
        "product_count": account.items.filter(active=True).count(),
        "vertical": "commerce",
    }
    if account.commerce_account_id:
        node["commerce_merchant_settings"] = {"id": account.commerce_account_id}
    return node


# Node types the login flow reads: their fields and the ones Graph returns when none are named.
META_AUTH_NODES = {
    "Business": (("id", "name"), ("id", "name")),
    "ProductCatalog": (
        ("id", "name", "business", "commerce_merchant_settings", "product_count", "vertical"),
        ("id", "name"),
    ),
}


def _select(node: str, full: dict, spec: str) -> dict:
    """`fields` of a Business or ProductCatalog; `x{id}` keeps the named fields of an object field."""
    known, defaults = META_AUTH_NODES[node]
    out = {}
    for part in _top_level_fields(spec) if spec.strip() else list(defaults):
        name, brace, rest = part.strip().partition("{")
        name = name.strip()
        if not name:
            continue
        if name not in known:
            raise GraphError(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})")
        value = full.get(name)
        if value is None:
            continue
        if brace and isinstance(value, dict):
            wanted = {f.strip() for f in rest.rstrip("}").split(",") if f.strip()}
            value = {k: v for k, v in value.items() if k in wanted} or {"id": value.get("id")}
        out[name] = value
    out.setdefault("id", full["id"])
    return out


def _paged(request, nodes: list[dict]) -> JsonResponse:
    """Graph's edge page: `data` and `paging` (cursors; `next` while more remain)."""
    offset = int(request.GET["after"]) if request.GET.get("after", "").isdigit() else 0
    limit = max(1, min(int(request.GET.get("limit", 25) or 25) if request.GET.get("limit", "").isdigit() else 25, 100))
    body = {
        "data": nodes[offset : offset + limit],
        "paging": {"cursors": {"before": str(offset), "after": str(offset + limit)}},
    }
    if len(nodes) > offset + limit:
        body["paging"]["next"] = request.build_absolute_uri(f"?after={offset + limit}&limit={limit}")
    return JsonResponse(body)


def _viewer(request) -> tuple[list[SandboxAccount], JsonResponse | None]:
    """The catalogs the call's token can use: a grant's seller's, or (a token set through the
    control endpoint) the accounts holding that token; or Graph's refusal of the token or proof."""
    token = bearer(request)
    grant = _token_grant(token)
    if grant is not None:
        refusal = _grant_refusal(grant)
        if refusal is not None:
            return [], refusal
        accounts, secret = list(grants.seller_accounts("meta", grant.seller)), settings.META_APP_SECRET
    else:
        accounts = (
            list(SandboxAccount.objects.filter(channel="meta", access_token=token).order_by("id")) if token else []
        )
        if not accounts:
            return [], _invalid_token()
        secret = accounts[0].secret or settings.META_APP_SECRET
    refusal = _proof_refusal(request, token, secret)
    return (accounts, None) if refusal is None else ([], refusal)


@require_http_methods(["GET"])
def meta_me_businesses(request):
    """`GET /me/businesses`: the businesses of the catalogs the token can use."""
    accounts, refusal = _viewer(request)
    if refusal is not None:
        return refusal
    businesses = {}
    for account in accounts:
        business = _business(account)
        businesses.setdefault(business["id"], business)
    try:
        nodes = [_select("Business", b, request.GET.get("fields", "")) for b in businesses.values()]
    except GraphError as exc:
        return exc.response()
    return _paged(request, nodes)


def _business_catalogs(owned: bool):
    @require_http_methods(["GET"])
    def view(request, business_id: str):
        """`GET /{business_id}/owned_product_catalogs` (or `client_product_catalogs`: catalogs
        of client businesses the business manages, sandbox accounts with settings
        {"client_of": business_id})."""
        accounts, refusal = _viewer(request)
        if refusal is not None:
            return refusal
        if owned:
            mine = [a for a in accounts if _business(a)["id"] == business_id]
        else:
            mine = [a for a in accounts if str((a.settings or {}).get("client_of") or "") == business_id]
        if not mine and business_id not in {_business(a)["id"] for a in accounts}:
            return _meta_error(NOT_FOUND, 100, subcode=33)
        try:
            nodes = [_select("ProductCatalog", _catalog(a), request.GET.get("fields", "")) for a in mine]
        except GraphError as exc:
            return exc.response()
        return _paged(request, nodes)

    return view


def meta_catalog(request, catalog_id: str):
    """`GET /{catalog_id}?fields=…`: the catalog, for a token that may use it."""
    account, fault = _meta_account(request, key=catalog_id)
    if account is None or fault is not None:
        return fault
    try:
        return JsonResponse(_select("ProductCatalog", _catalog(account), request.GET.get("fields", "")))
    except GraphError as exc:
        return exc.response()


def _back(redirect_uri: str, **params) -> HttpResponseRedirect:
    query = urlencode({k: v for k, v in params.items() if v})
    return HttpResponseRedirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}")


def _dialog_failure(title: str, message: str) -> HttpResponse:
    """Facebook shows a refused login dialog as its own error page; nothing goes back to the app."""
    return HttpResponse(f"{title}: {message}", status=400, content_type="text/plain; charset=utf-8")


def _ensure_catalogs(seller: str, count: int) -> None:
    """The seller has at least `count` catalogs, each with its commerce account (made on first consent)."""
    have = grants.seller_accounts("meta", seller).count()
    for index in range(have, count):
        SandboxAccount.objects.get_or_create(
            channel="meta",
            key=_digits("catalog", seller, index),
            defaults={
                "seller": seller,
                "commerce_account_id": _digits("commerce", seller, index),
                "secret": settings.META_APP_SECRET,
                "settings": {"catalog_name": f"{seller} catalog {index + 1}"},
            },
        )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_login_dialog(request):
    """https://www.facebook.com/<version>/dialog/oauth: client_id, redirect_uri, state,
    config_id (Facebook Login for Business), response_type=code. The seller approves (a code
    goes back to redirect_uri) or declines (error, error_reason, error_description)."""
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    if not grants.app_secret("meta", client_id):
        return _dialog_failure("Invalid App ID", f"{client_id or '(none)'} is not the ID of an app on Facebook.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri != registered_redirect_uri():
        return _dialog_failure(
            "URL Blocked",
            "This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth "
            "Settings. The URI must exactly equal one of the Valid OAuth Redirect URIs.",
        )
    config_id = params.get("config_id", "")
    if not config_id or not secrets.compare_digest(config_id.encode(), settings.META_LOGIN_CONFIG_ID.encode()):
        return _dialog_failure(
            "Invalid configuration", f"{config_id or '(none)'} is not a login configuration of this app."
        )
    if params.get("response_type", "code") != "code":
        return _dialog_failure(
            "Invalid response type", "Facebook Login for Business with a configuration sends a code."
        )
    state = params.get("state", "")
    decision = request.POST.get("decision") if request.method == "POST" else None
    if decision not in ("allow", "deny"):
        return grants.consent_page(
            request,
            channel_label="Facebook",
            app_label=f"App {client_id}",
            scopes=list(META_LOGIN_PERMISSIONS),
            hidden={k: params.get(k, "") for k in ("client_id", "redirect_uri", "state", "config_id", "response_type")},
            extra=[{"name": "catalogs", "label": "Catalogs", "options": ["1", "2", "3"], "value": "1"}],
        )
    if decision == "deny":
        return _back(
            redirect_uri,
            error="access_denied",
            error_code="200",
            error_description="Permissions error",
            error_reason="user_denied",
            state=state,
        )
    seller = request.POST.get("seller", "").strip()
    count = request.POST.get("catalogs", "1")
    if not SELLER_NAME.match(seller) or count not in ("1", "2", "3"):
        return HttpResponse("Sign in with a seller name (letters, digits, . _ -) and pick 1 to 3 catalogs.", status=400)
    _ensure_catalogs(seller, int(count))
    grant = grants.issue_code(
        channel="meta", client_id=client_id, seller=seller, scope=config_id, redirect_uri=redirect_uri
    )
    return _back(redirect_uri, code=grant.code, state=state)


def _token_answer(grant: SandboxGrant) -> JsonResponse:
    body = {"access_token": grant.access_token, "token_type": "bearer"}
    if grant.access_expires_at is not None:
        body["expires_in"] = max(0, int((grant.access_expires_at - timezone.now()).total_seconds()))
    return JsonResponse(body)


def _system_user_login(seller: str) -> bool:
    """The login configuration issues business integration system user tokens (no expiry):
    a knob on any of the seller's accounts, settings {"login_token": "system_user"}."""
    return any(
        (conf or {}).get("login_token") == "system_user"
        for conf in grants.seller_accounts("meta", seller).values_list("settings", flat=True)
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_access_token(request):
    """`GET /oauth/access_token`: a login code (client_id, redirect_uri, client_secret, code),
    or grant_type=fb_exchange_token (client_id, client_secret, fb_exchange_token) for a
    long-lived token. The code works once and only with the dialog's exact redirect_uri."""
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    app_secret = grants.app_secret("meta", client_id)
    if not app_secret:
        return _meta_error("Error validating application. Invalid application ID.", 101)
    given_secret = params.get("client_secret", "")
    if not given_secret or not secrets.compare_digest(given_secret.encode(), app_secret.encode()):
        return _meta_error("Error validating client secret.", 1)
    with transaction.atomic():
        if params.get("grant_type") == "fb_exchange_token":
            token = params.get("fb_exchange_token", "")
            grant = _token_grant(token)
            if grant is None or grant.client_id != client_id:
                return _invalid_token()
            refusal = _grant_refusal(grant)
            if refusal is not None:
                return refusal
            if request.GET.get("appsecret_proof"):
                refusal = _proof_refusal(request, token, app_secret)
                if refusal is not None:
                    return refusal
            if grant.access_expires_at is None:
                return _token_answer(grant)  # a system user token does not expire: nothing to extend
            return _token_answer(grants.issue_tokens(grant, access_ttl=LONG_LIVED, refresh_ttl=None, refresh=False))
        code = params.get("code", "")
        if not code:
            return _meta_error("Missing authorization code", 1)
        pending = SandboxGrant.objects.filter(channel="meta", client_id=client_id, code=code).first()
        if (
            pending is not None
            and pending.code_used_at is None
            and pending.redirect_uri != params.get("redirect_uri", "")
        ):
            return _meta_error(
                "Error validating verification code. Please make sure your redirect_uri is identical to the one "
                "you used in the OAuth dialog request",
                100,
                subcode=36008,
            )
        grant, why = grants.redeem_code(channel="meta", client_id=client_id, code=code)
        if grant is None:
            if why == "used":
                return _meta_error("This authorization code has been used.", 100, subcode=36009)
            if why == "expired":
                return _meta_error("This authorization code has expired.", 100, subcode=36007)
            return _meta_error("Invalid verification code format.", 100)
        if _system_user_login(grant.seller):
            grant = grants.issue_tokens(grant, access_ttl=None, refresh_ttl=None, refresh=False)
        else:
            grant = grants.issue_tokens(grant, access_ttl=SHORT_LIVED, refresh_ttl=None, refresh=False)
    return _token_answer(grant)


@require_http_methods(["GET"])
def meta_node(request, node_id: str):
    """`GET /{id}`: an order (Order API) or a catalog, whichever the id names."""
    is_order = SandboxOrder.objects.filter(order_id=node_id, account__channel="meta").exists()
    if not is_order and SandboxAccount.objects.filter(channel="meta", key=node_id).exists():
        return meta_catalog(request, node_id)
    return meta_order(request, node_id)


# Base URL …/sandbox/meta stands for https://graph.facebook.com/<version>; its login dialog
# (https://www.facebook.com/<version>/dialog/oauth) lives under the same prefix.
urlpatterns = [
    path("dialog/oauth", meta_login_dialog),
    path("oauth/access_token", meta_access_token),
    path("me/businesses", meta_me_businesses),
    path("<str:business_id>/owned_product_catalogs", _business_catalogs(owned=True)),
    path("<str:business_id>/client_product_catalogs", _business_catalogs(owned=False)),
    path("<str:catalog_id>/items_batch", meta_items_batch),
    path("<str:catalog_id>/localized_items_batch", meta_localized_items_batch),
    path("<str:catalog_id>/check_batch_request_status", meta_check_batch_status),
    path("<str:cms_id>/commerce_orders", meta_commerce_orders),
    path("<str:order_id>/acknowledge_order", meta_acknowledge_order),
    path("<str:order_id>/shipments", _meta_edge_or(meta_shipments, "shipments")),
    path("<str:order_id>/cancellations", _meta_edge_or(meta_cancellations, "cancellations")),
    path("<str:order_id>/refunds", _meta_edge_or(meta_refunds, "refunds")),
    path("<str:order_id>/items", _meta_edge("items")),
    path("<str:node_id>", meta_node),
]
