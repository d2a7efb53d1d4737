"""The sandbox's control endpoints: set up simulated accounts, inspect them, place orders."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from decimal import Decimal
from functools import wraps

import httpx
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from catalog.demo_images import png
from channels.sandbox import meta, pinterest, tiktok_shop
from channels.sandbox.common import json_body
from channels.sandbox.models import SandboxAccount, SandboxItem, SandboxOrder

# --- Control ---------------------------------------------------------------------------------------

# The simulated channels, each known by one of its credentials (ACCOUNT_KEY); those with
# orders offer order_line_price, order_webhook, NEW_ORDER_STATUS and DELIVERED_ORDER_STATUS.
SIMULATORS = {"meta": meta, "tiktok_shop": tiktok_shop, "pinterest": pinterest}
SIMULATED_CHANNELS = tuple(SIMULATORS)
ORDER_SIMULATORS = {"meta": meta, "tiktok_shop": tiktok_shop}

# `settings`: how the simulated account is set up on the channel's side, per channel (for
# example {"feed_data_source": true}: a Pinterest catalog fed by a feed, which refuses API writes).
CONTROL_FIELDS = (
    "secret", "access_token", "commerce_account_id", "shop_cipher", "webhook_url", "faults", "settings", "seller",
)  # fmt: skip
JSON_FIELDS = ("faults", "settings")
CONTROL_TOKEN_HEADER = "X-Sandbox-Control-Token"  # noqa: S105 (a header name)


def control_headers() -> dict:
    """The header a caller (the demo, the tests) shows the control endpoints."""
    token = settings.SANDBOX_CONTROL_TOKEN
    return {CONTROL_TOKEN_HEADER: token} if token else {}


def control_allowed(request) -> bool:
    """The control endpoints show what a shop listed and where its webhooks go, and change
    them: a staff member signed in, or a caller with SANDBOX_CONTROL_TOKEN. On a developer's
    machine (DEBUG) they are open."""
    if settings.DEBUG:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = settings.SANDBOX_CONTROL_TOKEN
    given = request.headers.get(CONTROL_TOKEN_HEADER, "")
    return bool(token) and secrets.compare_digest(token.encode(), given.encode())


def control_endpoint(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not control_allowed(request):
            return JsonResponse(
                {"error": "the sandbox control endpoints need a staff sign-in or the control token"}, status=403
            )
        return view(request, *args, **kwargs)

    return guarded


@csrf_exempt
@control_endpoint
@require_http_methods(["POST", "GET"])
def control_account(request, channel: str, key: str):
    """POST sets up (or reconfigures) a simulated account; GET shows its state."""
    if channel not in SIMULATED_CHANNELS:
        return JsonResponse({"error": f"channel must be one of {', '.join(SIMULATED_CHANNELS)}"}, status=404)
    if request.method == "POST":
        body = json_body(request)
        if body is None:
            return JsonResponse({"error": "invalid JSON"}, status=400)
        unknown = set(body) - set(CONTROL_FIELDS)
        if unknown:
            return JsonResponse({"error": f"unknown fields: {', '.join(sorted(unknown))}"}, status=400)
        account, _ = SandboxAccount.objects.get_or_create(channel=channel, key=key)
        for name in CONTROL_FIELDS:
            if name in body:
                if name in JSON_FIELDS and not isinstance(body[name], dict | type(None)):
                    return JsonResponse({"error": f"{name} must be an object"}, status=400)
                empty = {} if name in JSON_FIELDS else ""
                setattr(account, name, body[name] if body[name] is not None else empty)
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
            "settings": account.settings,
            "webhook_url": account.webhook_url,
            "seller": account.seller,
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


@csrf_exempt
@control_endpoint
@require_http_methods(["POST"])
@transaction.non_atomic_requests
def control_place_order(request, channel: str, key: str):
    """Place an order for listed items and announce it by a signed webhook to `webhook_url`.

    Body: {"items": [{"item_id", "quantity"}]} (default: one of the first listed item).
    Non-atomic so the order is committed before the webhook makes the app look it up.
    """
    simulator = ORDER_SIMULATORS.get(channel)
    account = SandboxAccount.objects.filter(channel=channel, key=key).first()
    if account is None or simulator is None:
        return JsonResponse({"error": "no such sandbox account with orders"}, status=404)
    body = json_body(request) or {}
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
        amount, currency = simulator.order_line_price(item)
        quantity = int(entry.get("quantity", 1))
        lines.append({"item_id": item.item_id, "product_id": item.product_id, "quantity": quantity, "price": amount})
        total += Decimal(amount) * quantity
    order = SandboxOrder.objects.create(
        account=account,
        order_id=str(int(hashlib.sha256(uuid.uuid4().bytes).hexdigest()[:15], 16)),
        status=simulator.NEW_ORDER_STATUS,
        lines=lines,
        total=str(total),
        currency=currency,
    )
    delivery = None
    if account.webhook_url:
        raw, headers = simulator.order_webhook(account, order)
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


@require_http_methods(["GET"])
def picture(request, width: str, height: str):
    """Not a channel: a plain PNG of the asked size, an image of ours for tests to publish
    (channels that download images, as TikTok Shop does, fetch it from here)."""
    w, h = min(int(width), 5000), min(int(height), 5000)
    return HttpResponse(png(w, h, (128, 128, 128)), content_type="image/png")
