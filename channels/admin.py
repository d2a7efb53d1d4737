from django.contrib import admin

from channels.models import ChannelAccount, WebhookEvent
from shopadmin.admin_base import TenantAdmin


@admin.register(ChannelAccount)
class ChannelAccountAdmin(TenantAdmin):
    list_display = ["name", "channel", "api_base_url", "is_active", "created_at"]
    list_filter = ["channel", "is_active"]
    search_fields = ["name"]
    # Credentials are never shown to staff either: only which keys are set, masked.
    readonly_fields = ["credentials_masked", "webhook_key", "feed_token_rotated_at", "created_at", "updated_at"]
    fields = ["shop", "channel", "name", "api_base_url", "markets", "is_active", *readonly_fields]

    @admin.display(description="Credentials")
    def credentials_masked(self, obj):
        return ", ".join(f"{k}: {v}" for k, v in obj.credentials.masked().items()) or "—"


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
