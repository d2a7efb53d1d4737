"""What every channel adapter shares: the item it is fed, its results, and the HTTP client.

The adapters never know whether they talk to the real channel or to channels/sandbox/:
only `api_base_url` differs.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import httpx

from channels.adapters import net
from channels.adapters.net import GuardedTransport

logger = logging.getLogger(__name__)


# --- What adapters are fed ---------------------------------------------------------------


class Availability:
    """Our availability words; each adapter spells them as its channel does."""

    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    PREORDER = "preorder"
    BACKORDER = "backorder"
    DISCONTINUED = "discontinued"
    ALL = (IN_STOCK, OUT_OF_STOCK, PREORDER, BACKORDER, DISCONTINUED)


@dataclass
class ChannelItem:
    """One sellable item as the channels see it: a variant priced for one market.

    Plain data so the listings/feeds code can fill it from the catalog and market prices
    without the adapters knowing those models.
    """

    id: str
    title: str
    description: str
    link: str
    image_link: str
    price: Decimal
    currency: str
    availability: str = Availability.IN_STOCK
    condition: str = "new"
    brand: str = ""
    gtin: str = ""
    mpn: str = ""
    item_group_id: str = ""
    quantity: int | None = None
    google_product_category: str = ""
    size: str = ""
    color: str = ""
    # The channel's own ids once it has them (TikTok Shop product id and SKU id); empty for a
    # new item.
    channel_item_id: str = ""
    channel_sku_id: str = ""
    # When a preorder or backorder item becomes available (ISO 8601), where known.
    availability_date: str = ""
    # Shipping weight in grams, where known (TikTok Shop requires a package weight).
    weight_grams: int | None = None
    # The reduced price next to `price` (the regular one), in the same currency, and when it
    # applies as an ISO 8601 interval (`2025-11-01T00:00+00:00/2025-11-30T23:59+00:00`);
    # empty: the sale price applies as long as it is sent.
    sale_price: Decimal | None = None
    sale_price_effective_date: str = ""
    # The merchant's labels for campaign filtering (custom_label_0…4 on Meta, Google, Pinterest).
    custom_labels: list[str] = field(default_factory=list)


def format_amount(amount: Decimal, currency: str) -> str:
    """Round to the currency's minor units (ISO 4217 exponent) at the edge."""
    quantum = _QUANTA.get(currency) or _QUANTA.setdefault(
        currency, Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), 2))
    )
    return str(Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP))


_QUANTA: dict[str, Decimal] = {}  # feeds format 100k prices: one quantum per currency, not per call


def format_price(amount: Decimal, currency: str) -> str:
    """`9.99 USD`: the price format Meta, Pinterest and Snapchat share."""
    return f"{format_amount(amount, currency)} {currency.upper()}"


def product_attributes(item: ChannelItem, availability: dict[str, str]) -> dict:
    """The product attributes every channel's catalog shares (Google's product data spec,
    which Meta, Pinterest and Snapchat follow), with availability spelled the channel's way.
    Each adapter adds, drops or reshapes from here."""
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "link": item.link,
        "image_link": item.image_link,
        "availability": availability.get(item.availability, item.availability),
        "price": format_price(item.price, item.currency),
        "condition": item.condition,
        "brand": item.brand,
        "gtin": item.gtin,
        "mpn": item.mpn,
        "item_group_id": item.item_group_id,
        "google_product_category": item.google_product_category,
        "size": item.size,
        "color": item.color,
    }


MAX_CUSTOM_LABELS = 5


def custom_label_fields(item: ChannelItem, prefix: str = "") -> dict[str, str]:
    """`custom_label_0…4` for the item's non-empty labels (Meta, Google `g:`, Pinterest)."""
    return {
        f"{prefix}custom_label_{i}": label for i, label in enumerate(item.custom_labels[:MAX_CUSTOM_LABELS]) if label
    }


# Currencies whose minor unit is not 2 (ISO 4217); the rest use 2.
MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


# --- What connecting takes -----------------------------------------------------------------


@dataclass(frozen=True)
class CredentialSpec:
    """One credential a channel account needs (its key is a public API contract)."""

    key: str
    # Lazy: shown in the connect form in the viewer's language.
    label: str
    help: str
    secret: bool = True
    pattern: str | None = None
    pattern_hint: str = ""
    # Left out: the adapter uses the deployment's own value (platform_credentials), or the
    # account works without it (a refresh token).
    required: bool = True


# --- What adapters answer ----------------------------------------------------------------


@dataclass
class ItemError:
    message: str
    code: str = ""
    field: str = ""


@dataclass
class ItemResult:
    """The channel's verdict on one item, errors and warnings in full."""

    item_id: str
    ok: bool
    channel_item_id: str = ""
    channel_sku_id: str = ""
    errors: list[ItemError] = field(default_factory=list)
    warnings: list[ItemError] = field(default_factory=list)


@dataclass
class BatchStatus:
    handle: str
    done: bool
    failed: bool = False
    results: list[ItemResult] = field(default_factory=list)
    raw: Any = None


@dataclass
class OrdersPage:
    orders: list[dict]
    next_cursor: str | None


@dataclass
class InboundEvent:
    """An adapter's reading of a verified webhook body."""

    event_id: str
    event_type: str
    is_order: bool = False
    order_id: str = ""
    data: Any = None
    # Every order the delivery names (a Meta delivery can carry several changes); order_id
    # is the first of them.
    order_ids: list[str] = field(default_factory=list)
    # The channel withdrew or is about to withdraw our authorisation: the account needs
    # reconnecting, and `account_message` tells the merchant why.
    needs_reconnect: bool = False
    account_message: str = ""


# Our order lifecycle, spelled as the orders app spells it; each adapter's status table maps
# its channel's statuses onto these words (channels sits below orders and cannot import it).
ORDER_LIFECYCLE = (
    "pending",
    "awaiting_fulfillment",
    "partially_fulfilled",
    "fulfilled",
    "cancelled",
    "partially_refunded",
    "refunded",
)


@dataclass
class ChannelOrderLine:
    channel_item_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    title: str = ""
    tax: Decimal = Decimal("0")
    # Units the channel reports cancelled or refunded on this line.
    quantity_cancelled: int = 0
    quantity_refunded: int = 0


@dataclass
class ChannelOrder:
    """A channel's order in neutral terms, built by the adapter's `normalize_order`.

    Amounts are Decimal in `currency` as the channel reported them; times are aware datetimes.
    """

    external_id: str
    channel_status: str
    lifecycle: str
    currency: str
    total: Decimal
    lines: list[ChannelOrderLine] = field(default_factory=list)
    subtotal: Decimal = Decimal("0")
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    duties: Decimal = Decimal("0")
    discounts: Decimal = Decimal("0")
    placed_at: Any = None
    updated_at: Any = None
    buyer_name: str = ""
    buyer_email: str = ""
    buyer_phone: str = ""
    shipping_address: dict = field(default_factory=dict)
    buyer_message: str = ""
    country: str = ""
    raw: Any = None
    # Where the order came from, when the one who placed it knows (our checkout: the landing's
    # `orders.attribution.Landing.as_attribution()`): {"source", "campaign", "landing"}. Empty:
    # the order is the channel's own, and its source is the account's channel.
    attribution: dict = field(default_factory=dict)


@dataclass
class ShipmentLine:
    """One line of a fulfilment as sent to a channel."""

    channel_item_id: str
    quantity: int


class AdapterError(Exception):
    """The channel refused a request (not transient). The message never holds credentials."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", body: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body


class TransientError(AdapterError):
    """Retries ran out on 5xx, timeouts or dropped connections; try again later."""


class RateLimited(AdapterError):
    """The channel asked us to wait longer than this call may block; retry after `wait` seconds."""

    def __init__(self, message: str, *, wait: float, **kwargs):
        super().__init__(message, **kwargs)
        self.wait = wait


class NotSupported(AdapterError):
    """The channel has no API for this (feed-only channels)."""


# --- HTTP ------------------------------------------------------------------------------------


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class Verdict:
    """How to treat a response: accept it, retry it (after `wait` if given), or wait for a rate limit."""

    action: str  # "ok" | "retry" | "rate_limited"
    wait: float | None = None


ADDRESS_REFUSED = (
    "The channel's API address resolves to a network address Shopadmin does not connect to; "
    "leave the API base URL empty to use the channel itself."
)


class HttpClient:
    """httpx with timeouts and retries: exponential backoff with full jitter on 5xx, timeouts
    and dropped connections; 429 (or a channel's own throttle signal) waits as long as the
    channel says. A wait longer than `max_wait` is not slept through: RateLimited goes up so
    a task can be rescheduled instead of holding a worker.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict | None = None,
        params: dict | None = None,
        timeout: float = 15.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_wait: float = 60.0,
        classify: Callable[[httpx.Response], Verdict] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_wait = max_wait
        self.classify = classify or default_classify
        self.sleep = sleep
        self.attempts_log: list[str] = []  # what happened on each attempt (tests, job logs)
        self._client = httpx.Client(
            headers=headers or {},
            # Query parameters every call carries (Meta's appsecret_proof).
            params=params or {},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport or GuardedTransport(allow_loopback=net.loopback_allowed()),
            follow_redirects=False,  # a redirect could lead our credentials elsewhere
        )

    def close(self) -> None:
        self._client.close()

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * (2**attempt)))

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        url = self.base_url + path
        last_error: str = ""
        for attempt in range(self.max_attempts):
            try:
                response = self._client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if net.refused(exc):
                    raise AdapterError(ADDRESS_REFUSED) from None
                # Timeouts, refused or dropped connections: the request may or may not
                # have landed; every call we retry is idempotent on the channel's side
                # (upserts keyed by our item id, acknowledgements with an idempotency key).
                # What went wrong stays in the log: the merchant's message says no more than
                # "no answer", so it cannot tell an open port from a closed one.
                last_error = "no answer"
                self.attempts_log.append(type(exc).__name__)
                self._pause(self.backoff(attempt), attempt)
                continue
            verdict = self.classify(response)
            self.attempts_log.append(f"{response.status_code}:{verdict.action}")
            if verdict.action == "ok":
                return response
            if verdict.action == "rate_limited":
                wait = verdict.wait if verdict.wait is not None else self.backoff(attempt)
                if wait > self.max_wait:
                    raise RateLimited(
                        f"{method} {path}: rate limited for {wait:.0f}s", wait=wait, status=response.status_code
                    )
                last_error = f"HTTP {response.status_code} (rate limited)"
                self._pause(wait + random.uniform(0, 0.1), attempt)
                continue
            last_error = f"HTTP {response.status_code}"
            self._pause(verdict.wait if verdict.wait is not None else self.backoff(attempt), attempt)
        raise TransientError(f"{method} {path}: gave up after {self.max_attempts} attempts ({last_error}).")

    def _pause(self, seconds: float, attempt: int) -> None:
        if attempt + 1 < self.max_attempts:
            logger.info("channel call retry in %.2fs (attempt %d)", seconds, attempt + 1)
            self.sleep(seconds)


def default_classify(response: httpx.Response) -> Verdict:
    if response.status_code == 429:
        return Verdict("rate_limited", retry_after_seconds(response.headers.get("Retry-After")))
    if response.status_code >= 500:
        return Verdict("retry", retry_after_seconds(response.headers.get("Retry-After")))
    return Verdict("ok")


# --- Signatures --------------------------------------------------------------------------------


def hmac_sha256_hex(secret: str | bytes, message: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def secrets_equal(expected: str, given: str | None) -> bool:
    """Exact (case-sensitive) and in constant time; an empty secret matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def signatures_match(expected: str, given: str | None) -> bool:
    """Constant time, so response timing tells an attacker nothing about the right signature."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


# --- The adapter interface -----------------------------------------------------------------


class ChannelAdapter:
    """One channel's knowledge: its payloads, its calls, and what it can do.

    The rest of the code asks the capabilities below instead of naming channels, so a new
    channel touches its adapter, its sandbox module and the registry only.
    """

    channel: ClassVar[str]
    # What the channel's webhook notifications mean, by the event type `parse_webhook` gives.
    webhook_event_words: ClassVar[dict[str, str]] = {}
    # What an account of the channel enters to connect (feed-only channels: nothing).
    credential_specs: ClassVar[tuple[CredentialSpec, ...]] = ()
    # Credentials of the deployment's own app on the channel (credential key -> setting),
    # used when the account brings none of its own (a partner may bring its own app).
    platform_credentials: ClassVar[dict[str, str]] = {}
    # The channel's API host; "" for a channel without an API.
    api_host: ClassVar[str] = ""
    max_batch: ClassVar[int] = 1000
    # The channel has no publishing API: it fetches our feed.
    feed_only: ClassVar[bool] = False
    # The formats of the feed the channel fetches (empty: the channel takes no feed).
    feed_formats: ClassVar[tuple[str, ...]] = ()
    # A catalog takes either our API calls or our feed, not both (Pinterest refuses API
    # upserts into a catalog with a feed data source): the account's publish method decides.
    feed_excludes_api: ClassVar[bool] = False
    # The main feed's columns, in order.
    feed_columns: ClassVar[tuple[str, ...]] = ()
    # How the channel spells availability in a feed (checked before a row is served).
    feed_availability_words: ClassVar[tuple[str, ...]] = ()
    # Further markets go out as country and language overrides of one item (Meta): a
    # `localized_items_batch` after the items, and override feeds beside the main one.
    localized_overrides: ClassVar[bool] = False
    # The override feeds served beside the main feed when an account sells in several
    # markets: kind -> columns (see override_key and override_row).
    override_feeds: ClassVar[dict[str, tuple[str, ...]]] = {}
    # The adapter reads the channel's lookup data through a cache (`references=`), which
    # adapter_for gives it per account (channels.references).
    uses_references: ClassVar[bool] = False
    # The variants of one product are one product on the channel (TikTok Shop): they are
    # published in the same batch.
    groups_variants: ClassVar[bool] = False
    # How the channel takes a sale: "with_dates" (the sale price beside the regular one with
    # its window; the channel switches itself: Meta, Google), "while_running" (the sale price
    # beside the regular one while the sale runs: Pinterest), "" (the price of the moment).
    sale_prices: ClassVar[str] = ""
    # Each call names one country and language (Pinterest): one batch per market.
    batch_per_market: ClassVar[bool] = False
    # Items are removed by the channel's own id, not ours (TikTok Shop product ids).
    deletes_by_channel_id: ClassVar[bool] = False
    # Orders come through the channel's order API (polling, single reads, fulfilment).
    has_order_api: ClassVar[bool] = False
    # Where the channel's buyers can pay (ChannelAccount.CheckoutMethod values): on the channel
    # ("on_channel", orders come through the order API) and/or at the shop's checkout URL.
    checkout_methods: ClassVar[tuple[str, ...]] = ()
    # The channel wants each order acknowledged (Meta), in one of these of its states only
    # (None: any state).
    acknowledges_orders: ClassVar[bool] = False
    acknowledgeable_states: ClassVar[frozenset[str] | None] = None
    # The channel pushes signed webhooks to us.
    has_webhooks: ClassVar[bool] = False
    # The shop's own door (the hosted checkout): nothing to connect, publish, poll or reconcile.
    internal: ClassVar[bool] = False
    required_fields: ClassVar[tuple[str, ...]] = ("id", "title", "description", "link", "image_link", "price")
    max_lengths: ClassVar[dict[str, int]] = {"id": 100, "title": 150, "description": 5000}

    @classmethod
    def default_base_url(cls) -> str:
        """Where the adapter talks when the account names no API base URL."""
        return cls.api_host

    @classmethod
    def platform_defaults(cls) -> dict[str, str]:
        from django.conf import settings

        return {key: value for key, name in cls.platform_credentials.items() if (value := getattr(settings, name, ""))}

    def __init__(
        self, *, base_url: str = "", credentials: dict | None = None, market: dict | None = None, **client_options
    ):
        self.base_url = (base_url or "").rstrip("/")
        self.credentials = {**self.platform_defaults(), **{k: v for k, v in (credentials or {}).items() if v}}
        # The market ({"country", "language", "currency"}) calls are made for, where the
        # channel's calls name one (batch_per_market).
        self.market = market or {}
        self.client_options = client_options
        self._client: HttpClient | None = None

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(
                self.base_url, headers=self.auth_headers(), classify=self.classify, **self.client_options
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        # Credentials never appear in a repr (logs, tracebacks).
        return f"<{type(self).__name__} {self.base_url}>"

    def auth_headers(self) -> dict:
        return {}

    def classify(self, response: httpx.Response) -> Verdict:
        return default_classify(response)

    # Payloads and local validation (also used by feeds).
    def build_payload(self, item: ChannelItem) -> dict:
        raise NotImplementedError

    def market_payload(self, payload: dict) -> dict:
        """The part of a payload that differs by market, as a review compares it."""
        return payload

    def feed_row(self, payload: dict) -> dict:
        """One feed row from a payload `build_payload` made (flat column: value)."""
        return payload

    def override_key(self, kind: str, market: dict) -> str:
        """Which override of `kind` a market's item belongs to (a country, a language)."""
        raise NotSupported(f"{self.channel} has no override feeds.")

    def override_row(self, kind: str, item: ChannelItem, problems: list) -> dict | None:
        """The override fields of one item priced for a further market (None: leave it out)."""
        raise NotSupported(f"{self.channel} has no override feeds.")

    def upsert_batch_size(self, markets: list[dict]) -> int:
        """Items per upsert batch when publishing to `markets`."""
        return self.max_batch

    def order_poll_options(self) -> dict:
        """Extra arguments to `fetch_orders` when polling for every change of every order."""
        return {}

    def payload_quantity(self, payload: dict) -> int | None:
        """The stock quantity stated by a payload `build_payload` made; None when it states none."""
        return None

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = []
        for name in self.required_fields:
            value = getattr(item, name)
            if value in (None, ""):
                errors.append(ItemError(f"{name} is required.", code="missing_field", field=name))
        for name, limit in self.max_lengths.items():
            value = getattr(item, name) or ""
            if len(value) > limit:
                errors.append(
                    ItemError(f"{name} is {len(value)} characters; at most {limit}.", code="too_long", field=name)
                )
        if item.availability not in Availability.ALL:
            errors.append(
                ItemError(
                    f"availability must be one of {', '.join(Availability.ALL)}.", code="invalid", field="availability"
                )
            )
        if item.price is not None and Decimal(item.price) < 0:
            errors.append(ItemError("price cannot be negative.", code="invalid", field="price"))
        return errors

    # Channel calls; feed-only channels refuse them.
    def publish_batch(self, items: list[ChannelItem]) -> str:
        raise NotSupported(f"{self.channel} fetches a feed; it has no publishing API.")

    def batch_status(self, handle: str, *, sent_ids: list[str] | None = None) -> BatchStatus:
        raise NotSupported(f"{self.channel} has no batch API.")

    def delete_items(self, items: list[ChannelItem]) -> str | list[ItemResult]:
        """Remove items (as last accepted: ids and the channel's ids set). Answers a handle
        to poll, or the verdicts at once, or "" when the channel confirms nothing."""
        raise NotSupported(f"{self.channel} fetches a feed; remove items from the feed instead.")

    def fetch_orders(self, *, since: int | None = None, cursor: str | None = None) -> OrdersPage:
        raise NotSupported(f"{self.channel} does not sell through an order API.")

    def acknowledge_order(self, order_id: str, *, merchant_order_reference: str, idempotency_key: str) -> dict:
        raise NotSupported(f"{self.channel} does not sell through an order API.")

    def normalize_order(self, raw: dict) -> ChannelOrder:
        raise NotSupported(f"{self.channel} does not sell through an order API.")

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
        raise NotSupported(f"{self.channel} does not take fulfilments through an API.")

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> dict:
        raise NotSupported(f"{self.channel} does not take cancellations through an API.")

    # Webhooks.
    def verify_webhook(self, headers, raw_body: bytes) -> bool:
        return False

    def webhook_handshake(self, params) -> str | None:
        return None

    def parse_webhook(self, raw_body: bytes) -> InboundEvent:
        raise NotSupported(f"{self.channel} sends no webhooks.")

    def _check_batch_size(self, count: int) -> None:
        if count > self.max_batch:
            raise AdapterError(f"{self.channel} accepts at most {self.max_batch} items per batch; got {count}.")
