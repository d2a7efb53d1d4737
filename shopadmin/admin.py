from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from shopadmin.admin_base import TenantAdmin
from shopadmin.models import (
    ApiKey,
    AuditLogEntry,
    IdempotencyRecord,
    Invitation,
    Job,
    Membership,
    Shop,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "language")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "default_currency", "is_active", "created_at"]
    list_filter = ["is_active", "country", "default_currency"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = [("shop", admin.RelatedOnlyFieldListFilter), "role"]
    search_fields = ["user__email", "shop__name", "shop__slug"]
    autocomplete_fields = ["user", "shop"]


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    list_display = ["email", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email"]
    exclude = ["token_hash"]
    readonly_fields = ["invited_by", "accepted_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdmin):
    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "key_hash", "created_by", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # keys are created by the shop (the secret is shown once, to them)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(TenantAdmin):
    list_display = ["created_at", "what", "about", "who", "door"]
    list_filter = ["door"]
    search_fields = ["action", "object_repr", "actor_label", "object_id"]
    date_hierarchy = "created_at"

    @admin.display(description=_("action"), ordering="action")
    def what(self, entry):
        return entry.action_words

    @admin.display(description=_("about"), ordering="object_repr")
    def about(self, entry):
        return entry.object_text

    @admin.display(description=_("who"), ordering="actor_label")
    def who(self, entry):
        return entry.actor_words

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(TenantAdmin):
    list_display = ["kind", "label", "status", "done", "total", "created_at", "finished_at"]
    list_filter = ["status", "kind"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(TenantAdmin):
    list_display = ["key", "method", "path", "response_status", "created_at"]
    search_fields = ["key", "path"]
