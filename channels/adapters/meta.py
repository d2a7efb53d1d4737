"""Meta (Facebook & Instagram Shops): Graph API catalog batches, commerce orders, webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import httpx

from channels.adapters.base import (
    AdapterError,
    Availability,
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
    Verdict,
    custom_label_fields,
    default_classify,
    format_price,
    hmac_sha256_hex,
    product_attributes,
    signatures_match,
)

AVAILABILITY = {
    Availability.IN_STOCK: "in stock",
    Availability.OUT_OF_STOCK: "out of stock",
    Availability.PREORDER: "preorder",
    Availability.BACKORDER: "available for order",
    Availability.DISCONTINUED: "discontinued",
}
CONDITIONS = ("new", "refurbished", "used")
# Graph API error codes that mean "throttled" (app, user, page, custom and business use case).
THROTTLE_CODES = {4, 17, 32, 613, 80001, 80004, 80014}
ORDER_STATES = ("FB_PROCESSING", "CREATED", "IN_PROGRESS", "COMPLETED")
# Meta order states onto our lifecycle (base.ORDER_LIFECYCLE). FB_PROCESSING: Meta is still
# checking payment and the order may not be acknowledged yet; IN_PROGRESS: acknowledged, to ship;
# COMPLETED: every item shipped. Cancellations and refunds come as separate records.
ORDER_STATUS_LIFECYCLE = {
    "FB_PROCESSING": "pending",
    "CREATED": "awaiting_fulfillment",
    "IN_PROGRESS": "awaiting_fulfillment",
    "COMPLETED": "fulfilled",
}
# The order fields normalize_order reads; Meta returns only id, order_status, created and
# last_updated unless the others are named.
ORDER_FIELDS = (
    "id,order_status,created,last_updated,channel,merchant_order_id,buyer_details,shipping_address,"
    "estimated_payment_details,items{id,retailer_id,product_id,product_name,quantity,price_per_unit,tax_details}"
)
# Meta allows 5,000 requests per call but advises under 3,000.
ADVISED_BATCH = 3000
# localized_items_batch: the batch guide allows 1,000 requests per call (the reference says 5,000).
LOCALIZED_BATCH = 1000


def language_override_key(language: str) -> str:
    """Meta's language override value: `fr`, `fr-CA` → `fr_XX` (language, any country)."""
    return f"{language.replace('_', '-').split('-')[0].lower()}_XX"


def business_usage_wait(response: httpx.Response) -> float | None:
    """Seconds until access returns, from `X-Business-Use-Case-Usage` (given in minutes)."""
    header = response.headers.get("X-Business-Use-Case-Usage")
    if not header:
        return None
    try:
        usage = json.loads(header)
        minutes = max(
            float(entry.get("estimated_time_to_regain_access") or 0) for entries in usage.values() for entry in entries
        )
    except (ValueError, TypeError, AttributeError):
        return None
    return minutes * 60.0


# Sent even when empty, so Meta reports the missing value against the item.
META_ALWAYS_SENT = {"id", "title", "description", "availability", "condition", "price", "link", "image_link", "brand"}

CUSTOM_LABEL_COLUMNS = tuple(f"custom_label_{i}" for i in range(5))
FEED_COLUMNS = (
    "id", "title", "description", "availability", "condition", "price", "sale_price", "sale_price_effective_date",
    "link", "image_link", "brand", "gtin", "mpn", "item_group_id", "google_product_category", "size", "color",
    "quantity_to_sell_on_fb", *CUSTOM_LABEL_COLUMNS,
)  # fmt: skip


class MetaAdapter(ChannelAdapter):
    channel = "meta"
    max_batch = ADVISED_BATCH
    feed_formats = ("csv", "xml")
    feed_columns = FEED_COLUMNS
    feed_availability_words = tuple(dict.fromkeys(AVAILABILITY.values()))
    localized_overrides = True
    has_order_api = True
    has_webhooks = True
    max_lengths = {"id": 100, "title": 200, "description": 9999}

    @property
    def catalog_id(self) -> str:
        return self.credentials.get("catalog_id", "")

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    def classify(self, response: httpx.Response) -> Verdict:
        wait = business_usage_wait(response)
        if response.status_code in (400, 403):
            try:
                code = int(response.json().get("error", {}).get("code"))
            except (ValueError, TypeError, AttributeError):
                code = None
            if code in THROTTLE_CODES:
                return Verdict("rate_limited", wait)
        if response.status_code == 429:
            return Verdict("rate_limited", wait if wait is not None else default_classify(response).wait)
        return default_classify(response)

    def build_payload(self, item: ChannelItem) -> dict:
        attributes = product_attributes(item, AVAILABILITY)
        data = {k: v for k, v in attributes.items() if v or k in META_ALWAYS_SENT}
        if item.quantity is not None:
            data["quantity_to_sell_on_fb"] = max(0, int(item.quantity))
        if item.sale_price is not None:
            data["sale_price"] = format_price(item.sale_price, item.currency)
            if item.sale_price_effective_date:
                data["sale_price_effective_date"] = item.sale_price_effective_date
        data.update(custom_label_fields(item))
        return data

    def payload_quantity(self, payload: dict) -> int | None:
        value = (payload or {}).get("quantity_to_sell_on_fb")
        return int(value) if value is not None else None

    # Localized catalogs: overrides of existing items per country (price, availability, link)
    # and per language (title, description); Meta refuses prices in a language override.
    def country_override(self, item: ChannelItem) -> dict:
        data = {
            "price": format_price(item.price, item.currency),
            "availability": AVAILABILITY.get(item.availability, item.availability),
            "link": item.link,
        }
        if item.sale_price is not None:
            data["sale_price"] = format_price(item.sale_price, item.currency)
            if item.sale_price_effective_date:
                data["sale_price_effective_date"] = item.sale_price_effective_date
        return data

    def language_override(self, item: ChannelItem) -> dict:
        return {"title": item.title, "description": item.description}

    def overrides(self, items: list[ChannelItem], markets: list[dict]) -> list[tuple[str, str, dict]]:
        """An item's (type, value, data) overrides: a COUNTRY override per further country
        (price, sale price, availability, link) and a LANGUAGE override per further language
        (title, description), as `localized_items_batch` and the override feeds take them.
        `items[i]` is the item priced and translated for `markets[i]`; the first is the item itself."""
        primary_country = markets[0]["country"].upper()
        primary_language = language_override_key(markets[0].get("language") or "")
        countries, languages, overrides = set(), set(), []
        for item, market in zip(items[1:], markets[1:], strict=True):
            country = market["country"].upper()
            if country != primary_country and country not in countries:
                countries.add(country)
                overrides.append(("COUNTRY", country, self.country_override(item)))
            language = language_override_key(market.get("language") or "")
            if language != primary_language and language not in languages:
                languages.add(language)
                overrides.append(("LANGUAGE", language, self.language_override(item)))
        return overrides

    def upsert_batch_size(self, markets: list[dict]) -> int:
        """Few enough items that one batch's overrides fit one `localized_items_batch` call."""
        countries = {m["country"].upper() for m in markets[1:]} - {markets[0]["country"].upper()}
        languages = {language_override_key(m.get("language") or "") for m in markets[1:]}
        per_item = len(countries) + len(languages - {language_override_key(markets[0].get("language") or "")})
        if per_item:
            return max(1, min(self.max_batch, LOCALIZED_BATCH // per_item))
        return self.max_batch

    def order_poll_options(self) -> dict:
        return {"states": ORDER_STATES}  # every state: status changes must come through too

    def publish_localized_batch(self, overrides: list[tuple[str, str, str, str, dict]]) -> str:
        """`localized_items_batch`: (method, type COUNTRY|LANGUAGE, value FR|fr_XX, item id, data)
        per request; the items must exist already (sent by `items_batch` first)."""
        if len(overrides) > LOCALIZED_BATCH:
            raise AdapterError(
                f"Meta accepts at most {LOCALIZED_BATCH} localized requests per call; got {len(overrides)}."
            )
        requests = [
            {"method": method, "localization": {"type": kind, "value": value}, "data": {"id": item_id, **data}}
            for method, kind, value, item_id, data in overrides
        ]
        response = self.client.request(
            "POST",
            f"/{self.catalog_id}/localized_items_batch",
            json={"item_type": "PRODUCT_ITEM", "requests": requests},
        )
        body = self._json(response)
        handles = body.get("handles") or []
        if not handles:
            raise AdapterError("Meta accepted the localized batch but returned no handle.", body=body)
        return handles[0]

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = super().validate_item(item)
        if item.condition not in CONDITIONS:
            errors.append(ItemError(f"condition must be one of {', '.join(CONDITIONS)}.", "invalid", "condition"))
        if not (item.brand or item.gtin or item.mpn):
            errors.append(ItemError("brand, gtin or mpn is required.", "missing_field", "brand"))
        return errors

    def _json(self, response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise AdapterError(
                f"Meta answered {response.status_code} without JSON.", status=response.status_code
            ) from exc
        if response.status_code >= 400 or "error" in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise AdapterError(
                f"Meta refused the request: {error.get('message', response.status_code)}",
                status=response.status_code,
                code=str(error.get("code", "")),
                body=body,
            )
        return body

    def _items_batch(self, requests: list[dict]) -> str:
        self._check_batch_size(len(requests))
        response = self.client.request(
            "POST",
            f"/{self.catalog_id}/items_batch",
            json={"item_type": "PRODUCT_ITEM", "allow_upsert": True, "requests": requests},
        )
        body = self._json(response)
        handles = body.get("handles") or []
        if not handles:
            raise AdapterError("Meta accepted the batch but returned no handle.", body=body)
        return handles[0]

    def publish_batch(self, items: list[ChannelItem]) -> str:
        return self._items_batch([{"method": "UPDATE", "data": self.build_payload(item)} for item in items])

    def delete_items(self, items: list[ChannelItem]) -> str:
        item_ids = [item.id for item in items]
        return self._items_batch([{"method": "DELETE", "data": {"id": item_id}} for item_id in item_ids])

    def batch_status(self, handle: str, *, sent_ids: list[str] | None = None) -> BatchStatus:
        """Meta lists only the items with errors or warnings; the others in `sent_ids` passed."""
        response = self.client.request(
            "GET", f"/{self.catalog_id}/check_batch_request_status", params={"handle": handle}
        )
        body = self._json(response)
        entry = (body.get("data") or [{}])[0]
        status = entry.get("status", "")
        results: dict[str, ItemResult] = {}
        for error in entry.get("errors") or []:
            result = results.setdefault(error.get("id", ""), ItemResult(item_id=error.get("id", ""), ok=False))
            result.errors.append(
                ItemError(error.get("message", ""), code=str(error.get("code", "")), field=error.get("field", ""))
            )
        for warning in entry.get("warnings") or []:
            result = results.setdefault(warning.get("id", ""), ItemResult(item_id=warning.get("id", ""), ok=True))
            result.warnings.append(ItemError(warning.get("message", ""), field=warning.get("field", "")))
        if status == "finished":
            for item_id in sent_ids or []:
                results.setdefault(item_id, ItemResult(item_id=item_id, ok=True, channel_item_id=item_id))
        return BatchStatus(
            handle=handle,
            done=status in ("finished", "error"),
            failed=status == "error",
            results=list(results.values()),
            raw=entry,
        )

    def fetch_orders(
        self, *, since: int | None = None, cursor: str | None = None, states: tuple[str, ...] | None = None
    ) -> OrdersPage:
        # By default the orders waiting for us; reconciliation asks for every state.
        params = {"state": ",".join(states or ORDER_STATES[:2])}
        if since is not None:
            params["updated_after"] = str(since)
        if cursor:
            params["after"] = cursor
        response = self.client.request(
            "GET", f"/{self.credentials.get('commerce_account_id', '')}/commerce_orders", params=params
        )
        body = self._json(response)
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        return OrdersPage(orders=body.get("data") or [], next_cursor=after)

    def order_detail(self, order_ids: list[str]) -> list[dict]:
        """Read orders one by one with `GET /{order_id}?fields=…` (the Order API reads a single
        order; its default fields are only id, order_status, created and last_updated, so the
        ones `normalize_order` needs are named). An order Meta does not know is left out."""
        found = []
        for order_id in order_ids:
            response = self.client.request("GET", f"/{order_id}", params={"fields": ORDER_FIELDS})
            if response.status_code == 404 or _unknown_object(response):
                continue
            found.append(self._json(response))
        return found

    def acknowledge_order(self, order_id: str, *, merchant_order_reference: str, idempotency_key: str) -> dict:
        response = self.client.request(
            "POST",
            f"/{order_id}/acknowledge_order",
            json={"merchant_order_reference": merchant_order_reference, "idempotency_key": idempotency_key},
        )
        return self._json(response)

    def normalize_order(self, raw: dict) -> ChannelOrder:
        """A `commerce_orders` entry in neutral terms (amounts as Decimal, times aware)."""
        state = (raw.get("order_status") or {}).get("state", "")
        total = (raw.get("estimated_payment_details") or {}).get("total_amount") or {}
        subtotal = (raw.get("estimated_payment_details") or {}).get("subtotal") or {}
        lines, currencies = [], []
        for entry in (raw.get("items") or {}).get("data") or []:
            price = entry.get("price_per_unit") or {}
            currencies.append(price.get("currency") or "")
            lines.append(
                ChannelOrderLine(
                    channel_item_id=str(entry.get("retailer_id") or entry.get("product_id") or ""),
                    sku=str(entry.get("retailer_id") or ""),
                    quantity=int(entry.get("quantity") or 0),
                    unit_price=Decimal(str(price.get("amount") or "0")),
                    title=entry.get("product_name", "") or "",
                    tax=Decimal(str((entry.get("tax_details") or {}).get("estimated_tax", {}).get("amount") or "0")),
                )
            )
        currency = (total.get("currency") or next((c for c in currencies if c), "")).upper()
        buyer = raw.get("buyer_details") or {}
        address = raw.get("shipping_address") or {}
        line_sum = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        amount = Decimal(str(total.get("amount") or line_sum))
        return ChannelOrder(
            external_id=str(raw.get("id", "")),
            channel_status=state,
            lifecycle=ORDER_STATUS_LIFECYCLE.get(state, "pending"),
            currency=currency,
            total=amount,
            subtotal=Decimal(str(subtotal.get("amount") or line_sum)),
            lines=lines,
            placed_at=_parse_time(raw.get("created")),
            updated_at=_parse_time(raw.get("last_updated") or raw.get("created")),
            buyer_name=buyer.get("name", "") or "",
            buyer_email=buyer.get("email", "") or "",
            buyer_phone=buyer.get("phone", "") or "",
            shipping_address=address,
            country=(address.get("country") or "").upper(),
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
        """`POST /{order_id}/shipments`; the idempotency key makes a retried call ship once."""
        response = self.client.request(
            "POST",
            f"/{order_id}/shipments",
            json={
                "items": [{"retailer_id": ln.channel_item_id, "quantity": ln.quantity} for ln in lines],
                "tracking_info": {"carrier": carrier, "tracking_number": tracking_number},
                "idempotency_key": idempotency_key,
            },
        )
        return self._json(response)

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> dict:
        response = self.client.request(
            "POST",
            f"/{order_id}/cancellations",
            json={
                "cancel_reason": {"reason_code": "CUSTOMER_REQUESTED", "reason_description": reason[:200]},
                "restock_items": True,
                "idempotency_key": idempotency_key,
            },
        )
        return self._json(response)

    # Webhooks: the GET handshake and X-Hub-Signature-256 over the raw body.
    def webhook_handshake(self, params) -> str | None:
        if params.get("hub.mode") != "subscribe":
            return None
        if not signatures_match(self.credentials.get("verify_token", ""), params.get("hub.verify_token")):
            return None
        return params.get("hub.challenge", "")

    def signature(self, raw_body: bytes) -> str:
        return "sha256=" + hmac_sha256_hex(self.credentials.get("app_secret", ""), raw_body)

    def verify_webhook(self, headers, raw_body: bytes) -> bool:
        if not self.credentials.get("app_secret"):
            return False
        given = headers.get("X-Hub-Signature-256", "")
        return signatures_match(self.signature(raw_body), given)

    def parse_webhook(self, raw_body: bytes) -> InboundEvent:
        body = json.loads(raw_body)
        # Meta gives no delivery id; a redelivery repeats the exact body, so its digest is the id.
        event_id = hashlib.sha256(raw_body).hexdigest()
        changes = [change for entry in body.get("entry") or [] for change in entry.get("changes") or []]
        first = changes[0] if changes else {}
        value = first.get("value") or {}
        field_name = first.get("field", body.get("object", ""))
        order_id = str(value.get("order_id", ""))
        return InboundEvent(
            event_id=event_id,
            event_type=f"{field_name}.{value.get('event', '')}".strip("."),
            is_order=field_name == "commerce_orders" and bool(order_id),
            order_id=order_id,
            data=body,
        )


def _unknown_object(response: httpx.Response) -> bool:
    """Graph API answers a read of an id it does not know with 400, code 100, subcode 33."""
    if response.status_code != 400:
        return False
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return False
    return error.get("code") == 100 and error.get("error_subcode") == 33


def _parse_time(value):
    """Meta sends ISO 8601 (`2025-01-31T10:00:00+0000`); None when absent or unreadable."""
    if not value:
        return None
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
