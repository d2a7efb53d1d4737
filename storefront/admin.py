"""Staff admin of the storefront: each shop's settings (staff may unpublish a shop's storefront,
e.g. after abuse; the change is audited by TenantAdmin) and the checkout receipts (read-only)."""

from django.contrib import admin

from shopadmin.admin_base import TenantAdmin
from storefront.models import AUDITED_FIELDS, ChatDraft, CheckoutReceipt, StorefrontSettings


@admin.register(StorefrontSettings)
class StorefrontSettingsAdmin(TenantAdmin):
    list_display = ("shop", "published", "cod_enabled", "bank_transfer_enabled", "mobile_money_enabled", "updated_at")
    list_filter = ("published",)
    fields = (*AUDITED_FIELDS, "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request, obj=None):
        return False  # a shop's settings exist from its first save in the merchant UI

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CheckoutReceipt)
class CheckoutReceiptAdmin(TenantAdmin):
    """What the buyer's confirmation shows beyond the order; the token (the page's address) is
    never shown."""

    list_display = ("order", "payment_method", "language", "email_sent_at", "created_at")
    list_filter = ("payment_method",)
    list_select_related = ("shop", "order")
    search_fields = ("order__external_id", "payment_reference")
    fields = (
        "order",
        "payment_method",
        "payment_reference",
        "payment_instructions",
        "language",
        "shipping_rate_name",
        "coupon",
        "email_sent_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChatDraft)
class ChatDraftAdmin(TenantAdmin):
    """Orders prepared in a chat for the buyer to confirm (read-only; the token, the link's
    only key, is never shown)."""

    list_display = ("pk", "name", "source", "status", "market", "created_at", "expires_at")
    list_filter = ("status", "source")
    list_select_related = ("shop", "market")
    search_fields = ("name", "phone", "products")
    fields = (
        "products",
        "market",
        "name",
        "phone",
        "email",
        "address",
        "payment_method",
        "source",
        "note",
        "status",
        "created_by",
        "created_at",
        "expires_at",
        "receipt",
        "confirmed_at",
        "cancelled_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
