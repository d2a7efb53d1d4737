"""Staff admin for orders: read-only records (orders change through services, which keep stock,
the timeline and the channel in step), editable settings, resolvable issues."""

from django.contrib import admin

from orders.models import (
    Allocation,
    Cancellation,
    CancellationLine,
    Customer,
    DailyProductSales,
    DailySales,
    Fulfillment,
    FulfillmentLine,
    MarketLocation,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
    OrderSyncCursor,
    ReconciliationIssue,
    ReconciliationRun,
    Refund,
    RefundLine,
)
from shopadmin.admin_base import TenantAdmin, TenantInline


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyMixin, TenantInline):
    model = OrderLine
    fields = ("sku", "title", "quantity", "unit_price", "quantity_allocated", "quantity_short", "quantity_fulfilled")
    readonly_fields = fields


class EventInline(ReadOnlyMixin, TenantInline):
    model = OrderEvent
    fields = ("created_at", "kind", "message", "actor_label")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("external_id", "channel", "status", "channel_status", "total", "currency", "placed_at")
    list_filter = ("channel", "status")
    search_fields = ("external_id", "buyer_email", "lines__sku")
    inlines = [LineInline, EventInline]
    date_hierarchy = "placed_at"


class FulfillmentLineInline(ReadOnlyMixin, TenantInline):
    model = FulfillmentLine


class CancellationLineInline(ReadOnlyMixin, TenantInline):
    model = CancellationLine


class RefundLineInline(ReadOnlyMixin, TenantInline):
    model = RefundLine


@admin.register(Cancellation)
class CancellationAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("order", "created_at")
    inlines = [CancellationLineInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("order", "created_at")
    inlines = [RefundLineInline]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("line", "location", "quantity")
    search_fields = ("line__sku", "line__order__external_id")


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("order", "kind", "message", "created_at")
    list_filter = ("kind",)
    search_fields = ("order__external_id", "message")


@admin.register(OrderSyncCursor)
class OrderSyncCursorAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("account", "updated_since", "last_polled_at", "last_error")


@admin.register(Customer)
class CustomerAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("name", "email", "marketing_consent", "erased_at")
    search_fields = ("email", "name")


@admin.register(Fulfillment)
class FulfillmentAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("order", "carrier", "tracking_number", "push_state", "push_attempts", "shipped_at")
    list_filter = ("push_state", "source")
    inlines = [FulfillmentLineInline]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("account", "status", "trigger", "orders_checked", "counts", "started_at", "finished_at")
    list_filter = ("status",)


@admin.register(ReconciliationIssue)
class ReconciliationIssueAdmin(TenantAdmin):
    list_display = ("kind", "key", "severity", "status", "ours", "theirs", "created_at")
    list_filter = ("kind", "status", "severity")
    search_fields = ("key",)
    fields = ("kind", "key", "severity", "ours", "theirs", "detail", "suggested_action", "status", "resolution_note")
    readonly_fields = ("kind", "key", "severity", "ours", "theirs", "detail", "suggested_action")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrderSettings)
class OrderSettingsAdmin(TenantAdmin):
    list_display = ("default_location", "retention_days")
    raw_id_fields = ("default_location",)


@admin.register(MarketLocation)
class MarketLocationAdmin(TenantAdmin):
    list_display = ("market", "location")
    raw_id_fields = ("market", "location")


@admin.register(DailySales)
class DailySalesAdmin(ReadOnlyMixin, TenantAdmin):
    """The dashboard's daily rollup, maintained by order imports (read-only)."""

    list_display = ("day", "account", "market", "orders", "units", "revenue")
    date_hierarchy = "day"


@admin.register(DailyProductSales)
class DailyProductSalesAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ("day", "channel", "product", "units", "revenue")
    date_hierarchy = "day"
