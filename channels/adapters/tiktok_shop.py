"""TikTok Shop (API version 202309): signed requests, products, orders, webhooks."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import httpx

from channels.adapters.base import (
    AdapterError,
    BatchStatus,
    ChannelAdapter,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    InboundEvent,
    ItemError,
    ItemResult,
    OrdersPage,
    ShipmentLine,
    format_amount,
    hmac_sha256_hex,
    signatures_match,
)

VERSION = "202309"
ORDER_STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
# TikTok Shop order statuses onto our lifecycle (base.ORDER_LIFECYCLE). UNPAID and ON_HOLD
# (the buyer may still cancel) hold stock but are not to be shipped yet; AWAITING_COLLECTION
# means packed and handed to TikTok's carrier flow, so it counts as shipped.
ORDER_STATUS_LIFECYCLE = {
    "UNPAID": "pending",
    "ON_HOLD": "pending",
    "AWAITING_SHIPMENT": "awaiting_fulfillment",
    "PARTIALLY_SHIPPING": "partially_fulfilled",
    "AWAITING_COLLECTION": "fulfilled",
    "IN_TRANSIT": "fulfilled",
    "DELIVERED": "fulfilled",
    "COMPLETED": "fulfilled",
    "CANCELLED": "cancelled",
}
# Webhook types that carry an order (order status change, new order).
ORDER_EVENT_TYPES = {1, 2, "ORDER_STATUS_CHANGE", "NEW_ORDER"}
EXCLUDED_FROM_SIGN = {"sign", "access_token"}


def sign(*, secret: str, path: str, params: dict, body: bytes = b"", multipart: bool = False) -> str:
    """TikTok Shop's request signature (DESIGN.md §6):
    sorted query params except sign/access_token as key+value, prefixed by the path,
    the raw body appended unless multipart, wrapped in the secret, HMAC-SHA256, hex."""
    parts = "".join(f"{key}{params[key]}" for key in sorted(params) if key not in EXCLUDED_FROM_SIGN)
    message = path + parts
    if body and not multipart:
        message += body.decode()
    return hmac_sha256_hex(secret, f"{secret}{message}{secret}".encode())


def webhook_signature(*, app_key: str, app_secret: str, raw_body: bytes) -> str:
    return hmac_sha256_hex(app_secret, app_key.encode() + raw_body)


class TikTokShopAdapter(ChannelAdapter):
    channel = "tiktok_shop"
    # No batch endpoint: each product is its own call; this bounds one publish task.
    max_batch = 100
    deletes_by_channel_id = True
    has_order_api = True
    has_webhooks = True
    max_lengths = {"id": 50, "title": 255, "description": 10000}

    def __init__(self, *, clock=time.time, **kwargs):
        super().__init__(**kwargs)
        self.clock = clock

    def auth_headers(self) -> dict:
        return {"x-tts-access-token": self.credentials.get("access_token", "")}

    def call(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None) -> dict:
        params = {"app_key": self.credentials.get("app_key", ""), "timestamp": str(int(self.clock()))}
        if self.credentials.get("shop_cipher"):
            params["shop_cipher"] = self.credentials["shop_cipher"]
        params.update({k: str(v) for k, v in (query or {}).items()})
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        # The signature covers the timestamp, so every retry must be signed afresh.
        params["sign"] = sign(secret=self.credentials.get("app_secret", ""), path=path, params=params, body=raw)
        response = self.client.request(
            method, path, params=params, content=raw or None, headers={"content-type": "application/json"}
        )
        return self._envelope(response)

    def _envelope(self, response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise AdapterError(
                f"TikTok Shop answered {response.status_code} without JSON.", status=response.status_code
            ) from exc
        if body.get("code") != 0:
            raise AdapterError(
                f"TikTok Shop refused the request: {body.get('message', '')} "
                f"(code {body.get('code')}, request {body.get('request_id', '')})",
                status=response.status_code,
                code=str(body.get("code")),
                body=body,
            )
        return body.get("data") or {}

    def build_payload(self, item: ChannelItem) -> dict:
        sku = {
            "seller_sku": item.id,
            "price": {"amount": format_amount(item.price, item.currency), "currency": item.currency.upper()},
            "inventory": [{"quantity": max(0, int(item.quantity or 0))}],
        }
        if item.gtin:
            sku["identifier_code"] = {"code": item.gtin, "type": "GTIN"}
        attributes = [{"name": n, "value_name": v} for n, v in (("Size", item.size), ("Color", item.color)) if v]
        if attributes:
            sku["sales_attributes"] = attributes
        payload = {
            "title": item.title,
            "description": item.description,
            "main_images": [{"uri": item.image_link}],
            "skus": [sku],
            "external_product_id": item.item_group_id or item.id,
        }
        if item.google_product_category:
            payload["category_id"] = item.google_product_category
        if item.brand:
            payload["brand_name"] = item.brand
        return payload

    def payload_quantity(self, payload: dict) -> int | None:
        try:
            return int(payload["skus"][0]["inventory"][0]["quantity"])
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = super().validate_item(item)
        if item.quantity is None:
            errors.append(
                ItemError(
                    "quantity is required (TikTok Shop sells from stated inventory).", "missing_field", "quantity"
                )
            )
        return errors

    def publish_batch(self, items: list[ChannelItem]) -> list[ItemResult]:
        """Create or edit each product; the results are final (TikTok answers synchronously)."""
        self._check_batch_size(len(items))
        results = []
        for item in items:
            try:
                if item.channel_item_id:
                    data = self.call(
                        "PUT", f"/product/{VERSION}/products/{item.channel_item_id}", body=self.build_payload(item)
                    )
                    product_id = data.get("product_id") or item.channel_item_id
                else:
                    data = self.call("POST", f"/product/{VERSION}/products", body=self.build_payload(item))
                    product_id = data.get("product_id", "")
            except AdapterError as exc:
                if exc.body is None:
                    raise  # not the channel's verdict on this item: transient or transport
                results.append(ItemResult(item_id=item.id, ok=False, errors=[ItemError(str(exc), code=exc.code)]))
                continue
            warnings = [ItemError(w.get("message", "")) for w in data.get("warnings") or []]
            results.append(ItemResult(item_id=item.id, ok=True, channel_item_id=product_id, warnings=warnings))
        return results

    def batch_status(self, handle: str, *, sent_ids: list[str] | None = None) -> BatchStatus:
        return BatchStatus(handle=handle, done=True)

    def update_price(self, product_id: str, sku_id: str, amount, currency: str) -> dict:
        return self.call(
            "POST",
            f"/product/{VERSION}/products/{product_id}/prices/update",
            body={
                "skus": [
                    {"id": sku_id, "price": {"amount": format_amount(amount, currency), "currency": currency.upper()}}
                ]
            },
        )

    def update_inventory(self, product_id: str, sku_id: str, quantity: int) -> dict:
        return self.call(
            "POST",
            f"/product/{VERSION}/products/{product_id}/inventory/update",
            body={"skus": [{"id": sku_id, "inventory": [{"quantity": max(0, int(quantity))}]}]},
        )

    def deactivate(self, product_ids: list[str]) -> dict:
        return self.call("POST", f"/product/{VERSION}/products/deactivate", body={"product_ids": list(product_ids)})

    def delete_items(self, items: list[ChannelItem]) -> str:
        """Deactivate (the merchant can reactivate) by TikTok product ids."""
        product_ids = sorted({item.channel_item_id for item in items if item.channel_item_id})
        if product_ids:
            self.deactivate(product_ids)
        return ""

    def fetch_orders(self, *, since: int | None = None, cursor: str | None = None, page_size: int = 100) -> OrdersPage:
        query = {"page_size": min(page_size, 100)}
        if cursor:
            query["page_token"] = cursor
        body = {"update_time_ge": since} if since is not None else {}
        data = self.call("POST", f"/order/{VERSION}/orders/search", query=query, body=body)
        return OrdersPage(orders=data.get("orders") or [], next_cursor=data.get("next_page_token") or None)

    def order_detail(self, order_ids: list[str]) -> list[dict]:
        data = self.call("GET", f"/order/{VERSION}/orders", query={"ids": ",".join(order_ids)})
        return data.get("orders") or []

    def normalize_order(self, raw: dict) -> ChannelOrder:
        """An order of `orders/search` or order detail in neutral terms.

        TikTok lists one line item per unit; lines of the same SKU are summed back into one."""
        status = raw.get("status", "")
        payment = raw.get("payment") or {}
        currency = (payment.get("currency") or "").upper()
        grouped: dict[str, ChannelOrderLine] = {}
        for item in raw.get("line_items") or []:
            sku = str(item.get("seller_sku") or "")
            key = sku or str(item.get("sku_id") or item.get("product_id") or "")
            currency = currency or (item.get("currency") or "").upper()
            line = grouped.get(key)
            if line is None:
                grouped[key] = ChannelOrderLine(
                    channel_item_id=key,
                    sku=sku,
                    quantity=int(item.get("quantity") or 1),
                    unit_price=Decimal(str(item.get("sale_price") or "0")),
                    title=item.get("product_name", "") or "",
                )
            else:
                line.quantity += int(item.get("quantity") or 1)
        lines = list(grouped.values())
        line_sum = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        address = raw.get("recipient_address") or {}
        discounts = sum(
            (Decimal(str(payment.get(k) or "0")) for k in ("seller_discount", "platform_discount")), Decimal("0")
        )
        return ChannelOrder(
            external_id=str(raw.get("id", "")),
            channel_status=status,
            lifecycle=ORDER_STATUS_LIFECYCLE.get(status, "pending"),
            currency=currency,
            total=Decimal(str(payment.get("total_amount") or line_sum)),
            subtotal=Decimal(str(payment.get("sub_total") or line_sum)),
            shipping=Decimal(str(payment.get("shipping_fee") or "0")),
            tax=Decimal(str(payment.get("tax") or "0")),
            discounts=discounts,
            lines=lines,
            placed_at=_from_unix(raw.get("create_time")),
            updated_at=_from_unix(raw.get("update_time") or raw.get("create_time")),
            buyer_name=address.get("name", "") or "",
            buyer_email=raw.get("buyer_email", "") or "",
            buyer_phone=address.get("phone_number", "") or "",
            shipping_address=address,
            buyer_message=raw.get("buyer_message", "") or "",
            country=(address.get("region_code") or "").upper(),
            raw=raw,
        )

    def push_fulfillment(
        self,
        order_id: str,
        *,
        lines: list[ShipmentLine],
        carrier: str,
        tracking_number: str,
        tracking_url: str = "",
        idempotency_key: str,
    ) -> dict:
        """Mark Package As Shipped: `POST /fulfillment/202309/orders/{id}/packages` (seller shipping).

        TikTok keys the package by order and tracking number, so a retried call does not ship twice."""
        return self.call(
            "POST",
            f"/fulfillment/{VERSION}/orders/{order_id}/packages",
            body={
                "order_line_item_ids": [ln.channel_item_id for ln in lines],
                "tracking_number": tracking_number,
                "shipping_provider_id": carrier,
            },
        )

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> dict:
        return self.call(
            "POST",
            f"/return_refund/{VERSION}/cancellations",
            body={"order_id": order_id, "cancel_reason": reason[:200] or "seller_cancel"},
        )

    def verify_webhook(self, headers, raw_body: bytes) -> bool:
        if not (self.credentials.get("app_secret") and self.credentials.get("app_key")):
            return False
        expected = webhook_signature(
            app_key=self.credentials["app_key"], app_secret=self.credentials["app_secret"], raw_body=raw_body
        )
        return signatures_match(expected, headers.get("Authorization"))

    def parse_webhook(self, raw_body: bytes) -> InboundEvent:
        body = json.loads(raw_body)
        data = body.get("data") or {}
        event_type = body.get("type", "")
        order_id = str(data.get("order_id", ""))
        return InboundEvent(
            event_id=str(body.get("tts_notification_id", "")),
            event_type=str(event_type),
            is_order=event_type in ORDER_EVENT_TYPES and bool(order_id),
            order_id=order_id,
            data=body,
        )


def _from_unix(value):
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None
