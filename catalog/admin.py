"""Staff admin for every catalog model: shop filter, search by SKU, GTIN and title.

Stock levels and the ledger are read-only here; stock changes only by posting movements.
"""

from django.contrib import admin

from catalog.models import (
    Category,
    Location,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
    StockLevel,
    StockMovement,
)
from shopadmin.admin_base import TenantAdmin, TenantInline


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(TenantAdmin):
    list_display = ("full_path", "google_product_category")
    search_fields = ("full_path",)
    raw_id_fields = ("parent",)
    readonly_fields = ("full_path",)


class OptionInline(TenantInline):
    model = ProductOption
    fields = ("name", "position", "values")


class VariantInline(TenantInline):
    model = ProductVariant
    fields = ("sku", "option_values", "gtin", "price", "position")
    show_change_link = True
    max_num = 0  # variants are edited on their own page; a big product would make this page huge


@admin.register(Product)
class ProductAdmin(TenantAdmin):
    list_display = ("title", "brand", "status", "category", "updated_at")
    list_filter = ("status", "condition")
    search_fields = ("title", "handle", "brand", "variants__sku", "variants__gtin")
    raw_id_fields = ("category",)
    inlines = [OptionInline, VariantInline]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct() if may_have_duplicates else queryset, False


@admin.register(ProductVariant)
class VariantAdmin(TenantAdmin):
    list_display = ("sku", "product", "gtin", "price", "updated_at")
    search_fields = ("sku", "gtin", "mpn", "product__title")
    raw_id_fields = ("product",)
    list_select_related = ("shop", "product")


@admin.register(ProductMedia)
class MediaAdmin(TenantAdmin):
    list_display = ("product", "alt_text", "url", "image", "position")
    search_fields = ("product__title", "alt_text", "variant__sku")
    raw_id_fields = ("product", "variant")
    # Uploads are checked and rendered by catalog.services.media_add (the merchant UI or the
    # API); here the stored files are only shown.
    readonly_fields = ("image", "original", "thumbnail", "width", "height")


@admin.register(Location)
class LocationAdmin(TenantAdmin):
    list_display = ("name", "code", "country", "is_active")
    search_fields = ("name", "code")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("variant", "location", "on_hand", "allocated", "updated_at")
    search_fields = ("variant__sku", "variant__gtin", "variant__product__title")
    list_select_related = ("shop", "variant", "location")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("created_at", "variant", "location", "quantity", "reason", "reference", "actor_label")
    list_filter = ("reason",)
    search_fields = ("variant__sku", "variant__gtin", "reference")
    list_select_related = ("shop", "variant", "location")
