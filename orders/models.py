"""Orders from every channel, their lines, customers, stock allocations, fulfilments, refunds,
cancellations, the timeline, and reconciliation against what each channel says.

Every table is a tenant table: unique constraints include the shop (DESIGN.md §3). An order
is unique per (shop, channel account, external id), which is what makes import an upsert.
Amounts are Decimal in the order's currency as the channel reported them, and again in the
shop currency with the rate that converted them (DESIGN.md §4).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from orders.errors import OrdersErrorCode
from shopadmin.tenancy import TenantModel
from shopadmin.words import Words, render

AMOUNT = {"max_digits": 14, "decimal_places": 3, "default": Decimal("0")}
ZERO = Decimal("0")


class Lifecycle(models.TextChoices):
    """Our one lifecycle; each adapter maps its channel's statuses onto it."""

    PENDING = "pending", _("Pending")
    AWAITING_FULFILLMENT = "awaiting_fulfillment", _("Awaiting fulfilment")
    PARTIALLY_FULFILLED = "partially_fulfilled", _("Partially fulfilled")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


# How far along an order is; a channel update never moves an order backwards on this scale
# (our own fulfilment may not have reached the channel yet).
LIFECYCLE_RANK = {
    Lifecycle.PENDING: 0,
    Lifecycle.AWAITING_FULFILLMENT: 1,
    Lifecycle.PARTIALLY_FULFILLED: 2,
    Lifecycle.FULFILLED: 3,
    Lifecycle.PARTIALLY_REFUNDED: 4,
    Lifecycle.REFUNDED: 5,
    Lifecycle.CANCELLED: 6,
}
CLOSED = frozenset({Lifecycle.CANCELLED, Lifecycle.REFUNDED})


class PushState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    PUSHED = "pushed", _("Sent to the channel")
    FAILED = "failed", _("Sending failed")
    NOT_SUPPORTED = "not_supported", _("Channel has no API for this")
    NOT_NEEDED = "not_needed", _("Came from the channel")


class Source(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    CHANNEL = "channel", _("Channel")


class OrderSettings(TenantModel):
    """Per-shop order settings: where stock is taken from and how long personal data is kept."""

    default_location = models.ForeignKey(
        "catalog.Location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where orders take stock from when their market has no preferred location."),
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(30)],
        help_text=_(
            "Erase customers' personal data this many days after their last order (at least 30); "
            "empty keeps it until you erase it. Amounts are always kept for accounting."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order settings")
        verbose_name_plural = _("order settings")
        constraints = [models.UniqueConstraint(fields=["shop"], name="ordersettings_unique_shop")]

    def __str__(self):
        return f"Order settings of shop {self.shop_id}"

    def audit_words(self) -> Words:
        return Words(gettext_noop("Order settings"))


class MarketLocation(TenantModel):
    """The location a market's orders take stock from first."""

    market = models.ForeignKey("localization.Market", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey("catalog.Location", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("market stock location")
        verbose_name_plural = _("market stock locations")
        constraints = [models.UniqueConstraint(fields=["shop", "market"], name="marketlocation_unique_market")]

    def __str__(self):
        return f"{self.market_id} → {self.location_id}"


class Customer(TenantModel):
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    marketing_consent = models.BooleanField(default=False)
    # When and where the consent was given (an explicit, unticked-by-default box at checkout).
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    marketing_consent_source = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["shop", "email"], name="customer_email")]

    def __str__(self):
        return self.name or self.email or f"Customer {self.pk}"


class Order(TenantModel):
    account = models.ForeignKey(
        "channels.ChannelAccount",
        # Orders are accounting records: an account with orders is paused, not deleted.
        on_delete=models.PROTECT,
        related_name="orders",
    )
    channel = models.CharField(max_length=20, editable=False)
    external_id = models.CharField(max_length=100)
    channel_status = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=24, choices=Lifecycle.choices, default=Lifecycle.PENDING)
    placed_at = models.DateTimeField(null=True, blank=True)
    channel_updated_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**AMOUNT)
    shipping = models.DecimalField(**AMOUNT)
    tax = models.DecimalField(**AMOUNT)
    duties = models.DecimalField(**AMOUNT)
    discounts = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    # The same in the shop currency, with the rate used (empty when no rate was known).
    shop_currency = models.CharField(max_length=3, blank=True)
    subtotal_shop = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    shipping_shop = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    tax_shop = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    duties_shop = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    discounts_shop = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    total_shop = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    rate_source = models.CharField(max_length=40, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    market = models.ForeignKey(
        "localization.Market", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    # Personal fields, blanked by erasure; the amounts above stay for accounting.
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(max_length=254, blank=True)
    buyer_phone = models.CharField(max_length=40, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    buyer_message = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text=_("The channel's last payload of this order."))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_error = models.CharField(max_length=500, blank=True)
    acknowledge_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Where the order came from (orders.attribution): the landing's source (meta, instagram,
    # whatsapp, direct, …; the account's channel when the channel gave none), its campaign, and
    # the landing parameters as they came (cart_origin, utm_*, fbclid), each cut to a length.
    source = models.CharField(max_length=40, blank=True, default="")
    campaign = models.CharField(max_length=200, blank=True, default="")
    landing = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "account", "external_id"], name="order_unique_per_account"),
        ]
        indexes = [
            models.Index(fields=["shop", "-placed_at"], name="order_recent"),
            # Sync lag: the newest order of each account (the dashboard's channel health).
            models.Index(fields=["shop", "account", "created_at"], name="order_account_created"),
            models.Index(fields=["shop", "status"], name="order_status"),
            models.Index(fields=["shop", "buyer_email"], name="order_buyer_email"),
            # What each channel earns (orders.earnings): the orders of a date range summed per
            # source and campaign from the index alone.
            models.Index(
                fields=["shop", "placed_at", "source"],
                name="order_attribution",
                include=["campaign", "status", "total_shop"],
            ),
        ]

    def __str__(self):
        from channels.models import Channel

        name = Channel(self.channel).label if self.channel in Channel.values else self.channel
        return f"{name} #{self.external_id}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED


class DailySales(TenantModel):
    """Sales of one local day (shop time zone) per account and market, in the shop currency.

    A rollup of orders kept by the import, cancellation and refund services (orders.rollup), so
    the dashboard reads at most a few rows per day instead of every order of a year.
    Cancelled and fully refunded orders are not sales and are left out, as on the dashboard.
    """

    day = models.DateField()
    account = models.ForeignKey("channels.ChannelAccount", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20)
    market = models.ForeignKey("localization.Market", on_delete=models.SET_NULL, null=True, related_name="+")
    # The market the row was counted under (0 for none): unlike `market` it survives the market's
    # deletion, so the row stays the one later changes of its orders are added to.
    market_key = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=20, decimal_places=3, default=Decimal("0"))
    # Signed: a change is added as a delta, which may take orders out.
    orders = models.IntegerField(default=0)
    units = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "day", "account", "channel", "market_key"], name="dailysales_unique_key"
            )
        ]


class DailyProductSales(TenantModel):
    """Revenue (lines at their order's rate, each rounded to the mill) and units of one product
    per local day and channel."""

    day = models.DateField()
    channel = models.CharField(max_length=20)
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    revenue = models.DecimalField(max_digits=20, decimal_places=3, default=Decimal("0"))
    units = models.IntegerField(default=0)
    # Order lines counted: the row goes when the last one is taken out.
    lines = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily product sales")
        verbose_name_plural = _("daily product sales")
        constraints = [
            models.UniqueConstraint(fields=["shop", "day", "channel", "product"], name="dailyproductsales_unique_key")
        ]
        indexes = [
            models.Index(
                fields=["shop", "day", "channel", "product"],
                name="dailyproductsales_day",
                include=["revenue", "units"],
            )
        ]


class RollupShare(TenantModel):
    """What one order adds to the daily rollups, as it was last added: a change to the order
    takes exactly this out of the rollups and adds its new share (orders.rollup).

    `share` holds the day, account, channel, market, revenue and units, and per product its
    revenue, units and lines. An order that is not a sale (cancelled, refunded) has none.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    share = models.JSONField()

    class Meta:
        verbose_name = _("order's share of daily sales")
        verbose_name_plural = _("orders' shares of daily sales")
        constraints = [models.UniqueConstraint(fields=["shop", "order"], name="rollupshare_unique_order")]


class OrderLine(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel_item_id = models.CharField(max_length=200, blank=True)
    sku = models.CharField("SKU", max_length=200, blank=True)
    title = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**AMOUNT)
    tax = models.DecimalField(**AMOUNT)
    line_total = models.DecimalField(**AMOUNT)
    quantity_allocated = models.PositiveIntegerField(default=0)
    quantity_short = models.PositiveIntegerField(default=0, help_text=_("Ordered but not in stock (oversold)."))
    quantity_fulfilled = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_refunded = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_fulfilled__lte=models.F("quantity")), name="orderline_fulfilled_within_quantity"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "sku"], name="orderline_sku"),
            # The import's match of an unlisted item: the newest matched line of that item id,
            # found by walking this index back, not the account's whole history.
            models.Index(
                fields=["shop", "channel_item_id", "-id"],
                name="orderline_item_match",
                condition=Q(variant__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku or self.channel_item_id}"

    @property
    def open_quantity(self) -> int:
        """Still to ship: neither fulfilled nor cancelled."""
        return max(0, self.quantity - self.quantity_fulfilled - self.quantity_cancelled)


class Allocation(TenantModel):
    """Stock held for a line at a location; `quantity` drops as it ships or is released."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    location = models.ForeignKey("catalog.Location", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    allocated = models.PositiveIntegerField(help_text=_("What was allocated at first."))
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("stock allocation")
        verbose_name_plural = _("stock allocations")
        ordering = ["line", "id"]

    def __str__(self):
        return f"{self.quantity} of line {self.line_id} at {self.location_id}"


class Fulfillment(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfillments")
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(default=now)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MERCHANT)
    push_state = models.CharField(max_length=14, choices=PushState.choices, default=PushState.PENDING)
    push_attempts = models.PositiveIntegerField(default=0)
    push_error = models.CharField(max_length=500, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("fulfilment")
        verbose_name_plural = _("fulfilments")
        ordering = ["order", "id"]

    def __str__(self):
        return f"Fulfilment {self.pk} of {self.order_id}"


class FulfillmentLine(TenantModel):
    fulfillment = models.ForeignKey(Fulfillment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("fulfilment line")
        verbose_name_plural = _("fulfilment lines")

    def __str__(self):
        return f"{self.quantity} x line {self.line_id}"


class Cancellation(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cancellations")
    reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MERCHANT)
    push_state = models.CharField(max_length=14, choices=PushState.choices, default=PushState.PENDING)
    push_attempts = models.PositiveIntegerField(default=0)
    push_error = models.CharField(max_length=500, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("cancellation")
        verbose_name_plural = _("cancellations")

    def __str__(self):
        return f"Cancellation {self.pk} of {self.order_id}"


class CancellationLine(TenantModel):
    cancellation = models.ForeignKey(Cancellation, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("cancellation line")
        verbose_name_plural = _("cancellation lines")


class Refund(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(max_digits=14, decimal_places=3, validators=[MinValueValidator(ZERO)])
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300, blank=True)
    restock = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MERCHANT)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self):
        return f"Refund {self.amount} {self.currency} of {self.order_id}"


class RefundLine(TenantModel):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")


# --- Discount codes ---------------------------------------------------------------------------

DISCOUNT_CODE_MAX = 40
# ^…$ (not \A…\Z) so the OpenAPI document's pattern reads the same in every regex dialect; every door
# strips the code first, and checkout matches it whole (re.fullmatch).
DISCOUNT_CODE_PATTERN = r"^[A-Za-z0-9_-]+$"
validate_discount_code = RegexValidator(
    DISCOUNT_CODE_PATTERN,
    message=_("Use only letters, digits, “-” and “_” (no spaces), e.g. SUMMER-10."),
    code=OrdersErrorCode.DISCOUNT_CODE_INVALID,
)


class DiscountCode(TenantModel):
    """A code a buyer types at checkout (or Meta sends as `coupon`): a percentage or a fixed
    amount off the basket's subtotal. Fixed amounts and the minimum basket are in the shop
    currency (orders.discounts converts them into the basket's). Written through
    orders.services.discounts; counted through orders.discounts.discount_redeem."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", _("Percentage")
        FIXED = "fixed", _("Fixed amount")

    code = models.CharField(
        _("code"),
        max_length=DISCOUNT_CODE_MAX,
        validators=[validate_discount_code],
        help_text=_("What buyers type; upper and lower case are the same code."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERCENTAGE)
    # The percentage (0 < p <= 100) or the amount in the shop currency.
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=3)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    usage_limit = models.PositiveIntegerField(
        _("usage limit"), null=True, blank=True, help_text=_("How many orders may use it in all; empty: no limit.")
    )
    times_used = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    minimum_subtotal = models.DecimalField(
        _("minimum basket"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("In the shop currency; empty: any basket."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")
        ordering = ["-created_at", "-id"]
        constraints = [
            # SUMMER10 and summer10 are the same code in a shop; another shop may have its own.
            models.UniqueConstraint("shop", Upper("code"), name="discountcode_unique_code_per_shop"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=models.F("usage_limit")),
                name="discountcode_used_within_limit",
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="discountcode_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100), name="discountcode_percentage_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(minimum_subtotal__isnull=True) | Q(minimum_subtotal__gte=0),
                name="discountcode_minimum_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="discountcode_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.code

    def audit_words(self) -> Words:
        return Words(gettext_noop("Discount code %(code)s"), code=self.code)

    @property
    def percent_fraction(self) -> Decimal | None:
        """A percentage code's value as a fraction (10 → 0.1), for the `percent` filter."""
        return self.value / 100 if self.kind == self.Kind.PERCENTAGE and self.value is not None else None

    @property
    def uses_left(self) -> int | None:
        return None if self.usage_limit is None else max(0, self.usage_limit - self.times_used)

    @property
    def current_state(self) -> str:
        return self.state()

    def state(self, at=None) -> str:
        """active, inactive, scheduled, expired or used_up: what a buyer typing it now would meet."""
        at = at or now()
        if not self.is_active:
            return "inactive"
        if self.starts_at is not None and self.starts_at > at:
            return "scheduled"
        if self.ends_at is not None and self.ends_at <= at:
            return "expired"
        if self.usage_limit is not None and self.times_used >= self.usage_limit:
            return "used_up"
        return "active"

    def clean(self):
        errors: dict[str, list] = {}
        if self.value is not None:
            if self.value <= 0:
                errors.setdefault("value", []).append(
                    ValidationError(_("Enter an amount above zero."), code=OrdersErrorCode.DISCOUNT_VALUE_INVALID)
                )
            elif self.kind == self.Kind.PERCENTAGE and self.value > 100:
                errors.setdefault("value", []).append(
                    ValidationError(_("A percentage is at most 100."), code=OrdersErrorCode.DISCOUNT_VALUE_INVALID)
                )
        if self.minimum_subtotal is not None and self.minimum_subtotal < 0:
            errors.setdefault("minimum_subtotal", []).append(
                ValidationError(
                    _("The minimum basket cannot be negative."), code=OrdersErrorCode.DISCOUNT_VALUE_INVALID
                )
            )
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors.setdefault("ends_at", []).append(
                ValidationError(_("The end must be after the start."), code=OrdersErrorCode.DISCOUNT_DATES_INVALID)
            )
        if self.usage_limit is not None and self.usage_limit < self.times_used:
            errors.setdefault("usage_limit", []).append(
                ValidationError(
                    _("The code has been used %(used)s times already; the limit cannot be lower.")
                    % {"used": self.times_used},
                    code=OrdersErrorCode.DISCOUNT_LIMIT_BELOW_USES,
                )
            )
        if errors:
            raise ValidationError(errors)


class DiscountRedemption(TenantModel):
    """One use of a discount code: which order used it (set once the order exists) and what it took off."""

    discount = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="redemptions")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="discount_redemptions"
    )
    code = models.CharField(max_length=DISCOUNT_CODE_MAX, help_text=_("The code as it was applied."))
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("discount code use")
        verbose_name_plural = _("discount code uses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "order"], condition=Q(order__isnull=False), name="discountredemption_one_per_order"
            ),
        ]
        indexes = [models.Index(fields=["shop", "discount", "created_at"], name="discountredemption_by_code")]

    def __str__(self):
        return f"{self.code} on {self.order_id or '—'}"


class OrderEvent(TenantModel):
    """The order's timeline, as the merchant reads it."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        UPDATED = "updated", _("Updated by the channel")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ALLOCATED = "allocated", _("Stock allocated")
        OVERSOLD = "oversold", _("Oversold")
        FULFILLED = "fulfilled", _("Fulfilled")
        PUSHED = "pushed", _("Sent to the channel")
        PUSH_FAILED = "push_failed", _("Sending to the channel failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        RELEASED = "released", _("Stock released")
        ERASED = "erased", _("Personal data erased")
        RECONCILED = "reconciled", _("Reconciliation")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind}: {self.message}"

    @property
    def text(self) -> str:
        """The message in the reader's language when it was written as words, else as stored."""
        from shopadmin.words import render

        words = (self.data or {}).get("words")
        return render(words) or self.message if words else self.message


class OrderSyncCursor(TenantModel):
    """Where polling of one account's orders got to (the channel's update time, Unix seconds)."""

    account = models.ForeignKey("channels.ChannelAccount", on_delete=models.CASCADE, related_name="+")
    updated_since = models.BigIntegerField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    orders_seen = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order sync cursor")
        verbose_name_plural = _("order sync cursors")
        constraints = [models.UniqueConstraint(fields=["shop", "account"], name="ordersynccursor_unique_account")]

    def __str__(self):
        return f"cursor of account {self.account_id}: {self.updated_since}"


class ReconciliationRun(TenantModel):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey("channels.ChannelAccount", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=10, default="manual")  # manual | schedule | api
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    orders_checked = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text=_("Findings of this run by kind."))
    job = models.ForeignKey("shopadmin.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.CharField(max_length=1000, blank=True)
    started_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Reconciliation {self.pk} of account {self.account_id}"

    def audit_words(self) -> Words:
        return Words(gettext_noop("Reconciliation of %(account)s"), account=self.account.name)

    @property
    def findings(self) -> int:
        return sum(self.counts.values()) if self.counts else 0


class IssueKind(models.TextChoices):
    MISSING_ORDER = "missing_order", _("Order missing here (imported)")
    UNKNOWN_TO_CHANNEL = "unknown_to_channel", _("Order the channel does not have")
    STATUS_DRIFT = "status_drift", _("Status differs")
    AMOUNT_MISMATCH = "amount_mismatch", _("Total differs")
    UNKNOWN_ITEM = "unknown_item", _("Unknown item")
    OVERSELL = "oversell", _("Oversold")
    LISTING_DRIFT = "listing_drift", _("Listing differs")
    PUSH_FAILED = "push_failed", _("Not sent to the channel")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Needs action")


class IssueAction(models.TextChoices):
    IMPORT = "import", _("Import the order")
    REPUBLISH = "republish", _("Publish again")
    REPUSH = "repush", _("Send again to the channel")
    REFRESH = "refresh", _("Refresh from the channel")
    RESOLVE = "resolve", _("Mark resolved")


class ReconciliationIssue(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    account = models.ForeignKey("channels.ChannelAccount", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ReconciliationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="issues")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="issues")
    kind = models.CharField(max_length=20, choices=IssueKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    # What the finding is about (an external order id, an item id): one open issue per key.
    key = models.CharField(max_length=200)
    ours = models.CharField(max_length=500, blank=True)
    theirs = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=1000, blank=True)
    suggested_action = models.CharField(max_length=10, choices=IssueAction.choices, default=IssueAction.RESOLVE)
    # The values behind `ours` and `theirs`, for showing them in the reader's language: amounts
    # ({"amount": "154.870", "currency": "USD"}), a status, the listings of a grouped finding.
    data = models.JSONField(default=dict, blank=True)
    # `ours`, `theirs` and `detail` as words (shopadmin.words) when the check wrote them so.
    words = models.JSONField(default=dict, blank=True)
    # An action asked for from the UI or the API and not yet done by the worker (it talks to
    # the channel), and why the last one failed.
    pending_action = models.CharField(max_length=10, choices=IssueAction.choices, blank=True)
    action_error = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.CharField(max_length=1000, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("reconciliation issue")
        verbose_name_plural = _("reconciliation issues")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "account", "kind", "key"],
                condition=Q(status="open"),
                name="reconciliationissue_one_open_per_key",
            ),
        ]
        indexes = [models.Index(fields=["shop", "status", "kind"], name="issue_open_by_kind")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.key}"

    def _text(self, name: str) -> str:
        """A stored text in the reader's language when it was written as words."""
        stored = (self.words or {}).get(name) if isinstance(self.words, dict) else None
        return (render(stored) or getattr(self, name)) if stored else getattr(self, name)

    @property
    def ours_text(self) -> str:
        return self._text("ours")

    @property
    def theirs_text(self) -> str:
        return self._text("theirs")

    @property
    def detail_text(self) -> str:
        return self._text("detail")

    def audit_words(self) -> Words:
        return Words(gettext_noop("%(kind)s: %(key)s"), kind=Words.of(IssueKind(self.kind).label), key=self.key)

    @property
    def advice(self) -> str:
        """What to do about it, in one sentence (in the reader's language)."""
        if self.kind == IssueKind.LISTING_DRIFT:
            return str(LISTING_ADVICE.get((self.data or {}).get("group"), ISSUE_ADVICE[IssueKind.LISTING_DRIFT]))
        if self.kind == IssueKind.STATUS_DRIFT and self.suggested_action == IssueAction.REPUSH:
            return str(_("Our change has not reached the channel: send it again."))
        return str(ISSUE_ADVICE.get(self.kind, ""))

    @property
    def listing_count(self) -> int | None:
        """How many listings a grouped listing finding covers."""
        return (self.data or {}).get("count") if self.kind == IssueKind.LISTING_DRIFT else None


ISSUE_ADVICE = {
    IssueKind.MISSING_ORDER: _("The channel has this order and importing it failed: import it again."),
    IssueKind.UNKNOWN_TO_CHANNEL: _(
        "Ask the channel for this order again; if it no longer has it (a test or deleted order), "
        "resolve this with a note."
    ),
    IssueKind.STATUS_DRIFT: _("The channel changed the order last: refresh it from the channel."),
    IssueKind.AMOUNT_MISMATCH: _(
        "Refresh the order from the channel; if the totals still differ, check its discounts and refunds there."
    ),
    IssueKind.UNKNOWN_ITEM: _("Give the variant the SKU the channel sends (or fix it on the channel), then resolve."),
    IssueKind.OVERSELL: _("Receive stock and fulfil the order, or cancel the short units; then resolve."),
    IssueKind.LISTING_DRIFT: _("Publish the listings again."),
    IssueKind.PUSH_FAILED: _("Send it again; if the channel refuses it again, its reason is on the order's timeline."),
}
LISTING_ADVICE = {
    "quantity": _("Publish again, so the channel sells the stock you have."),
    "rejected": _("Fix what the channel refused (its reason is on each listing), then publish again."),
}


# --- What each channel earns ------------------------------------------------------------------


class TrafficDaily(TenantModel):
    """Page views and checkout starts of one local day (shop time zone) per source and campaign,
    counted by the storefront (orders.attribution.traffic_count). Aggregates only: no visitor is
    identified and no cookie is set."""

    day = models.DateField()
    source = models.CharField(max_length=40)
    campaign = models.CharField(max_length=200, blank=True, default="")
    page_views = models.PositiveIntegerField(default=0)
    checkout_starts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily traffic")
        verbose_name_plural = _("daily traffic")
        ordering = ["-day", "source", "campaign"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "day", "source", "campaign"], name="trafficdaily_unique_key")
        ]

    def __str__(self):
        return f"{self.day} {self.source} {self.campaign}".strip()


class AdSpend(TenantModel):
    """What the merchant spent on ads with one source in one month, in the shop currency."""

    source = models.CharField(_("source"), max_length=40)
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=3, validators=[MinValueValidator(ZERO)])
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("ad spend")
        verbose_name_plural = _("ad spend")
        ordering = ["-month", "source"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "source", "month"], name="adspend_unique_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="adspend_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.source} {self.month:%Y-%m}: {self.amount}"

    def audit_words(self) -> Words:
        return Words(
            gettext_noop("Ad spend of %(source)s in %(month)s"), source=self.source, month=f"{self.month:%Y-%m}"
        )
