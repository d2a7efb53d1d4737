from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from channels.links import meta_checkout_url
from channels.models import (
    ChannelAccount,
    ChannelConnection,
    ChannelListing,
    ChannelReference,
    FeedFetch,
    ListingRule,
    ListingSettings,
    PublishBatch,
    PublishPlan,
    PublishPlanItem,
    WebhookEvent,
)
from shopadmin.admin_base import TenantAdmin, TenantInline


@admin.register(ChannelAccount)
class ChannelAccountAdmin(TenantAdmin):
    list_display = ["name", "channel", "publish_method", "connection_status", "is_active", "created_at"]
    list_filter = ["channel", "publish_method", "connection_status", "is_active"]
    search_fields = ["name"]
    # Credentials are never shown to staff either: only which keys are set, masked.
    readonly_fields = [
        "credentials_masked", "token_expires_at", "refresh_token_expires_at", "last_success_at", "last_error",
        "last_error_at", "webhook_key", "feed_token_rotated_at", "checkout_url", "created_at", "updated_at",
    ]  # fmt: skip
    fields = [
        "shop", "channel", "name", "api_base_url", "markets", "publish_method", "checkout_method",
        "connection_status", "connection_message", "is_active", *readonly_fields,
    ]  # fmt: skip

    @admin.display(description="Credentials")
    def credentials_masked(self, obj):
        return ", ".join(f"{k}: {v}" for k, v in obj.credentials.masked().items()) or "—"

    @admin.display(description=_("Checkout URL"))
    def checkout_url(self, obj):
        """Meta's checkout URL of the account's shop (what the merchant pastes into Commerce Manager)."""
        if obj is None or obj.pk is None:
            return "—"
        return meta_checkout_url(obj) or "—"


@admin.register(ChannelConnection)
class ChannelConnectionAdmin(TenantAdmin):
    """Connection attempts, for support: where one stands and why it failed. Read-only; the
    codes and tokens they hold are never shown."""

    list_display = ["id", "channel", "method", "status", "account", "user", "created_at"]
    list_filter = ["channel", "method", "status"]
    readonly_fields = ["channel", "method", "status", "account", "user", "request", "choices", "message", "created_at"]
    exclude = ["secrets", "nonce"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FeedFetch)
class FeedFetchAdmin(TenantAdmin):
    list_display = ["account", "feed", "fetched_at", "fetches", "user_agent"]
    readonly_fields = ["account", "feed", "fetched_at", "fetches", "user_agent"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChannelReference)
class ChannelReferenceAdmin(TenantAdmin):
    """The channels' lookup data cached per account (read-only: refreshed from the channel)."""

    list_display = ["account", "kind", "fetched_at"]
    list_filter = ["kind"]
    readonly_fields = ["account", "kind", "data", "fetched_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(TenantAdmin):
    list_display = ["event_type", "account", "provider_event_id", "status", "received_at", "processed_at"]
    list_filter = ["status"]
    search_fields = ["provider_event_id", "event_type"]
    readonly_fields = [
        "account", "provider_event_id", "event_type", "raw_body", "received_at", "processed_at", "status", "error",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False


@admin.register(ListingSettings)
class ListingSettingsAdmin(TenantAdmin):
    list_display = ["account", "scope", "storefront_url", "auto_apply", "updated_at"]
    list_filter = ["scope", "auto_apply"]


@admin.register(ListingRule)
class ListingRuleAdmin(TenantAdmin):
    list_display = ["account", "action", "product", "category", "created_at"]
    list_filter = ["action"]
    raw_id_fields = ["account", "product", "category"]


@admin.register(ChannelListing)
class ChannelListingAdmin(TenantAdmin):
    list_display = ["item_id", "account", "status", "channel_item_id", "published_at", "updated_at"]
    list_filter = ["status", "account__channel"]
    search_fields = ["item_id", "channel_item_id"]
    raw_id_fields = ["account", "variant"]
    readonly_fields = ["accepted_hash", "accepted_payload", "published_at", "errors", "warnings"]


class PublishBatchInline(TenantInline):
    model = PublishBatch
    fields = ["number", "operation", "status", "size", "attempts", "handle", "error", "finished_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(PublishPlan)
class PublishPlanAdmin(TenantAdmin):
    list_display = ["id", "account", "status", "automatic", "creates", "updates", "deletes", "invalid", "created_at"]
    list_filter = ["status", "automatic"]
    readonly_fields = ["job", "created_by", "applied_at", "finished_at"]
    inlines = [PublishBatchInline]


@admin.register(PublishBatch)
class PublishBatchAdmin(TenantAdmin):
    list_display = ["plan", "number", "operation", "status", "size", "attempts", "finished_at"]
    list_filter = ["status", "operation"]
    readonly_fields = ["plan", "handle", "handles", "lease_until", "error", "finished_at"]


@admin.register(PublishPlanItem)
class PublishPlanItemAdmin(TenantAdmin):
    list_display = ["plan", "listing", "action"]
    raw_id_fields = ["plan", "listing", "batch"]
