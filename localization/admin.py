"""Staff admin: the shared reference datasets (tax, duty, de minimis, regimes) and shop data."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from localization.errors import LocalizationErrorCode
from localization.models import (
    CustomsRegime,
    DatasetVersion,
    DeMinimisRule,
    DutyRate,
    ExchangeRate,
    Market,
    MarketPrice,
    MarketVariantPrice,
    ShippingRate,
    ShopTaxRate,
    TaxRate,
    Translation,
)
from localization.signals import market_saved_send_on_commit
from shopadmin.admin_base import MoneyColumnsMixin, TenantAdmin


class ReferenceAdmin(MoneyColumnsMixin, admin.ModelAdmin):
    """Reference rows carry their source and the date last checked; staff edit them here."""

    list_per_page = 100


@admin.register(TaxRate)
class TaxRateAdmin(ReferenceAdmin):
    list_display = ["country", "region", "category", "rate", "name", "effective_from", "effective_to", "last_checked"]
    list_filter = ["category", "country"]
    search_fields = ["country", "region", "name", "source"]


@admin.register(DutyRate)
class DutyRateAdmin(ReferenceAdmin):
    list_display = [
        "destination",
        "origin",
        "hs_prefix",
        "kind",
        "ad_valorem",
        "specific_amount",
        "specific_unit",
        "effective_from",
        "effective_to",
        "last_checked",
    ]
    list_filter = ["destination", "kind"]
    money_columns = {"specific_amount": "specific_currency"}
    search_fields = ["hs_prefix", "description", "source"]


@admin.register(DeMinimisRule)
class DeMinimisRuleAdmin(ReferenceAdmin):
    list_display = [
        "code",
        "country",
        "applies_to",
        "effect",
        "threshold",
        "threshold_currency",
        "basis",
        "scope",
        "effective_from",
        "effective_to",
        "last_checked",
    ]
    list_filter = ["country", "applies_to", "effect"]
    money_columns = {"threshold": "threshold_currency", "flat_amount": "threshold_currency"}
    search_fields = ["code", "description", "source"]


@admin.register(CustomsRegime)
class CustomsRegimeAdmin(ReferenceAdmin):
    list_display = ["country", "duty_basis", "tax_base", "import_tax_name", "last_checked"]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReferenceAdmin):
    list_display = ["version", "published_at"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(TenantAdmin):
    """ECB rows (no shop) and every shop's manual rates; staff run in the all-shops context."""

    list_display = ["base", "quote", "rate", "date", "source", "shop"]
    list_filter = ["source", "quote"]


@admin.register(Market)
class MarketAdmin(TenantAdmin):
    list_display = ["name", "currency", "is_home", "is_active", "duty_mode", "rate_mode"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A staff edit saves a market too: the apps above react to it as to the services' writes.
        market_saved_send_on_commit(shop_id=obj.shop_id, market_id=obj.pk, created=not change)


@admin.register(ShopTaxRate)
class ShopTaxRateAdmin(TenantAdmin):
    list_display = ["country", "region", "category", "rate", "note"]


@admin.register(MarketVariantPrice)
class MarketVariantPriceAdmin(TenantAdmin):
    list_display = ["market", "variant", "fixed_price", "sale_price", "sale_starts_at", "sale_ends_at"]
    list_select_related = ("shop", "market", "variant")
    raw_id_fields = ["market", "variant"]
    money_columns = {
        "fixed_price": "market.currency",
        "compare_at_price": "market.currency",
        "sale_price": "market.currency",
    }


@admin.register(Translation)
class TranslationAdmin(TenantAdmin):
    list_display = ["kind", "field", "language", "product", "variant", "option"]
    list_filter = ["kind", "language"]
    raw_id_fields = ["product", "variant", "option"]


@admin.register(MarketPrice)
class MarketPriceAdmin(TenantAdmin):
    """Computed prices: read-only here, they are recomputed from their inputs."""

    list_display = ["variant", "market", "amount", "currency", "origin", "rate", "rate_source", "computed_at"]
    list_filter = ["origin", "currency"]
    search_fields = ["variant__sku"]
    raw_id_fields = ["market", "variant", "duty_rate"]
    list_select_related = ("shop", "market", "variant")
    money_columns = {
        "amount": "currency",
        "compare_at_amount": "currency",
        "sale_amount": "currency",
        "base_amount": "base_currency",
        "landed_cost_amount": "currency",
    }

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ShippingRateAdminForm(forms.ModelForm):
    """The rate's shop and currency follow its market, as the services set them."""

    class Meta:
        model = ShippingRate
        fields = [
            "market",
            "name",
            "kind",
            "amount",
            "per_kg_amount",
            "free_over",
            "min_weight_grams",
            "max_weight_grams",
            "is_active",
            "position",
        ]

    def clean(self):
        cleaned = super().clean()
        market = cleaned.get("market")
        if market is not None:
            if self.instance.pk and market.shop_id != self.instance.shop_id:
                raise ValidationError(
                    {
                        "market": ValidationError(
                            _("A shipping rate stays in its shop: choose a market of the same shop."),
                            code=LocalizationErrorCode.MARKET_NOT_FOUND,
                        )
                    }
                )
            self.instance.shop_id = market.shop_id
            self.instance.currency = market.currency
        return cleaned


@admin.register(ShippingRate)
class ShippingRateAdmin(TenantAdmin):
    form = ShippingRateAdminForm
    list_display = ["name", "market", "kind", "amount", "per_kg_amount", "free_over", "is_active", "position"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "market__name"]
    list_select_related = ("shop", "market")
    raw_id_fields = ["market"]
    readonly_fields = ["currency"]
    money_columns = {"amount": "currency", "per_kg_amount": "currency", "free_over": "currency"}
