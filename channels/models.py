"""Channel accounts (where a shop sells) and the webhook events channels send us."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from channels.crypto import EncryptedJSONField
from shopadmin.tenancy import TenantModel
from shopadmin.words import Words


class Channel(models.TextChoices):
    META = "meta", _("Facebook & Instagram (Meta)")
    TIKTOK_SHOP = "tiktok_shop", _("TikTok Shop")
    PINTEREST = "pinterest", _("Pinterest")
    SNAPCHAT = "snapchat", _("Snapchat")
    GOOGLE_MERCHANT = "google_merchant", _("Google Merchant Center")
    # The shop's own hosted checkout (storefront app): orders buyers place at /s/<shop>/.
    CHECKOUT = "checkout", _("Shop checkout")


# Channels that are the shop's own doors, not a platform a merchant connects: one account per
# shop, created on demand, never offered in the connect pickers, published to, polled or
# reconciled (their adapter calls nothing).
INTERNAL_CHANNELS = frozenset({Channel.CHECKOUT})


def connectable_channel_choices() -> list[tuple[str, str]]:
    """The channels a merchant may connect an account of (every channel but the internal ones)."""
    return [(value, label) for value, label in Channel.choices if value not in INTERNAL_CHANNELS]


def new_webhook_key() -> str:
    # 32 random bytes: the key in the webhook URL is the only thing naming the account.
    return secrets.token_urlsafe(32)


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class ChannelAccount(TenantModel):
    class PublishMethod(models.TextChoices):
        API = "api", _("Through the channel's API")
        FEED = "feed", _("The channel fetches our feed")

    class CheckoutMethod(models.TextChoices):
        ON_CHANNEL = "on_channel", _("Buyers check out on the channel; orders come through its order API")
        CHECKOUT_URL = "checkout_url", _("Buyers are sent to the shop's checkout URL")

    class ConnectionStatus(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")

    channel = models.CharField(max_length=20, choices=Channel.choices)
    name = models.CharField(max_length=120)
    credentials = EncryptedJSONField(blank=True, default=dict, editable=False)
    api_base_url = models.URLField(
        max_length=300, blank=True, help_text=_("The channel's API host; the sandbox in tests and the demo.")
    )
    # Market codes (the localization app's markets); each entry is
    # {"market", "country", "language", "currency"}. Empty: the shop's home market.
    markets = models.JSONField(default=list, blank=True)
    # Looked up across shops (webhooks, feeds) by an index; 256 random bits make a clash
    # impossible in practice, and unique constraints stay per shop (DESIGN.md §3, Citus).
    webhook_key = models.CharField(max_length=64, db_index=True, default=new_webhook_key, editable=False)
    feed_token = models.CharField(max_length=64, db_index=True, default=new_feed_token, editable=False)
    feed_token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # How listings reach the channel. A channel with both an API and feeds takes one of them:
    # Pinterest refuses API upserts into a catalog that has a feed data source.
    publish_method = models.CharField(max_length=4, choices=PublishMethod.choices, default=PublishMethod.API)
    # Where the channel's buyers pay (Meta moved checkout to the merchant's checkout URL).
    checkout_method = models.CharField(max_length=12, choices=CheckoutMethod.choices, default=CheckoutMethod.ON_CHANNEL)
    # The channel can withdraw our authorisation (TikTok Shop's deauthorisation webhooks).
    connection_status = models.CharField(
        max_length=15, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED
    )
    connection_message = models.TextField(blank=True)
    # The token lifecycle (None: the channel gave no expiry, e.g. a Meta system user token).
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Account health: the last call the channel answered, and the last one it refused.
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "channel", "name"], name="channelaccount_unique_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_channel_display()})"


class ChannelConnection(TenantModel):
    """One attempt to connect (or reconnect) an account: an authorisation on the channel's
    page, or pasted credentials being checked. The account exists only once it succeeded."""

    class Method(models.TextChoices):
        AUTHORIZE = "authorize", _("Authorised on the channel")
        PASTED = "pasted", _("Pasted credentials")

    class Status(models.TextChoices):
        STARTED = "started", _("Waiting for the channel's approval")
        CHECKING = "checking", _("Checking with the channel")
        CHOOSE = "choose", _("Choose what to connect")
        CONNECTED = "connected", _("Connected")
        FAILED = "failed", _("Failed")

    channel = models.CharField(max_length=20, choices=Channel.choices)
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTED)
    user = models.ForeignKey("shopadmin.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The account being reconnected, or the one this attempt created.
    account = models.ForeignKey(
        ChannelAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="connections"
    )
    # What the merchant asked for: the new account's name, markets and methods.
    request = models.JSONField(default=dict, blank=True)
    # The single-use part of the signed `state`; cleared when the callback arrives.
    nonce = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # The code, the tokens and the pasted credentials, encrypted like an account's.
    secrets = EncryptedJSONField(blank=True, default=dict, editable=False)
    # What the merchant may pick (shops, ad accounts, catalogs): [{"id", "label", "detail"}].
    choices = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel connection")
        verbose_name_plural = _("channel connections")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.channel} connection {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.CONNECTED, self.Status.FAILED)


class FeedFetch(TenantModel):
    """When a channel last fetched one of an account's feeds, and as whom (its user agent)."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="feed_fetches")
    feed = models.CharField(max_length=80)  # the feed's name as its URL spells it: "feed.xml", "overrides/FR.csv"
    fetched_at = models.DateTimeField(default=now)
    user_agent = models.CharField(max_length=300, blank=True)
    fetches = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("feed fetch")
        verbose_name_plural = _("feed fetches")
        ordering = ["account", "feed"]
        constraints = [models.UniqueConstraint(fields=["shop", "account", "feed"], name="feedfetch_unique_feed")]

    def __str__(self):
        return f"{self.account_id}: {self.feed}"


class ChannelReference(TenantModel):
    """A channel's lookup data for one account, cached: TikTok Shop categories, brands,
    warehouses and shipping providers, … Refreshed on demand; `kind` names the list."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=60)
    data = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("channel reference")
        verbose_name_plural = _("channel references")
        ordering = ["account", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "account", "kind"], name="channelreference_unique_kind"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.kind}"


class WebhookEvent(TenantModel):
    """One accepted (signature-verified) delivery. A redelivery of the same event is not stored again."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        STORED = "stored", _("Stored (no handler yet)")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="webhook_events")
    provider_event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=100, blank=True)
    raw_body = models.TextField()
    received_at = models.DateTimeField(default=now)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "account", "provider_event_id"], name="webhookevent_unique_per_account"
            ),
        ]
        indexes = [models.Index(fields=["shop", "account", "-received_at"], name="webhookevent_recent")]

    def __str__(self):
        return f"{self.event_type or 'event'} {self.provider_event_id}"


# --- Listings, publish plans (what each account lists and what was last accepted) ---------------


class ListingSettings(TenantModel):
    """How an account chooses what it lists. A new account lists every active product."""

    class Scope(models.TextChoices):
        ALL_ACTIVE = "all_active", _("All active products")
        SELECTED = "selected", _("Selected products and categories")

    # One per account, enforced by the (shop, account) constraint below: a one-to-one field
    # would add a unique index without the shop, which tenant tables never have.
    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="listing_settings")
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.ALL_ACTIVE)
    storefront_url = models.URLField(
        max_length=300, blank=True, help_text=_("Product links are <storefront>/products/<handle>.")
    )
    auto_apply = models.BooleanField(
        default=False, help_text=_("Publish stock and price changes without review once they are planned.")
    )
    # Debounce of automatic re-plans: only the newest request's task does the work.
    replan_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("listing settings")
        verbose_name_plural = _("listing settings")
        constraints = [models.UniqueConstraint(fields=["shop", "account"], name="listingsettings_unique_account")]

    def __str__(self):
        return f"{self.account_id}: {self.scope}"


class ListingRule(TenantModel):
    """Include (in "selected" scope) or exclude (in any scope) a product or a whole category."""

    class Action(models.TextChoices):
        INCLUDE = "include", _("Include")
        EXCLUDE = "exclude", _("Exclude")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="listing_rules")
    action = models.CharField(max_length=7, choices=Action.choices)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("listing rule")
        verbose_name_plural = _("listing rules")
        ordering = ["action", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(product__isnull=False, category__isnull=True))
                | (models.Q(product__isnull=True, category__isnull=False)),
                name="listingrule_product_xor_category",
            ),
            models.UniqueConstraint(
                fields=["shop", "account", "action", "product"],
                condition=models.Q(product__isnull=False),
                name="listingrule_unique_product",
            ),
            models.UniqueConstraint(
                fields=["shop", "account", "action", "category"],
                condition=models.Q(category__isnull=False),
                name="listingrule_unique_category",
            ),
        ]

    def __str__(self):
        return f"{self.action} {self.product_id or self.category_id}"


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    DELISTED = "delisted", _("Delisted")
    ERROR = "error", _("Error")


class ChannelListing(TenantModel):
    """One variant on one account: its overrides, and what the channel last accepted."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="listings")
    # SET_NULL: a deleted variant must still be deleted from the channel by its item id.
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item_id = models.CharField(max_length=100, help_text=_("Our id of the item on the channel (the SKU)."))
    status = models.CharField(max_length=10, choices=ListingStatus.choices, default=ListingStatus.DRAFT)
    channel_item_id = models.CharField(max_length=100, blank=True)
    # The channel's id of the variant inside its product, where it has one (TikTok Shop SKU id).
    channel_sku_id = models.CharField(max_length=100, blank=True)
    accepted_hash = models.CharField(max_length=64, blank=True)
    # The payload the channel accepted, so a plan can show field by field what changes.
    accepted_payload = models.JSONField(default=dict, blank=True)
    # A hash of what the accepted payload was built from (catalog rows, stock, stored prices,
    # translations, overrides, the account's settings): a plan builds the payloads of listings
    # whose inputs hash differs from it, and counts the others unchanged.
    accepted_inputs_hash = models.CharField(max_length=32, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    title_override = models.CharField(max_length=255, blank=True)
    description_override = models.TextField(blank=True)
    category_override = models.CharField(
        max_length=255, blank=True, help_text=_("Google product category id or path for this channel.")
    )
    custom_labels = models.JSONField(default=list, blank=True, help_text=_("Up to 5 labels (custom_label_0…4)."))
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel listing")
        verbose_name_plural = _("channel listings")
        ordering = ["item_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "account", "item_id"], name="channellisting_unique_item"),
            models.UniqueConstraint(
                fields=["shop", "account", "variant"],
                condition=models.Q(variant__isnull=False),
                name="channellisting_unique_variant",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "account", "status", "id"], name="channellisting_status"),
            # The dashboard and the attention list read one status across every account
            # (rejected reasons, rejected and failing counts), which the index above, led by
            # the account, cannot narrow.
            models.Index(fields=["shop", "status", "account"], name="channellisting_shop_status"),
        ]

    def __str__(self):
        return f"{self.item_id} ({self.status})"


class PublishPlan(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Ready to review")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        PARTIAL = "partial", _("Applied with rejections")
        # The channel refused the account itself (its token): nothing more was sent.
        FAILED = "failed", _("Not applied")
        SUPERSEDED = "superseded", _("Superseded")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="publish_plans")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    automatic = models.BooleanField(default=False)
    creates = models.PositiveIntegerField(default=0)
    updates = models.PositiveIntegerField(default=0)
    deletes = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("shopadmin.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey("shopadmin.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now, editable=False)
    applied_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("publish plan")
        verbose_name_plural = _("publish plans")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"plan {self.pk} ({self.status})"

    def audit_words(self) -> Words:
        return Words(gettext_noop("Changes for %(account)s (plan %(id)s)"), account=self.account.name, id=self.pk)


class PublishBatch(TenantModel):
    """One channel call's worth of a plan. Its state makes the task that sends it idempotent."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent, waiting for the channel")
        DONE = "done", _("Done")

    plan = models.ForeignKey(PublishPlan, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    operation = models.CharField(max_length=6)  # "upsert" | "delete"
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.QUEUED)
    handle = models.CharField(max_length=200, blank=True)
    # The handle of every call the batch makes ({step: handle}): Pinterest one per market, Meta
    # the items then their localized overrides; a rerun polls these and never sends them again.
    handles = models.JSONField(default=dict, blank=True)
    size = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # A worker holds the batch until then; past it, the resume sweep hands it to another.
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("publish batch")
        verbose_name_plural = _("publish batches")
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["shop", "plan", "number"], name="publishbatch_unique_number")]

    def __str__(self):
        return f"batch {self.plan_id}/{self.number} ({self.status})"


class PublishPlanItem(TenantModel):
    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")

    plan = models.ForeignKey(PublishPlan, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey(ChannelListing, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(PublishBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    action = models.CharField(max_length=6, choices=Action.choices)
    item = models.JSONField(default=dict, blank=True)  # the ChannelItem to send
    payload = models.JSONField(default=dict, blank=True)  # what the adapter sends for it
    payload_hash = models.CharField(max_length=64, blank=True)
    # The listing's inputs hash the payload was built from ("" if they changed while it was built).
    inputs_hash = models.CharField(max_length=32, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # {field: [accepted, planned]}
    outcome = models.CharField(max_length=10, blank=True)  # "", "accepted", "rejected"

    class Meta:
        verbose_name = _("publish plan item")
        verbose_name_plural = _("publish plan items")
        ordering = ["plan", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "plan", "listing"], name="publishplanitem_unique_listing")
        ]

    def __str__(self):
        return f"{self.action} {self.listing_id}"
