"""Staff admin for orders: read-only records (orders change through services, which keep stock,
the timeline and the channel in step), editable settings, resolvable issues."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders.models import (
    AdSpend,
    Allocation,
    Cancellation,
    CancellationLine,
    Customer,
    DailyProductSales,
    DailySales,
    DiscountCode,
    DiscountRedemption,
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
    RollupShare,
    TrafficDaily,
)
from shopadmin.admin_base import TenantAdmin, TenantInline
from shopadmin.templatetags.formats import format_money


def _money(field: str, currency_of, label: str):
    """A read-only field of a record's page: the amount rounded to its currency's minor units,
    with the currency (`273.980` → `$273.98`). List columns use TenantAdmin's `money_columns`."""

    def show(self, obj):
        return format_money(getattr(obj, field), currency_of(obj))

    show.short_description = label
    show.admin_order_field = field
    show.__name__ = f"{field}_amount"
    return show


def _order_currency(obj):
    return obj.currency


def _shop_currency(obj):
    return obj.shop.default_currency


class MoneyFieldsMixin:
    """Shows each amount field through its `<field>_amount` method instead of the raw decimal."""

    money_fields: tuple[str, ...] = ()

    def get_fields(self, request, obj=None):
        return [f"{name}_amount" if name in self.money_fields else name for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(f"{name}_amount" for name in self.money_fields)]


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyMixin, TenantInline):
    model = OrderLine
    fields = (
        "sku",
        "title",
        "quantity",
        "unit_price_amount",
        "quantity_allocated",
        "quantity_short",
        "quantity_fulfilled",
    )
    readonly_fields = fields
    unit_price_amount = _money("unit_price", lambda line: line.order.currency, _("unit price"))


class EventInline(ReadOnlyMixin, TenantInline):
    model = OrderEvent
    fields = ("created_at", "kind", "message", "actor_label")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, MoneyFieldsMixin, TenantAdmin):
    list_display = ("external_id", "channel", "source", "status", "channel_status", "total", "placed_at")
    money_columns = {"total": "currency"}
    money_fields = ("subtotal", "shipping", "tax", "duties", "discounts", "total")
    shop_money_fields = ("subtotal_shop", "shipping_shop", "tax_shop", "duties_shop", "discounts_shop", "total_shop")
    subtotal_amount = _money("subtotal", _order_currency, _("subtotal"))
    shipping_amount = _money("shipping", _order_currency, _("shipping"))
    tax_amount = _money("tax", _order_currency, _("tax"))
    duties_amount = _money("duties", _order_currency, _("duties"))
    discounts_amount = _money("discounts", _order_currency, _("discounts"))
    total_amount = _money("total", _order_currency, _("total"))
    subtotal_shop_amount = _money("subtotal_shop", lambda o: o.shop_currency, _("subtotal in the shop currency"))
    shipping_shop_amount = _money("shipping_shop", lambda o: o.shop_currency, _("shipping in the shop currency"))
    tax_shop_amount = _money("tax_shop", lambda o: o.shop_currency, _("tax in the shop currency"))
    duties_shop_amount = _money("duties_shop", lambda o: o.shop_currency, _("duties in the shop currency"))
    discounts_shop_amount = _money("discounts_shop", lambda o: o.shop_currency, _("discounts in the shop currency"))
    total_shop_amount = _money("total_shop", lambda o: o.shop_currency, _("total in the shop currency"))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [f"{name}_amount" if name in self.shop_money_fields else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(f"{n}_amount" for n in self.shop_money_fields)]

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
class RefundAdmin(ReadOnlyMixin, MoneyFieldsMixin, TenantAdmin):
    list_display = ("order", "amount", "created_at")
    money_columns = {"amount": "currency"}
    money_fields = ("amount",)
    amount_amount = _money("amount", _order_currency, _("amount"))
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
    fields = (
        "kind",
        "key",
        "severity",
        "ours",
        "theirs",
        "detail",
        "data",
        "suggested_action",
        "pending_action",
        "action_error",
        "status",
        "resolution_note",
    )
    # Staff settle an issue (its status and note); what was found stays as found.
    readonly_fields = tuple(name for name in fields if name not in ("status", "resolution_note"))

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
class DailySalesAdmin(ReadOnlyMixin, MoneyFieldsMixin, TenantAdmin):
    """The dashboard's daily rollup, maintained by order imports (read-only)."""

    list_display = ("day", "account", "market", "orders", "units", "revenue")
    money_columns = {"revenue": "shop.default_currency"}
    list_select_related = ("shop", "account", "market")
    date_hierarchy = "day"
    money_fields = ("revenue",)
    revenue_amount = _money("revenue", _shop_currency, _("revenue"))


@admin.register(DailyProductSales)
class DailyProductSalesAdmin(ReadOnlyMixin, MoneyFieldsMixin, TenantAdmin):
    list_display = ("day", "channel", "product", "units", "revenue")
    money_columns = {"revenue": "shop.default_currency"}
    list_select_related = ("shop", "product")
    date_hierarchy = "day"
    money_fields = ("revenue",)
    revenue_amount = _money("revenue", _shop_currency, _("revenue"))


@admin.register(RollupShare)
class RollupShareAdmin(ReadOnlyMixin, TenantAdmin):
    """Each order's share of the daily rollups, as last added to them (read-only)."""

    list_display = ("order", "share")
    list_select_related = ("shop", "order")
    raw_id_fields = ("order",)


class DiscountRedemptionInline(ReadOnlyMixin, TenantInline):
    model = DiscountRedemption
    fields = ("created_at", "order", "code", "amount", "currency")
    readonly_fields = fields


@admin.register(DiscountCode)
class DiscountCodeAdmin(TenantAdmin):
    """Merchants write their codes (the UI, the API); staff can switch one off, e.g. a leaked
    code, and read what it was used for. The counts are checkout's."""

    list_display = ("code", "kind", "value", "times_used", "usage_limit", "starts_at", "ends_at", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code",)
    fields = (
        "code",
        "kind",
        "value",
        "minimum_subtotal",
        "starts_at",
        "ends_at",
        "usage_limit",
        "times_used",
        "is_active",
        "created_at",
        "updated_at",
    )
    readonly_fields = tuple(name for name in fields if name != "is_active")
    inlines = [DiscountRedemptionInline]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DiscountRedemption)
class DiscountRedemptionAdmin(ReadOnlyMixin, MoneyFieldsMixin, TenantAdmin):
    list_display = ("code", "order", "amount", "created_at")
    money_columns = {"amount": "currency"}
    money_fields = ("amount",)
    amount_amount = _money("amount", lambda r: r.currency, _("amount"))
    list_select_related = ("shop", "order")
    raw_id_fields = ("order", "discount")
    search_fields = ("code", "order__external_id")


@admin.register(TrafficDaily)
class TrafficDailyAdmin(ReadOnlyMixin, TenantAdmin):
    """Page views and checkout starts per day, source and campaign, counted by the storefront (read-only)."""

    list_display = ("day", "source", "campaign", "page_views", "checkout_starts")
    list_filter = ("source",)
    date_hierarchy = "day"


@admin.register(AdSpend)
class AdSpendAdmin(ReadOnlyMixin, MoneyFieldsMixin, TenantAdmin):
    """The ad spend merchants enter per source and month (read-only here: it changes through the
    merchant UI and the API, which normalise the source and write the audit log)."""

    list_display = ("month", "source", "amount", "note", "updated_at")
    money_columns = {"amount": "shop.default_currency"}
    list_filter = ("source",)
    date_hierarchy = "month"
    money_fields = ("amount",)
    amount_amount = _money("amount", _shop_currency, _("amount"))
