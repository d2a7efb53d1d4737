"""Meta (Facebook & Instagram Shops): Graph API catalog batches, commerce orders, webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import httpx
from django.utils.translation import gettext_lazy

from channels.adapters.auth import AuthorizationRefused
from channels.adapters.base import (
    AdapterError,
    Availability,
    BatchStatus,
    ChannelAdapter,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    CredentialSpec,
    HttpClient,
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
    secrets_equal,
    signatures_match,
)
from channels.adapters.meta_carriers import CARRIER_ALIASES, CARRIERS

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
# Order API answers Meta asks to retry (facebook-for-woocommerce, API/Orders/Abstract_Request.php).
RETRY_CODES = {2361081}
# CommerceOrder.State (facebook-python-business-sdk, adobjects/commerceorder.py).
ORDER_STATES = ("FB_PROCESSING", "CREATED", "IN_PROGRESS", "COMPLETED")
# Meta order states onto our lifecycle (base.ORDER_LIFECYCLE). FB_PROCESSING: Meta is still
# checking payment and the order may not be acknowledged yet; IN_PROGRESS: acknowledged, to ship;
# COMPLETED: every item shipped or cancelled. Cancellations and refunds are read with the order
# (`cancellations{…}`, `refunds{…}`) and decide between fulfilled, cancelled and refunded.
ORDER_STATUS_LIFECYCLE = {
    "FB_PROCESSING": "pending",
    "CREATED": "awaiting_fulfillment",
    "IN_PROGRESS": "awaiting_fulfillment",
    "COMPLETED": "fulfilled",
}
# Only CREATED orders can be acknowledged (Acknowledgement API: FB_PROCESSING orders wait).
ACKNOWLEDGEABLE_STATES = ("CREATED",)
# CommerceOrder.Filters of `GET /{cms_id}/commerce_orders` (SDK commerceorder.py).
ORDER_FILTERS = (
    "HAS_CANCELLATIONS",
    "HAS_FULFILLMENTS",
    "HAS_REFUNDS",
    "NO_CANCELLATIONS",
    "NO_REFUNDS",
    "NO_SHIPMENTS",
)
# Cancellation reason codes (Cancellation and Refund API reference; facebook-for-woocommerce
# Commerce/Orders.php CANCEL_REASON_*).
CANCEL_REASONS = ("CUSTOMER_REQUESTED", "OUT_OF_STOCK", "INVALID_ADDRESS", "SUSPICIOUS_ORDER", "CANCEL_REASON_OTHER")
CANCEL_REASON_WORDS = (
    ("OUT_OF_STOCK", ("stock", "sold out", "unavailable")),
    ("INVALID_ADDRESS", ("address",)),
    ("SUSPICIOUS_ORDER", ("fraud", "suspicious")),
    ("CUSTOMER_REQUESTED", ("customer", "buyer", "requested")),
)
# The order fields normalize_order reads. Meta returns only id, order_status, created and
# last_updated unless the others are named; `items`, `cancellations` and `refunds` are edges of
# the order (SDK get_items/get_cancellations/get_refunds) read by field expansion, as
# facebook-for-woocommerce reads `items{…}`.
ORDER_ITEM_FIELDS = "id,retailer_id,product_id,quantity,price_per_unit,tax_details"
ORDER_FIELDS = (
    "id,order_status,created,last_updated,channel,merchant_order_id,ship_by_date,buyer_details,shipping_address,"
    f"selected_shipping_option,estimated_payment_details,items{{{ORDER_ITEM_FIELDS}}},"
    "cancellations{id,cancel_reason,items{retailer_id,quantity}},"
    "refunds{id,items{retailer_id,item_refund_quantity}}"
)
# Meta allows 5,000 requests per call but advises under 3,000.
ADVISED_BATCH = 3000
# localized_items_batch: the batch guide allows 1,000 requests per call (the reference says 5,000).
LOCALIZED_BATCH = 1000
# The stock field of a catalog item (SDK ProductItem.Field; Commerce Platform "Quantity to Sell").
QUANTITY_FIELD = "quantity_to_sell_on_facebook"


# Graph API codes meaning the token itself is refused (Handling Errors guide): 102 API session,
# 190 access token expired or invalid (subcodes 458 app removed, 460 password changed, 463
# expired, 467 invalid …), 10 and 200-299 permission not granted or removed. Only the
# merchant can fix these, by connecting again.
TOKEN_CODES = frozenset({10, 102, 190, *range(200, 300)})


def appsecret_proof(app_secret: str, access_token: str) -> str:
    """HMAC-SHA256 of the access token keyed with the app secret, hex (facebook-python-business-sdk
    session.py), sent with every Graph call so a stolen token is useless without the secret."""
    return hmac_sha256_hex(app_secret, access_token.encode())


def token_refusal(response: httpx.Response) -> str | None:
    """Meta's message when `response` refuses the access token (or its appsecret_proof), else None."""
    if response.status_code < 400:
        return None
    try:
        error = response.json().get("error") or {}
        code = int(error.get("code"))
    except (ValueError, TypeError, AttributeError):
        return None
    message = str(error.get("message") or "")
    # A missing or wrong appsecret_proof is code 100 with no subcode (GraphMethodException):
    # every call of the account fails until its app secret is put right.
    if code in TOKEN_CODES or (code == 100 and "appsecret_proof" in message):
        return message or f"error {code}"
    return None


def carrier_code(text: str) -> str | None:
    """Meta's carrier code for what a merchant typed: a code (`FEDEX`), a name (`FedEx`), or
    another usual name (`Fedex`, `Royal Mail`), ignoring case, spaces and punctuation."""
    wanted = _carrier_key(text)
    if not wanted:
        return None
    return _CARRIER_INDEX.get(wanted)


def _carrier_key(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def _carrier_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, name in CARRIERS.items():
        index.setdefault(_carrier_key(code), code)
        index.setdefault(_carrier_key(name), code)
    for name, code in CARRIER_ALIASES.items():
        index.setdefault(_carrier_key(name), code)
    return index


_CARRIER_INDEX = _carrier_index()


def cancel_reason_code(reason: str) -> str:
    """Meta's reason code for the merchant's cancellation reason (a code as such, or by its words)."""
    text = (reason or "").strip()
    if text.upper() in CANCEL_REASONS:
        return text.upper()
    lowered = text.lower()
    for code, words in CANCEL_REASON_WORDS:
        if any(word in lowered for word in words):
            return code
    return "CANCEL_REASON_OTHER"


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
    QUANTITY_FIELD, *CUSTOM_LABEL_COLUMNS,
)  # fmt: skip


def graph_api_version() -> str:
    """The Graph API version in the default base URL: settings.META_GRAPH_API_VERSION."""
    from django.conf import settings

    return settings.META_GRAPH_API_VERSION


class MetaAdapter(ChannelAdapter):
    channel = "meta"
    # `commerce_orders.<event>`: the sandbox announces new orders as ORDER_CREATED (docs/channels.md).
    webhook_event_words = {
        "commerce_orders": gettext_lazy("Order changed"),
        "commerce_orders.ORDER_CREATED": gettext_lazy("New order"),
    }
    credential_specs = (
        CredentialSpec(
            "catalog_id",
            gettext_lazy("Catalog ID"),
            gettext_lazy("Commerce Manager → Catalog → Settings."),
            secret=False,
            pattern=r"^\d{1,30}$",
            pattern_hint=gettext_lazy("digits only"),
        ),
        CredentialSpec(
            "commerce_account_id",
            gettext_lazy("Commerce account ID"),
            gettext_lazy("Commerce Manager → Settings → Business assets."),
            secret=False,
            pattern=r"^\d{1,30}$",
            pattern_hint=gettext_lazy("digits only"),
        ),
        CredentialSpec(
            "access_token", gettext_lazy("System user access token"), gettext_lazy("Business Settings → System users.")
        ),
        CredentialSpec(
            "app_secret",
            gettext_lazy("App secret"),
            gettext_lazy("Only for your own Meta app: App dashboard → Settings → Basic. Signs webhooks and API calls."),
            required=False,
        ),
        CredentialSpec(
            "verify_token",
            gettext_lazy("Webhook verify token"),
            gettext_lazy("Any string you choose; enter the same in the app dashboard."),
            required=False,
        ),
    )
    # The deployment's Meta app signs every call (appsecret_proof) and its webhooks, unless the
    # account brings its own app's secret.
    platform_credentials = {"app_secret": "META_APP_SECRET"}
    api_host = "https://graph.facebook.com"

    @classmethod
    def default_base_url(cls) -> str:
        return f"{cls.api_host}/{graph_api_version()}"

    max_batch = ADVISED_BATCH
    sale_prices = "with_dates"
    feed_formats = ("csv", "xml")
    feed_columns = FEED_COLUMNS
    feed_availability_words = tuple(dict.fromkeys(AVAILABILITY.values()))
    localized_overrides = True
    override_feeds = {
        "country": ("id", "override", "price", "sale_price", "sale_price_effective_date", "availability", "link"),
        "language": ("id", "override", "title", "description"),
    }
    has_order_api = True
    # Since 2025 Meta sends most shops' buyers to the shop's checkout URL.
    checkout_methods = ("on_channel", "checkout_url")
    has_webhooks = True
    max_lengths = {"id": 100, "title": 200, "description": 9999}
    # The channel states in which an order may be acknowledged (the orders app waits for them).
    acknowledges_orders = True
    acknowledgeable_states = frozenset(ACKNOWLEDGEABLE_STATES)

    @property
    def catalog_id(self) -> str:
        return self.credentials.get("catalog_id", "")

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            proof = appsecret_proof(self.credentials.get("app_secret", ""), self.credentials.get("access_token", ""))
            self._client = HttpClient(
                self.base_url,
                headers=self.auth_headers(),
                params={"appsecret_proof": proof},
                classify=self.classify,
                **self.client_options,
            )
        return self._client

    def classify(self, response: httpx.Response) -> Verdict:
        wait = business_usage_wait(response)
        if response.status_code in (400, 403):
            try:
                code = int(response.json().get("error", {}).get("code"))
            except (ValueError, TypeError, AttributeError):
                code = None
            if code in THROTTLE_CODES:
                return Verdict("rate_limited", wait)
            if code in RETRY_CODES:
                return Verdict("retry", wait)
        if response.status_code == 429:
            return Verdict("rate_limited", wait if wait is not None else default_classify(response).wait)
        return default_classify(response)

    def build_payload(self, item: ChannelItem) -> dict:
        attributes = product_attributes(item, AVAILABILITY)
        data = {k: v for k, v in attributes.items() if v or k in META_ALWAYS_SENT}
        if item.quantity is not None:
            data[QUANTITY_FIELD] = max(0, int(item.quantity))
        if item.sale_price is not None:
            data["sale_price"] = format_price(item.sale_price, item.currency)
            if item.sale_price_effective_date:
                data["sale_price_effective_date"] = item.sale_price_effective_date
        data.update(custom_label_fields(item))
        return data

    def payload_quantity(self, payload: dict) -> int | None:
        payload = payload or {}
        # Payloads accepted before the field was renamed carry the old key.
        value = payload.get(QUANTITY_FIELD, payload.get("quantity_to_sell_on_fb"))
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

    def override_key(self, kind: str, market: dict) -> str:
        if kind == "country":
            return market["country"].upper()
        return language_override_key(market.get("language") or "")

    def override_row(self, kind: str, item: ChannelItem, problems: list) -> dict | None:
        """Country overrides for items valid in that country; language overrides for any item
        whose translated texts fit (texts do not depend on the market's price)."""
        if kind == "country":
            return None if problems else self.country_override(item)
        limits = self.max_lengths
        if item.title and len(item.title) <= limits["title"] and len(item.description) <= limits["description"]:
            return self.language_override(item)
        return None

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
        refused = token_refusal(response)
        if refused is not None:
            # The whole account is refused, not this one request: publishing, polling and
            # reconciliation stop for it (the account needs reconnecting).
            raise AuthorizationRefused(
                f"Meta refused the access token: {refused.rstrip('.')}. Reconnect the account.",
                status=response.status_code,
                code=str((body.get("error") or {}).get("code", "")),
                body=body,
            )
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
        self,
        *,
        since: int | None = None,
        cursor: str | None = None,
        states: tuple[str, ...] | None = None,
        filters: tuple[str, ...] | None = None,
    ) -> OrdersPage:
        """`GET /{cms_id}/commerce_orders` naming every field the import reads; by default the
        orders waiting for us, reconciliation and polling ask for every state."""
        params = {"state": ",".join(states or ORDER_STATES[:2]), "fields": ORDER_FIELDS}
        if filters:
            params["filters"] = ",".join(f.lower() for f in filters)
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
        """A `commerce_orders` entry in neutral terms (amounts as Decimal, times aware).

        Cancelled and refunded units come from the order's cancellations and refunds; an entry
        without items covers every unit of the order. A COMPLETED order whose units are all
        cancelled is cancelled; one with refunds is refunded or partially refunded."""
        state = (raw.get("order_status") or {}).get("state", "")
        payment = raw.get("estimated_payment_details") or {}
        total = payment.get("total_amount") or {}
        subtotal = payment.get("subtotal") or {}
        shipping_option = raw.get("selected_shipping_option") or {}
        lines, currencies = [], []
        for entry in _edge(raw, "items"):
            price = entry.get("price_per_unit") or {}
            currencies.append(price.get("currency") or "")
            lines.append(
                ChannelOrderLine(
                    channel_item_id=str(entry.get("retailer_id") or entry.get("product_id") or ""),
                    sku=str(entry.get("retailer_id") or ""),
                    quantity=int(entry.get("quantity") or 0),
                    unit_price=_amount(price),
                    title=entry.get("product_name", "") or "",
                    tax=_amount((entry.get("tax_details") or {}).get("estimated_tax")),
                )
            )
        cancelled = _units(_edge(raw, "cancellations"), "quantity", lines)
        refunded = _units(_edge(raw, "refunds"), "item_refund_quantity", lines)
        for line in lines:  # two lines of one item share its units, first come first served
            line.quantity_cancelled = min(line.quantity, cancelled.get(line.channel_item_id, 0))
            cancelled[line.channel_item_id] = cancelled.get(line.channel_item_id, 0) - line.quantity_cancelled
            line.quantity_refunded = min(line.quantity - line.quantity_cancelled, refunded.get(line.channel_item_id, 0))
            refunded[line.channel_item_id] = refunded.get(line.channel_item_id, 0) - line.quantity_refunded
        currency = (total.get("currency") or next((c for c in currencies if c), "")).upper()
        buyer = raw.get("buyer_details") or {}
        address = raw.get("shipping_address") or {}
        line_sum = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        item_subtotal = subtotal.get("items") if isinstance(subtotal.get("items"), dict) else subtotal
        shipping = subtotal.get("shipping") if isinstance(subtotal.get("shipping"), dict) else None
        tax = payment.get("tax") if isinstance(payment.get("tax"), dict) else None
        return ChannelOrder(
            external_id=str(raw.get("id", "")),
            channel_status=state,
            lifecycle=_lifecycle(state, lines),
            currency=currency,
            total=Decimal(str(total.get("amount") or line_sum)),
            subtotal=Decimal(str((item_subtotal or {}).get("amount") or line_sum)),
            shipping=_amount(shipping or shipping_option.get("price")),
            tax=_amount(tax) if tax else sum((ln.tax for ln in lines), Decimal("0")),
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
        """`POST /{order_id}/shipments`: items by retailer id and quantity, `tracking_info` with
        Meta's carrier code; the idempotency key makes a retried call ship once. A carrier Meta
        has no code for is refused here, before anything is sent."""
        code = carrier_code(carrier)
        if code is None:
            shown = carrier.strip() or "(none)"
            raise AdapterError(
                f"Meta does not know the carrier “{shown}”. Use a carrier Meta lists, for example "
                "UPS, FedEx, USPS, DHL, Royal Mail or Canada Post, or “Other” for any other carrier, "
                "and send the fulfilment again.",
                code="carrier",
            )
        if not tracking_number.strip():
            raise AdapterError("Meta needs the shipment's tracking number; add it and send the fulfilment again.")
        response = self.client.request(
            "POST",
            f"/{order_id}/shipments",
            json={
                "items": [{"retailer_id": ln.channel_item_id, "quantity": ln.quantity} for ln in lines],
                "tracking_info": {"carrier": code, "tracking_number": tracking_number.strip()},
                "idempotency_key": idempotency_key,
            },
        )
        return self._json(response)

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> dict:
        """`POST /{order_id}/cancellations` for every unshipped unit (no `items`), with Meta's
        reason code and the merchant's words as the description."""
        response = self.client.request(
            "POST",
            f"/{order_id}/cancellations",
            json={
                "cancel_reason": {"reason_code": cancel_reason_code(reason), "reason_description": reason[:200]},
                "restock_items": True,
                "idempotency_key": idempotency_key,
            },
        )
        return self._json(response)

    # Webhooks: the GET handshake and X-Hub-Signature-256 over the raw body.
    def webhook_handshake(self, params) -> str | None:
        if params.get("hub.mode") != "subscribe":
            return None
        if not secrets_equal(self.credentials.get("verify_token", ""), params.get("hub.verify_token")):
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
        """Every `entry[].changes[]` of a delivery: each commerce_orders change names an order."""
        body = json.loads(raw_body)
        # Meta gives no delivery id; a redelivery repeats the exact body, so its digest is the id.
        event_id = hashlib.sha256(raw_body).hexdigest()
        changes = [change for entry in body.get("entry") or [] for change in entry.get("changes") or []]
        order_ids: list[str] = []
        for change in changes:
            value = change.get("value") or {}
            order_id = str(value.get("order_id") or "")
            if change.get("field") == "commerce_orders" and order_id and order_id not in order_ids:
                order_ids.append(order_id)
        first = changes[0] if changes else {}
        field_name = first.get("field", body.get("object", ""))
        return InboundEvent(
            event_id=event_id,
            event_type=f"{field_name}.{(first.get('value') or {}).get('event', '')}".strip("."),
            is_order=bool(order_ids),
            order_id=order_ids[0] if order_ids else "",
            order_ids=order_ids,
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


def _edge(raw: dict, name: str) -> list[dict]:
    """The nodes of an expanded edge (`{"data": [...]}`), or a plain list."""
    value = raw.get(name)
    if isinstance(value, dict):
        value = value.get("data")
    return [v for v in value or [] if isinstance(v, dict)]


def _amount(money) -> Decimal:
    """`{"amount": "9.99", "currency": "USD"}` → Decimal (0 when absent)."""
    if not isinstance(money, dict):
        return Decimal("0")
    return Decimal(str(money.get("amount") or "0"))


def _units(entries: list[dict], quantity_key: str, lines: list[ChannelOrderLine]) -> dict[str, int]:
    """Units per retailer id over cancellations or refunds; an entry without items covers every unit."""
    units: dict[str, int] = {}
    for entry in entries:
        items = _edge(entry, "items")
        if not items:
            every: dict[str, int] = {}
            for line in lines:
                every[line.channel_item_id] = every.get(line.channel_item_id, 0) + line.quantity
            return every
        for item in items:
            key = str(item.get("retailer_id") or item.get("item_id") or "")
            units[key] = units.get(key, 0) + int(item.get(quantity_key) or item.get("quantity") or 0)
    return units


def _lifecycle(state: str, lines: list[ChannelOrderLine]) -> str:
    ordered = sum(line.quantity for line in lines)
    cancelled = sum(line.quantity_cancelled for line in lines)
    refunded = sum(line.quantity_refunded for line in lines)
    if ordered and cancelled >= ordered:
        return "cancelled"
    if state == "COMPLETED" and refunded:
        # Meta refunds shipped units only: the rest of a COMPLETED order shipped.
        return "refunded" if refunded >= ordered - cancelled else "partially_refunded"
    return ORDER_STATUS_LIFECYCLE.get(state, "pending")
