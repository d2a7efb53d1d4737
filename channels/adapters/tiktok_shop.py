"""TikTok Shop Open API (version from settings.TIKTOK_SHOP_API_VERSION, 202309): signed
requests, products with their SKUs, reference data, orders, fulfilment, webhooks.

Every protocol fact used here is listed with its source in docs/channels.md, section
"TikTok Shop (Open API 202309)".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import httpx
from django.utils.translation import gettext_lazy

from channels.adapters import net
from channels.adapters.auth import AuthorizationRefused
from channels.adapters.base import (
    AdapterError,
    BatchStatus,
    ChannelAdapter,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    CredentialSpec,
    InboundEvent,
    ItemError,
    ItemResult,
    OrdersPage,
    ShipmentLine,
    format_amount,
    hmac_sha256_hex,
    signatures_match,
)
from channels.adapters.net import GuardedTransport

DEFAULT_VERSION = "202309"


def api_version() -> str:
    """The one place the API version comes from (read lazily, so settings overrides apply)."""
    try:
        from django.conf import settings

        return str(getattr(settings, "TIKTOK_SHOP_API_VERSION", "") or DEFAULT_VERSION)
    except Exception:  # settings not configured (plain scripts)
        return DEFAULT_VERSION


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
# Webhook types (the `type` of a notification).
WEBHOOK_ORDER_STATUS_CHANGE = 1
WEBHOOK_REVERSE_ORDER_STATUS_UPDATE = 2
WEBHOOK_SELLER_DEAUTHORIZATION = 6
WEBHOOK_UPCOMING_AUTHORIZATION_EXPIRATION = 7
WEBHOOK_CANCELLATION_STATUS_CHANGE = 11
WEBHOOK_RETURN_STATUS_CHANGE = 12
# Notifications that change an order's lifecycle: the order is read again.
ORDER_EVENT_TYPES = {
    WEBHOOK_ORDER_STATUS_CHANGE,
    WEBHOOK_REVERSE_ORDER_STATUS_UPDATE,
    WEBHOOK_CANCELLATION_STATUS_CHANGE,
    WEBHOOK_RETURN_STATUS_CHANGE,
}
RECONNECT_EVENT_TYPES = {WEBHOOK_SELLER_DEAUTHORIZATION, WEBHOOK_UPCOMING_AUTHORIZATION_EXPIRATION}
WEBHOOK_EVENT_WORDS = {
    str(WEBHOOK_ORDER_STATUS_CHANGE): gettext_lazy("Order status changed"),
    str(WEBHOOK_REVERSE_ORDER_STATUS_UPDATE): gettext_lazy("Return or refund updated"),
    str(WEBHOOK_SELLER_DEAUTHORIZATION): gettext_lazy("The shop withdrew this app's access"),
    str(WEBHOOK_UPCOMING_AUTHORIZATION_EXPIRATION): gettext_lazy("Access expires soon"),
    str(WEBHOOK_CANCELLATION_STATUS_CHANGE): gettext_lazy("Cancellation updated"),
    str(WEBHOOK_RETURN_STATUS_CHANGE): gettext_lazy("Return updated"),
}
EXCLUDED_FROM_SIGN = {"sign", "access_token"}
# Calls that must not carry shop_cipher (TikTok answers 36009004 "Unexpected identifier"):
# image and file uploads, and the authorisation and seller calls, which name no shop.
SHOP_CIPHER_REFUSED = re.compile(r"^/(product/\d{6}/(images/upload|files/upload)|(authorization|seller)/\d{6}/.+)$")
# Envelope codes saying the access token no longer works for the shop (invalid, expired,
# revoked, the seller deauthorised the app, a scope missing): only reconnecting helps.
TOKEN_EXPIRED = 105002
SCOPE_MISSING = 105005
TOKEN_OR_SHOP_MISMATCH = 101000
COMMON_INVALID = 36009004

# Identifier code types by number of digits (UPC 12, EAN 8/13/14, GTIN 14; 14 digits are sent
# as GTIN).
IDENTIFIER_TYPES = {8: "EAN", 12: "UPC", 13: "EAN", 14: "GTIN"}
MAX_STOCK = 999999
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAIN_IMAGE_URI_ILLEGAL = 12052300
# "The product does not exist" (Get Product, Edit Product, Deactivate).
PRODUCT_GONE_CODES = {"12052032", "12019150", "12052260"}
# Return statuses after which the refund is done (Search Returns).
REFUND_DONE_STATUSES = {"RETURN_OR_REFUND_REQUEST_COMPLETE"}
# Order statuses a line item can still be shipped in.
SHIPPABLE_STATUSES = {"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"}
# Seller cancellation reasons (codes), by the order status they apply to.
CANCEL_REASONS = {
    "unpaid": {
        "out_of_stock": "seller_cancel_unpaid_reason_out_of_stock",
        "buyer_not_paid": "seller_cancel_unpaid_reason_buyer_hasnt_paid_within_time_allowed",
        "buyer_requested": "seller_cancel_unpaid_reason_buyer_requested_cancellation",
    },
    "paid": {
        "out_of_stock": "seller_cancel_reason_out_of_stock",
        "address": "seller_cancel_paid_reason_address_not_deliver",
        "buyer_requested": "seller_cancel_paid_reason_buyer_requested_cancellation",
    },
}
CANCEL_REASON_WORDS = (
    ("out_of_stock", ("stock", "sold out", "unavailable", "inventory")),
    ("address", ("address", "deliver", "shipping area", "undeliverable")),
    ("buyer_not_paid", ("not paid", "unpaid", "payment", "hasn't paid", "has not paid")),
    ("buyer_requested", ("buyer", "customer", "requested", "changed their mind", "asked")),
)
CANCEL_REASON_HELP = (
    "out of stock, unable to deliver to the address, buyer requested the cancellation, buyer has not paid"
)


def sign(*, secret: str, path: str, params: dict, body: bytes = b"", multipart: bool = False) -> str:
    """TikTok Shop's request signature: the query parameters except sign/access_token,
    sorted, as key+value, prefixed by the path, the raw body appended unless multipart,
    wrapped in the secret, HMAC-SHA256 with the secret, hex."""
    parts = "".join(f"{key}{params[key]}" for key in sorted(params) if key not in EXCLUDED_FROM_SIGN)
    message = path + parts
    if body and not multipart:
        message += body.decode()
    return hmac_sha256_hex(secret, f"{secret}{message}{secret}".encode())


def token_refused(body: dict) -> bool:
    """The envelope says the access token is invalid, expired or revoked for this shop (the
    common errors' authentication and authorisation codes), not that the request was wrong."""
    code = body.get("code")
    message = str(body.get("message") or "").lower()
    # 101000 also names category_asset_cipher, which the adapter never sends.
    if code in (TOKEN_EXPIRED, SCOPE_MISSING, TOKEN_OR_SHOP_MISMATCH):
        return True
    # 36009004 also names the timestamp, the app key, a missing signature, an unexpected identifier.
    return code == COMMON_INVALID and ("access-token" in message or "access_token" in message)


def webhook_signature(*, app_key: str, app_secret: str, raw_body: bytes) -> str:
    return hmac_sha256_hex(app_secret, app_key.encode() + raw_body)


def reference_kind(prefix: str, key: str) -> str:
    """One cached answer per key (an image link, a title, a brand name), so a large catalog
    does not rewrite one ever-growing list."""
    return f"{prefix}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def identifier_code(gtin: str) -> dict | None:
    """`{"code", "type"}` for a barcode, typed by its number of digits; None when it has none."""
    code = (gtin or "").strip()
    if not code.isdigit() or len(code) not in IDENTIFIER_TYPES:
        return None
    return {"code": code, "type": IDENTIFIER_TYPES[len(code)]}


def package_weight(grams: int | None) -> dict | None:
    """The package weight in kilograms (accepted in every region), None when unknown."""
    if not grams or grams <= 0:
        return None
    kilograms = (Decimal(grams) / 1000).quantize(Decimal("0.001"))
    return {"value": format(kilograms.normalize(), "f"), "unit": "KILOGRAM"}


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


class ListingProblem(AdapterError):
    """An item cannot be sent as it is (missing mapping, weight, warehouse …): a listing
    problem for the merchant to fix, never a transport failure."""

    def __init__(self, message: str, *, field: str = "", code: str = "listing_problem"):
        super().__init__(message, code=code, body={"code": code, "message": message})
        self.field = field


class MemoryReferences:
    """Reference data held for the life of one adapter (no cache behind it)."""

    def __init__(self):
        self._data: dict[str, object] = {}

    def get(self, kind: str, fetch: Callable[[], object], *, refresh: bool = False):
        if refresh or kind not in self._data:
            self._data[kind] = fetch()
        return self._data[kind]

    def put(self, kind: str, data) -> None:
        self._data[kind] = data


class TikTokShopAdapter(ChannelAdapter):
    channel = "tiktok_shop"
    webhook_event_words = WEBHOOK_EVENT_WORDS
    credential_specs = (
        CredentialSpec(
            "app_key",
            gettext_lazy("App key"),
            gettext_lazy("Partner Center → App & Service. Leave empty to use this deployment's app."),
            secret=False,
            required=False,
        ),
        CredentialSpec(
            "app_secret",
            gettext_lazy("App secret"),
            gettext_lazy(
                "Partner Center → App & Service; signs every request. Leave empty to use this deployment's app."
            ),
            required=False,
        ),
        CredentialSpec("access_token", gettext_lazy("Access token"), gettext_lazy("From the shop authorisation.")),
        CredentialSpec(
            "shop_cipher",
            gettext_lazy("Shop cipher"),
            gettext_lazy("From GET /authorization/202309/shops."),
            secret=False,
        ),
        CredentialSpec(
            "refresh_token",
            gettext_lazy("Refresh token"),
            gettext_lazy("From the shop authorisation; renews the access token before it expires."),
            required=False,
        ),
    )
    platform_credentials = {"app_key": "TIKTOK_SHOP_APP_KEY", "app_secret": "TIKTOK_SHOP_APP_SECRET"}
    api_host = "https://open-api.tiktokglobalshop.com"
    # No batch endpoint: each product is its own call; this bounds one publish task.
    max_batch = 100
    deletes_by_channel_id = True
    # The variants of one product (one item_group_id) are one TikTok product with a SKU each.
    groups_variants = True
    uses_references = True
    has_order_api = True
    checkout_methods = ("on_channel",)
    has_webhooks = True
    max_lengths = {"id": 50, "title": 255, "description": 10000}

    def __init__(self, *, clock=time.time, references=None, image_fetcher=None, **kwargs):
        super().__init__(**kwargs)
        self.clock = clock
        # Where reference data (warehouses, categories, brands, shipping providers, uploaded
        # images) is cached: channels.references binds the account's cache; without one the
        # adapter looks it up for its own lifetime only.
        self._references = references
        self._image_fetcher = image_fetcher

    # --- Plumbing -------------------------------------------------------------------------

    @property
    def references(self):
        if self._references is None:
            # Not built by adapter_for (which hands it the account's cache): keep what is
            # learnt for this adapter's lifetime only.
            self._references = MemoryReferences()
        return self._references

    @references.setter
    def references(self, value) -> None:
        self._references = value

    @staticmethod
    def path(section: str, rest: str) -> str:
        return f"/{section}/{api_version()}/{rest}"

    def auth_headers(self) -> dict:
        return {"x-tts-access-token": self.credentials.get("access_token", "")}

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        body: dict | None = None,
        files: dict | None = None,
        form: dict | None = None,
    ) -> dict:
        params = {"app_key": self.credentials.get("app_key", ""), "timestamp": str(int(self.clock()))}
        if self.credentials.get("shop_cipher") and not SHOP_CIPHER_REFUSED.match(path):
            params["shop_cipher"] = self.credentials["shop_cipher"]
        params.update({k: str(v) for k, v in (query or {}).items()})
        if files is not None:
            # Multipart bodies are not part of the signature.
            params["sign"] = sign(
                secret=self.credentials.get("app_secret", ""), path=path, params=params, multipart=True
            )
            response = self.client.request(method, path, params=params, files=files, data=form or {})
            return self._envelope(response)
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
        if token_refused(body):
            message = str(body.get("message") or "").strip().rstrip(".")
            raise AuthorizationRefused(
                f"TikTok Shop refused the access token: {message}. Reconnect the account.",
                status=response.status_code,
                code=str(body.get("code")),
                body=body,
            )
        if body.get("code") != 0:
            raise AdapterError(
                f"TikTok Shop refused the request: {body.get('message', '')} "
                f"(code {body.get('code')}, request {body.get('request_id', '')})",
                status=response.status_code,
                code=str(body.get("code")),
                body=body,
            )
        return body.get("data") or {}

    # --- Authorisation -------------------------------------------------------------------

    def authorized_shops(self) -> list[dict]:
        """Get Authorized Shops: the shops the access token is authorised for, each with its
        `id`, `name`, `region`, `seller_type`, `cipher` and `code` (no shop_cipher is sent)."""
        return self.call("GET", self.path("authorization", "shops")).get("shops") or []

    # --- Reference data -------------------------------------------------------------------

    def fetch_warehouses(self) -> list[dict]:
        return self.call("GET", self.path("logistics", "warehouses")).get("warehouses") or []

    def fetch_categories(self) -> list[dict]:
        return self.call("GET", self.path("product", "categories")).get("categories") or []

    def fetch_brands(self, brand_name: str = "") -> list[dict]:
        brands, token = [], ""
        for _page in range(20):
            query = {"page_size": 100}
            if brand_name:
                query["brand_name"] = brand_name
            if token:
                query["page_token"] = token
            data = self.call("GET", self.path("product", "brands"), query=query)
            brands += data.get("brands") or []
            token = data.get("next_page_token") or ""
            if not token:
                break
        return brands

    def fetch_shipping_providers(self, delivery_option_id: str) -> list[dict]:
        data = self.call("GET", self.path("logistics", f"delivery_options/{delivery_option_id}/shipping_providers"))
        return data.get("shipping_providers") or []

    def recommend_category(self, title: str, description: str = "") -> str:
        body = {"product_title": title}
        if description:
            body["description"] = description
        data = self.call("POST", self.path("product", "categories/recommend"), body=body)
        return str(data.get("leaf_category_id") or "")

    def default_warehouse_id(self) -> str:
        """The account's default sales warehouse (else its only enabled sales warehouse)."""
        warehouses = self.references.get("warehouses", self.fetch_warehouses)
        sales = [
            w
            for w in warehouses
            if w.get("type", "SALES_WAREHOUSE") == "SALES_WAREHOUSE" and w.get("effect_status", "ENABLED") == "ENABLED"
        ]
        chosen = next((w for w in sales if w.get("is_default")), None) or (sales[0] if len(sales) == 1 else None)
        if chosen is None:
            raise ListingProblem(
                "The TikTok shop has no default sales warehouse. Set one in TikTok Shop Seller Center "
                "(Settings → Warehouses), then refresh the account's TikTok data.",
                field="warehouse",
            )
        return str(chosen["id"])

    def category_for(self, item: ChannelItem) -> str:
        """The account's mapping of the item's category, else TikTok's recommended leaf
        category for the title (remembered per title)."""
        mapping = self.references.get("category_mapping", dict) or {}
        if item.google_product_category and mapping.get(str(item.google_product_category)):
            return str(mapping[str(item.google_product_category)])

        def recommend() -> str:
            try:
                return self.recommend_category(item.title)
            except AdapterError as exc:
                if exc.body is None or isinstance(exc, AuthorizationRefused):
                    raise
                return ""  # TikTok has no category for it (remembered until a refresh)

        recommended = self.references.get(reference_kind("category_recommendation", item.title), recommend)
        if not recommended:
            raise ListingProblem(
                f"TikTok Shop recommends no category for “{item.title}”. Map the product's category to a "
                "TikTok leaf category in the account's TikTok settings, or give the product a fuller title.",
                field="category",
            )
        return str(recommended)

    def brand_id_for(self, brand: str) -> str:
        """The TikTok brand of that name, or "" (the brand is optional)."""
        if not brand:
            return ""
        key = brand.strip().lower()

        def lookup() -> str:
            found = self.fetch_brands(brand_name=brand.strip())
            return next((str(b["id"]) for b in found if (b.get("name") or "").strip().lower() == key), "")

        return str(self.references.get(reference_kind("brand", key), lookup) or "")

    def shipping_provider_id(self, delivery_option_id: str, carrier: str) -> str:
        providers = self.references.get(
            f"shipping_providers:{delivery_option_id}", lambda: self.fetch_shipping_providers(delivery_option_id)
        )
        wanted = _norm(carrier)
        if not wanted:
            raise AdapterError("Name the carrier: TikTok Shop needs the shipping provider of the package.")
        exact = [p for p in providers if _norm(p.get("name", "")) == wanted or str(p.get("id")) == carrier.strip()]
        close = [p for p in providers if wanted in _norm(p.get("name", "")) or _norm(p.get("name", "")) in wanted]
        match = exact[:1] or (close if len(close) == 1 else [])
        if not match:
            names = ", ".join(sorted(p.get("name", "") for p in providers)) or "none"
            raise AdapterError(
                f"TikTok Shop does not know the carrier “{carrier}” for this order's delivery option. "
                f"Use one of its shipping providers: {names}."
            )
        return str(match[0]["id"])

    # --- Images -----------------------------------------------------------------------------

    def _download(self, url: str) -> bytes:
        if self._image_fetcher is not None:
            return self._image_fetcher(url)
        # Image links are the merchant's input: public addresses only, checked on every
        # connection (redirects included, as image hosts redirect to their CDN).
        transport = GuardedTransport(allow_loopback=net.loopback_allowed())
        try:
            with httpx.Client(
                timeout=httpx.Timeout(20.0, connect=5.0), follow_redirects=True, transport=transport
            ) as client:
                response = client.get(url)
        except httpx.HTTPError as exc:
            raise ListingProblem(f"The image {url} could not be downloaded.", field="image_link") from exc
        if response.status_code != 200 or not response.content:
            raise ListingProblem(
                f"The image {url} could not be downloaded (HTTP {response.status_code}).", field="image_link"
            )
        if len(response.content) > MAX_IMAGE_BYTES:
            raise ListingProblem(f"The image {url} is larger than TikTok Shop's 10 MB.", field="image_link")
        return response.content

    def upload_image(self, data: bytes, *, use_case: str = "MAIN_IMAGE") -> dict:
        """Upload Product Image: multipart `data` (the file) and `use_case`; answers `uri`."""
        return self.call(
            "POST",
            self.path("product", "images/upload"),
            files={"data": ("image", data, "application/octet-stream")},
            form={"use_case": use_case},
        )

    def image_uri(self, image_link: str, *, again: bool = False) -> str:
        """The TikTok URI of an image of ours: uploaded once, remembered by link (`again`:
        upload it anew)."""

        def upload() -> str:
            return str(self.upload_image(self._download(image_link)).get("uri") or "")

        return str(self.references.get(reference_kind("image", image_link), upload, refresh=again) or "")

    # --- Payloads ---------------------------------------------------------------------------

    def _sku_body(self, item: ChannelItem, warehouse_ids: list[str]) -> dict:
        quantity = min(MAX_STOCK, max(0, int(item.quantity or 0)))
        sku = {
            "seller_sku": item.id,
            "price": {"amount": format_amount(item.price, item.currency), "currency": item.currency.upper()},
            "inventory": [
                {"warehouse_id": w, "quantity": quantity if n == 0 else 0} for n, w in enumerate(warehouse_ids)
            ],
        }
        code = identifier_code(item.gtin)
        if code:
            sku["identifier_code"] = code
        attributes = [{"name": n, "value_name": v} for n, v in (("Size", item.size), ("Color", item.color)) if v]
        if attributes:
            sku["sales_attributes"] = attributes
        return sku

    def build_payload(self, item: ChannelItem) -> dict:
        """What the item states to TikTok, built locally (plans hash and compare it). The
        category, brand, image and warehouse are TikTok ids resolved when publishing; `source`
        holds what they are resolved from."""
        sku = self._sku_body(item, [""])
        sku["inventory"] = [{"quantity": sku["inventory"][0]["quantity"]}]
        payload = {
            "title": item.title,
            "description": item.description,
            "skus": [sku],
            "external_product_id": item.item_group_id or item.id,
            "source": {
                "image_link": item.image_link,
                "brand": item.brand,
                "google_product_category": item.google_product_category,
            },
        }
        weight = package_weight(item.weight_grams)
        if weight:
            payload["package_weight"] = weight
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
        if not item.weight_grams or item.weight_grams <= 0:
            errors.append(
                ItemError(
                    "A shipping weight is required: TikTok Shop needs the package weight of every product.",
                    "missing_field",
                    "weight_grams",
                )
            )
        if item.gtin and identifier_code(item.gtin) is None:
            errors.append(
                ItemError(
                    "The barcode must be 8 or 13 digits (EAN), 12 digits (UPC) or 14 digits (GTIN).",
                    "invalid",
                    "gtin",
                )
            )
        country = (self.market.get("country") or "").upper()
        if country and country not in ("US", "GB") and item.title and len(item.title) < 25:
            errors.append(
                ItemError("In this market TikTok Shop needs a title of at least 25 characters.", "too_short", "title")
            )
        if item.currency and not re.fullmatch(r"[A-Za-z]{3}", item.currency):
            errors.append(ItemError("currency must be a 3-letter code.", "invalid", "currency"))
        return errors

    # --- Products -----------------------------------------------------------------------------

    def product_id_by_seller_skus(self, seller_skus: list[str]) -> str:
        """The product (not deleted) that has one of these seller SKUs, or ""."""
        data = self.call(
            "POST", self.path("product", "products/search"), query={"page_size": 100}, body={"seller_skus": seller_skus}
        )
        for product in data.get("products") or []:
            if product.get("status") != "DELETED" and any(
                s.get("seller_sku") in seller_skus for s in product.get("skus") or []
            ):
                return str(product["id"])
        return ""

    def get_product(self, product_id: str) -> dict:
        return self.call("GET", self.path("product", f"products/{product_id}"))

    def update_price(self, product_id: str, sku_id: str, amount, currency: str) -> dict:
        return self.update_prices(product_id, [(sku_id, amount, currency)])

    def update_prices(self, product_id: str, prices: list[tuple[str, Decimal, str]]) -> dict:
        skus = [
            {"id": sku_id, "price": {"amount": format_amount(amount, currency), "currency": currency.upper()}}
            for sku_id, amount, currency in prices
        ]
        return self.call("POST", self.path("product", f"products/{product_id}/prices/update"), body={"skus": skus})

    def update_inventory(self, product_id: str, sku_id: str, quantity: int, warehouse_id: str = "") -> dict:
        return self.update_inventories(product_id, [(sku_id, quantity, warehouse_id)])

    def update_inventories(self, product_id: str, stock: list[tuple[str, int, str]]) -> dict:
        skus = []
        for sku_id, quantity, warehouse_id in stock:
            entry = {"quantity": min(MAX_STOCK, max(0, int(quantity)))}
            if warehouse_id:
                entry["warehouse_id"] = warehouse_id
            skus.append({"id": sku_id, "inventory": [entry]})
        return self.call("POST", self.path("product", f"products/{product_id}/inventory/update"), body={"skus": skus})

    def activate(self, product_ids: list[str]) -> dict:
        return self.call("POST", self.path("product", "products/activate"), body={"product_ids": list(product_ids)})

    def deactivate(self, product_ids: list[str]) -> dict:
        return self.call("POST", self.path("product", "products/deactivate"), body={"product_ids": list(product_ids)})

    def publish_batch(self, items: list[ChannelItem]) -> list[ItemResult]:
        """Create or change one TikTok product per group of variants (same item_group_id);
        the results are final (TikTok answers synchronously)."""
        self._check_batch_size(len(items))
        groups: dict[str, list[ChannelItem]] = {}
        for item in items:
            groups.setdefault(item.item_group_id or item.id, []).append(item)
        results: list[ItemResult] = []
        for group in groups.values():
            try:
                try:
                    results += self._publish_group(group)
                except AdapterError as exc:
                    if exc.code != str(MAIN_IMAGE_URI_ILLEGAL):
                        raise
                    # An image uploaded earlier is no longer TikTok's: upload it again, once.
                    self.image_uri(group[0].image_link, again=True)
                    results += self._publish_group(group)
            except AdapterError as exc:
                if exc.body is None or isinstance(exc, AuthorizationRefused):
                    # Not the channel's verdict on these items: transient, transport, or a
                    # token refused for the whole account (the batch fails as a whole).
                    raise
                error = ItemError(str(exc), code=exc.code, field=getattr(exc, "field", ""))
                results += [ItemResult(item_id=i.id, ok=False, errors=[error]) for i in group]
        return results

    def _publish_group(self, group: list[ChannelItem]) -> list[ItemResult]:
        weights = [i.weight_grams for i in group]
        if not all(w and w > 0 for w in weights):
            raise ListingProblem(
                "A shipping weight is required: TikTok Shop needs the package weight of every product.",
                field="weight_grams",
            )
        product_id = next((i.channel_item_id for i in group if i.channel_item_id), "")
        if not product_id:
            # A create that reached TikTok before its answer was lost (a worker died, a
            # timeout) left a product with these seller SKUs: that one is edited, not doubled.
            product_id = self.product_id_by_seller_skus([i.id for i in group])
        if not product_id:
            body = self._product_body(group, current=None)
            data = self.call("POST", self.path("product", "products"), body=body)
            return self._results(group, str(data.get("product_id") or ""), data.get("skus") or [], data)
        current = self.get_product(product_id)
        skus = self._match_skus(group, current)
        if all(skus.values()) and not self._product_changed(group, current, skus):
            self._update_prices_and_stock(product_id, group, skus)
            data = {"skus": [{"id": s["id"], "seller_sku": i} for i, s in skus.items()]}
        else:
            body = self._product_body(group, current=current, matched=skus)
            data = self.call("PUT", self.path("product", f"products/{product_id}"), body=body)
        if current.get("status") == "SELLER_DEACTIVATED":
            self.activate([product_id])  # listed again after the merchant removed it
        return self._results(group, str(data.get("product_id") or product_id), data.get("skus") or [], data)

    def _results(self, group, product_id: str, skus: list[dict], data: dict) -> list[ItemResult]:
        by_seller_sku = {str(s.get("seller_sku")): str(s.get("id") or "") for s in skus}
        warnings = [ItemError(w.get("message", "")) for w in data.get("warnings") or []]
        return [
            ItemResult(
                item_id=item.id,
                ok=True,
                channel_item_id=product_id,
                channel_sku_id=by_seller_sku.get(item.id) or item.channel_sku_id,
                warnings=list(warnings),
            )
            for item in group
        ]

    @staticmethod
    def _match_skus(group: list[ChannelItem], current: dict) -> dict[str, dict | None]:
        """Each item's SKU on the TikTok product (by its SKU id, else its seller SKU)."""
        skus = current.get("skus") or []
        by_id = {str(s.get("id")): s for s in skus}
        by_seller = {str(s.get("seller_sku")): s for s in skus}
        return {i.id: by_id.get(i.channel_sku_id) or by_seller.get(i.id) for i in group}

    def _product_changed(self, group, current: dict, skus: dict) -> bool:
        lead = group[0]
        if (current.get("title") or "") != lead.title or (current.get("description") or "") != lead.description:
            return True
        wanted = package_weight(max(i.weight_grams for i in group))
        have = current.get("package_weight") or {}
        if have.get("unit") != wanted["unit"] or _decimal(have.get("value")) != _decimal(wanted["value"]):
            return True
        uri = self.image_uri(lead.image_link)  # uploaded once; a new link is a new image
        if not uri or uri not in [m.get("uri") for m in current.get("main_images") or []]:
            return True
        brand = self.brand_id_for(lead.brand)
        if brand and brand != str((current.get("brand") or {}).get("id") or ""):
            return True
        mapping = self.references.get("category_mapping", dict) or {}
        mapped = mapping.get(str(lead.google_product_category)) if lead.google_product_category else None
        if mapped and str(mapped) != _leaf_category(current):
            return True
        for item in group:
            sku = skus[item.id]
            if (sku.get("identifier_code") or None) != identifier_code(item.gtin) and identifier_code(item.gtin):
                return True
            have_values = sorted(a.get("value_name", "") for a in sku.get("sales_attributes") or [])
            want_values = sorted(v for v in (item.size, item.color) if v)
            if have_values != want_values:
                return True
        return False

    def _update_prices_and_stock(self, product_id: str, group, skus: dict) -> None:
        prices, stock = [], []
        for item in group:
            sku = skus[item.id]
            price = sku.get("price") or {}
            have = _decimal(price.get("tax_exclusive_price") or price.get("sale_price") or price.get("amount"))
            want = Decimal(format_amount(item.price, item.currency))
            if have != want or (price.get("currency") or "").upper() != item.currency.upper():
                prices.append((str(sku["id"]), item.price, item.currency))
            quantity = min(MAX_STOCK, max(0, int(item.quantity or 0)))
            inventory = sku.get("inventory") or []
            if sum(int(i.get("quantity") or 0) for i in inventory) != quantity:
                # Warehouses of a SKU cannot change here: the stock goes to its first one.
                stock.append((str(sku["id"]), quantity, str((inventory[:1] or [{}])[0].get("warehouse_id") or "")))
        if prices:
            self.update_prices(product_id, prices)
        if stock:
            self.update_inventories(product_id, stock)

    def _product_body(self, group, *, current: dict | None, matched: dict | None = None) -> dict:
        """The whole product as Create/Edit Product take it. An edit keeps every SKU TikTok
        has (a SKU left out of an edit is deleted) and each SKU's warehouses."""
        lead = group[0]
        warehouse = None
        body: dict = {
            "title": lead.title,
            "description": lead.description,
            "package_weight": package_weight(max(i.weight_grams for i in group)),
            "external_product_id": lead.item_group_id or lead.id,
        }
        mapping = self.references.get("category_mapping", dict) or {}
        mapped = mapping.get(str(lead.google_product_category)) if lead.google_product_category else None
        if current is not None and _leaf_category(current) and not mapped:
            body["category_id"] = _leaf_category(current)
        else:
            body["category_id"] = self.category_for(lead)
        brand = self.brand_id_for(lead.brand)
        if brand:
            body["brand_id"] = brand
        elif current and (current.get("brand") or {}).get("id"):
            body["brand_id"] = str(current["brand"]["id"])
        uri = self.image_uri(lead.image_link)
        images = [{"uri": m["uri"]} for m in (current or {}).get("main_images") or [] if m.get("uri")]
        # Our image is the first; further images the merchant added on TikTok stay.
        body["main_images"] = images if uri in [m["uri"] for m in images] else [{"uri": uri}, *images[1:9]]
        if current:
            for key in ("package_dimensions", "product_attributes", "is_cod_allowed", "size_chart", "video"):
                if current.get(key):
                    body[key] = _edit_shape(key, current[key])
        skus = []
        ours = {i.id for i in group}
        matched = matched or {}
        for existing in (current or {}).get("skus") or []:
            if str(existing.get("seller_sku")) in ours or existing in matched.values():
                continue
            skus.append(_existing_sku(existing))  # another variant, kept as TikTok has it
        for item in group:
            sku_now = matched.get(item.id)
            if sku_now:
                warehouses = [str(w["warehouse_id"]) for w in sku_now.get("inventory") or [] if w.get("warehouse_id")]
                sku = self._sku_body(item, warehouses or [warehouse or self.default_warehouse_id()])
                sku["id"] = str(sku_now["id"])
            else:
                warehouse = warehouse or self.default_warehouse_id()
                sku = self._sku_body(item, [warehouse])
            skus.append(sku)
        body["skus"] = skus
        return body

    def delete_items(self, items: list[ChannelItem]) -> list[ItemResult]:
        """Remove SKUs: a product losing all its SKUs is deactivated (the merchant can
        reactivate it); otherwise the product is edited without them."""
        by_product: dict[str, list[ChannelItem]] = {}
        results = []
        for item in items:
            if item.channel_item_id:
                by_product.setdefault(item.channel_item_id, []).append(item)
            else:
                results.append(ItemResult(item_id=item.id, ok=True))  # never reached TikTok
        for product_id, doomed in by_product.items():
            try:
                self._delete_from_product(product_id, doomed)
            except AdapterError as exc:
                if exc.body is None or isinstance(exc, AuthorizationRefused):
                    raise
                if exc.code in PRODUCT_GONE_CODES:  # already gone from TikTok: removed
                    results += [ItemResult(item_id=i.id, ok=True, channel_item_id=product_id) for i in doomed]
                    continue
                error = ItemError(str(exc), code=exc.code)
                results += [ItemResult(item_id=i.id, ok=False, errors=[error]) for i in doomed]
                continue
            results += [
                ItemResult(item_id=i.id, ok=True, channel_item_id=product_id, channel_sku_id=i.channel_sku_id)
                for i in doomed
            ]
        return results

    def _delete_from_product(self, product_id: str, doomed: list[ChannelItem]) -> None:
        current = self.get_product(product_id)
        sku_ids = {i.channel_sku_id for i in doomed if i.channel_sku_id}
        seller_skus = {i.id for i in doomed}
        keep = [
            s
            for s in current.get("skus") or []
            if str(s.get("id")) not in sku_ids and str(s.get("seller_sku")) not in seller_skus
        ]
        if not keep:
            data = self.deactivate([product_id])
            failed = [
                e for e in data.get("errors") or [] if str((e.get("detail") or {}).get("product_id")) == product_id
            ]
            if failed:
                raise AdapterError(
                    f"TikTok Shop refused to deactivate product {product_id}: {failed[0].get('message', '')}",
                    code=str(failed[0].get("code", "")),
                    body=data,
                )
            return
        if len(keep) == len(current.get("skus") or []):
            return  # none of them is on the product any more
        body = _existing_product(current)
        body["skus"] = [_existing_sku(s) for s in keep]
        self.call("PUT", self.path("product", f"products/{product_id}"), body=body)

    def batch_status(self, handle: str, *, sent_ids: list[str] | None = None) -> BatchStatus:
        return BatchStatus(handle=handle, done=True)

    # --- Orders -------------------------------------------------------------------------------

    def fetch_orders(self, *, since: int | None = None, cursor: str | None = None, page_size: int = 100) -> OrdersPage:
        query = {"page_size": min(page_size, 100)}
        if cursor:
            query["page_token"] = cursor
        body = {"update_time_ge": since} if since is not None else {}
        data = self.call("POST", self.path("order", "orders/search"), query=query, body=body)
        orders = data.get("orders") or []
        self._attach_returns(orders)
        return OrdersPage(orders=orders, next_cursor=data.get("next_page_token") or None)

    def order_detail(self, order_ids: list[str]) -> list[dict]:
        orders = []
        for start in range(0, len(order_ids), 50):
            chunk = order_ids[start : start + 50]
            data = self.call("GET", self.path("order", "orders"), query={"ids": ",".join(chunk)})
            orders += data.get("orders") or []
        self._attach_returns(orders)
        return orders

    def search_returns(self, order_ids: list[str]) -> list[dict]:
        found, token = [], ""
        for _page in range(20):
            query = {"page_size": 50}
            if token:
                query["page_token"] = token
            data = self.call(
                "POST", self.path("return_refund", "returns/search"), query=query, body={"order_ids": order_ids}
            )
            found += data.get("return_orders") or []
            token = data.get("next_page_token") or ""
            if not token:
                break
        return found

    def _attach_returns(self, orders: list[dict]) -> None:
        """The order's returns and refunds (Search Returns), kept on the order as
        `return_orders`, so normalize_order can count refunded units."""
        ids = [str(o.get("id")) for o in orders if o.get("id")]
        if not ids:
            return
        returns: dict[str, list] = {}
        for start in range(0, len(ids), 50):
            for entry in self.search_returns(ids[start : start + 50]):
                returns.setdefault(str(entry.get("order_id")), []).append(entry)
        for order in orders:
            order["return_orders"] = returns.get(str(order.get("id")), [])

    def normalize_order(self, raw: dict) -> ChannelOrder:
        """An order of `orders/search` or order detail in neutral terms.

        TikTok lists one line item per unit; lines of the same SKU are summed back into one,
        with the units cancelled (line item status CANCELLED) and refunded (a finished
        return or refund naming the line item)."""
        status = raw.get("status", "")
        payment = raw.get("payment") or {}
        currency = (payment.get("currency") or "").upper()
        refunded_ids = {
            str(li.get("order_line_item_id"))
            for entry in raw.get("return_orders") or []
            if entry.get("return_status") in REFUND_DONE_STATUSES
            for li in entry.get("return_line_items") or []
        }
        grouped: dict[str, ChannelOrderLine] = {}
        for item in raw.get("line_items") or []:
            sku = str(item.get("seller_sku") or "")
            key = sku or str(item.get("sku_id") or item.get("product_id") or "")
            currency = currency or (item.get("currency") or "").upper()
            units = int(item.get("quantity") or 1)
            line = grouped.get(key)
            if line is None:
                line = grouped[key] = ChannelOrderLine(
                    channel_item_id=key,
                    sku=sku,
                    quantity=0,
                    unit_price=Decimal(str(item.get("sale_price") or "0")),
                    title=item.get("product_name", "") or "",
                )
            line.quantity += units
            if item.get("display_status") == "CANCELLED" or status == "CANCELLED":
                line.quantity_cancelled += units
            elif str(item.get("id")) in refunded_ids:
                line.quantity_refunded += units
        lines = list(grouped.values())
        line_sum = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        address = raw.get("recipient_address") or {}
        discounts = sum(
            (Decimal(str(payment.get(k) or "0")) for k in ("seller_discount", "platform_discount")), Decimal("0")
        )
        lifecycle = ORDER_STATUS_LIFECYCLE.get(status, "pending")
        live = sum(ln.quantity - ln.quantity_cancelled for ln in lines)
        refunded = sum(ln.quantity_refunded for ln in lines)
        if lifecycle != "cancelled" and refunded:
            lifecycle = "refunded" if refunded >= live else "partially_refunded"
        return ChannelOrder(
            external_id=str(raw.get("id", "")),
            channel_status=status,
            lifecycle=lifecycle,
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

    def _one_order(self, order_id: str) -> dict:
        data = self.call("GET", self.path("order", "orders"), query={"ids": order_id})
        order = next((o for o in data.get("orders") or [] if str(o.get("id")) == str(order_id)), None)
        if order is None:
            raise AdapterError(f"TikTok Shop does not know order {order_id}.", code="not_found", body=data)
        return order

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
        """Mark Package As Shipped (seller shipping): the order's line item ids of the units
        shipped (one per unit), the tracking number and TikTok's shipping provider id.

        Units already shipped under this tracking number count as sent, so a retried push
        ships nothing twice."""
        order = self._one_order(order_id)
        picked: list[str] = []
        already = 0
        for line in lines:
            key = str(line.channel_item_id)
            units = [
                li
                for li in order.get("line_items") or []
                if key in (str(li.get("seller_sku") or ""), str(li.get("sku_id") or ""))
                and li.get("display_status") != "CANCELLED"
            ]
            sent = [li for li in units if li.get("tracking_number") == tracking_number and li.get("package_id")]
            open_units = [li for li in units if not li.get("package_id") and not li.get("tracking_number")]
            need = max(0, int(line.quantity) - len(sent))
            already += min(len(sent), int(line.quantity))
            if need > len(open_units):
                raise AdapterError(
                    f"TikTok Shop has {len(open_units)} unit(s) of {key} left to ship on order {order_id}; "
                    f"this shipment names {line.quantity}."
                )
            picked += [str(li["id"]) for li in open_units[:need]]
        if not picked:
            return {"already_shipped": already}
        if order.get("status") not in SHIPPABLE_STATUSES:
            raise AdapterError(f"TikTok Shop order {order_id} is {order.get('status')}; it cannot be shipped now.")
        provider = self.shipping_provider_id(str(order.get("delivery_option_id") or ""), carrier)
        return self.call(
            "POST",
            self.path("fulfillment", f"orders/{order_id}/packages"),
            body={"order_line_item_ids": picked, "tracking_number": tracking_number, "shipping_provider_id": provider},
        )

    @staticmethod
    def cancel_reason_code(reason: str, order_status: str) -> str:
        """TikTok's seller cancellation reason code for the merchant's words (or a code)."""
        group = "unpaid" if order_status == "UNPAID" else "paid"
        codes = CANCEL_REASONS[group]
        text = (reason or "").strip().lower()
        if text in codes.values():
            return text
        for kind, words in CANCEL_REASON_WORDS:
            if kind in codes and any(w in text for w in words):
                return codes[kind]
        raise AdapterError(
            f"TikTok Shop takes a cancellation reason from its own list; “{reason}” is none of them. "
            f"Say one of: {CANCEL_REASON_HELP}."
        )

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> dict:
        order = self._one_order(order_id)
        if order.get("status") == "CANCELLED":
            return {"already_cancelled": True}
        code = self.cancel_reason_code(reason, order.get("status", ""))
        return self.call(
            "POST", self.path("return_refund", "cancellations"), body={"order_id": order_id, "cancel_reason": code}
        )

    # --- Webhooks -------------------------------------------------------------------------------

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
        try:
            number = int(event_type)
        except (TypeError, ValueError):
            number = None
        order_id = str(data.get("order_id", "") or "")
        # A notification without an id is stored once per distinct body.
        event_id = str(body.get("tts_notification_id") or "") or ("sha256:" + hashlib.sha256(raw_body).hexdigest())
        event = InboundEvent(
            event_id=event_id,
            event_type=str(event_type),
            is_order=number in ORDER_EVENT_TYPES and bool(order_id),
            order_id=order_id,
            order_ids=[order_id] if order_id else [],
            data=body,
        )
        if number == WEBHOOK_SELLER_DEAUTHORIZATION:
            event.needs_reconnect = True
            event.account_message = (
                "The shop withdrew this app's access on TikTok Shop. Authorise it again (reconnect the "
                "account) to resume publishing and orders."
            )
        elif number == WEBHOOK_UPCOMING_AUTHORIZATION_EXPIRATION:
            expires = _from_unix(data.get("expiration_time"))
            when = f" on {expires:%Y-%m-%d}" if expires else ""
            event.needs_reconnect = True
            event.account_message = (
                f"TikTok Shop's authorisation of this account expires{when}. Authorise it again (reconnect "
                "the account) before then."
            )
        return event


def _leaf_category(product: dict) -> str:
    chain = product.get("category_chains") or []
    leaf = next((c for c in chain if c.get("is_leaf")), None)
    return str(leaf["id"]) if leaf else ""


def _edit_shape(key: str, value):
    if key == "product_attributes":
        return [
            {
                "id": str(a.get("id")),
                "values": [{k: v for k, v in val.items() if k in ("id", "name")} for val in a.get("values") or []],
            }
            for a in value
        ]
    if key == "size_chart":
        image = (value or {}).get("image") or {}
        template = (value or {}).get("template") or {}
        shaped = {}
        if image.get("uri"):
            shaped["image"] = {"uri": image["uri"]}
        if template.get("id"):
            shaped["template"] = {"id": template["id"]}
        return shaped
    if key == "video":
        return {"id": value.get("id")} if isinstance(value, dict) else value
    return value


def _existing_sku(sku: dict) -> dict:
    """A SKU as Get Product shows it, in the shape Edit Product takes (keeps its id)."""
    price = sku.get("price") or {}
    shaped = {
        "id": str(sku.get("id")),
        "seller_sku": sku.get("seller_sku", ""),
        "price": {
            "amount": str(price.get("tax_exclusive_price") or price.get("sale_price") or price.get("amount") or "0"),
            "currency": price.get("currency", ""),
        },
        "inventory": [
            {"warehouse_id": str(w.get("warehouse_id")), "quantity": int(w.get("quantity") or 0)}
            for w in sku.get("inventory") or []
        ],
    }
    if sku.get("identifier_code"):
        shaped["identifier_code"] = {k: sku["identifier_code"].get(k) for k in ("code", "type")}
    if sku.get("sales_attributes"):
        shaped["sales_attributes"] = [
            {k: a[k] for k in ("id", "name", "value_id", "value_name") if a.get(k)} for a in sku["sales_attributes"]
        ]
    return shaped


def _existing_product(product: dict) -> dict:
    """The product-level fields of Get Product in the shape Edit Product takes."""
    body = {
        "title": product.get("title", ""),
        "description": product.get("description", ""),
        "category_id": _leaf_category(product),
        "main_images": [{"uri": m["uri"]} for m in product.get("main_images") or [] if m.get("uri")],
    }
    if product.get("package_weight"):
        body["package_weight"] = {k: product["package_weight"].get(k) for k in ("value", "unit")}
    if (product.get("brand") or {}).get("id"):
        body["brand_id"] = str(product["brand"]["id"])
    if product.get("external_product_id"):
        body["external_product_id"] = product["external_product_id"]
    for key in ("package_dimensions", "product_attributes", "is_cod_allowed", "size_chart", "video"):
        if product.get(key):
            body[key] = _edit_shape(key, product[key])
    return body


def _from_unix(value):
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None
