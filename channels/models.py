"""Channel accounts (where a shop sells) and the webhook events channels send us."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from channels.crypto import EncryptedJSONField
from shopadmin.tenancy import TenantModel


class Channel(models.TextChoices):
    META = "meta", _("Facebook & Instagram (Meta)")
    TIKTOK_SHOP = "tiktok_shop", _("TikTok Shop")
    PINTEREST = "pinterest", _("Pinterest")
    SNAPCHAT = "snapchat", _("Snapchat")
    GOOGLE_MERCHANT = "google_merchant", _("Google Merchant Center")


def new_webhook_key() -> str:
    # 32 random bytes: the key in the webhook URL is the only thing naming the account.
    return secrets.token_urlsafe(32)


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class ChannelAccount(TenantModel):
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
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "channel", "name"], name="channelaccount_unique_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_channel_display()})"


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
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "account", "provider_event_id"], name="webhookevent_unique_per_account"
            ),
        ]
        indexes = [models.Index(fields=["shop", "account", "-received_at"], name="webhookevent_recent")]

    def __str__(self):
        return f"{self.event_type or 'event'} {self.provider_event_id}"
