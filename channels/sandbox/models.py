"""State of the simulated channels, in the database so a live server and workers share it."""

from django.db import models
from django.utils.timezone import now


class SandboxAccount(models.Model):
    """One simulated seller account. `key` is what the channel knows it by:
    Meta catalog id, TikTok app key, Pinterest ad account id."""

    channel = models.CharField(max_length=20)
    key = models.CharField(max_length=100)
    secret = models.CharField(max_length=200, blank=True)  # Meta/TikTok app secret (signs webhooks)
    access_token = models.CharField(max_length=500, blank=True)
    commerce_account_id = models.CharField(max_length=100, blank=True)
    shop_cipher = models.CharField(max_length=200, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    # Knobs, see channels/sandbox/faults.py.
    faults = models.JSONField(default=dict, blank=True)
    # How the simulated seller account is set up on the channel's side, per channel (for
    # example a Pinterest catalog fed by a feed data source, TikTok Shop warehouses).
    settings = models.JSONField(default=dict, blank=True)
    request_count = models.PositiveIntegerField(default=0)
    # The seller (a person signed in on the channel) the account belongs to: an authorisation
    # grants access to all of a seller's accounts (TikTok shops, Pinterest ad accounts, Meta catalogs).
    seller = models.CharField(max_length=100, blank=True, db_index=True)

    class Meta:
        verbose_name = "sandbox account"
        verbose_name_plural = "sandbox accounts"
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="sandbox_account_unique")]

    def __str__(self):
        return f"{self.channel}:{self.key}"


class SandboxItem(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=200)  # retailer id / seller SKU / item_id
    product_id = models.CharField(max_length=64, blank=True)  # the channel's id (TikTok)
    sku_id = models.CharField(max_length=64, blank=True)  # the channel's SKU id (TikTok)
    data = models.JSONField(default=dict)
    # Meta localized catalogs: {"COUNTRY:FR": {...}, "LANGUAGE:fr_XX": {...}}, kept across item updates.
    overrides = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    updates = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "sandbox item"
        verbose_name_plural = "sandbox items"
        constraints = [models.UniqueConstraint(fields=["account", "item_id"], name="sandbox_item_unique")]

    def __str__(self):
        return self.item_id


class SandboxBatch(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="batches")
    handle = models.CharField(max_length=64, unique=True)
    operation = models.CharField(max_length=30)
    requests = models.JSONField(default=list)
    status = models.CharField(max_length=20, default="in_progress")
    polls_left = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "sandbox batch"
        verbose_name_plural = "sandbox batches"

    def __str__(self):
        return self.handle


class SandboxOrder(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="orders")
    order_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=30)
    lines = models.JSONField(default=list)
    total = models.CharField(max_length=30)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    merchant_order_reference = models.CharField(max_length=200, blank=True)
    acknowledge_key = models.CharField(max_length=200, blank=True)
    # What the seller sent back about the order (shipments, cancellations), as received, so
    # tests and the demo can see exactly what reached the channel.
    received = models.JSONField(default=list, blank=True)
    # The rest of the order as the channel holds it (buyer, address, shipping, cancellations,
    # refunds, per-unit line item ids …), in the channel's own shape.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "sandbox order"
        verbose_name_plural = "sandbox orders"

    def __str__(self):
        return self.order_id


class SandboxGrant(models.Model):
    """One authorisation a seller gave an app on the consent page: the code, then the tokens
    it was exchanged for. Tokens of a revoked or expired grant are refused."""

    channel = models.CharField(max_length=20)
    client_id = models.CharField(max_length=100)  # the app (TikTok app key, Pinterest/Meta app id)
    seller = models.CharField(max_length=100)
    scope = models.CharField(max_length=500, blank=True)
    redirect_uri = models.CharField(max_length=500, blank=True)
    code = models.CharField(max_length=100, unique=True)
    code_expires_at = models.DateTimeField()
    code_used_at = models.DateTimeField(null=True, blank=True)
    access_token = models.CharField(max_length=200, blank=True, db_index=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = models.CharField(max_length=200, blank=True, db_index=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "sandbox grant"
        verbose_name_plural = "sandbox grants"

    def __str__(self):
        return f"{self.channel}:{self.seller}"
