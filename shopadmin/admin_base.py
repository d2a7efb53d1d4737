"""Base classes for the staff admin: every tenant list gets a shop filter and all shops' rows.

Staff requests under /admin/ run in the all-shops context (TenantContextMiddleware), the
explicit cross-shop path; these bases read through `Model.all_shops` accordingly.
"""

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from shopadmin.audit import audit_record, diff, snapshot
from shopadmin.templatetags.formats import format_money


def money_column(model, name: str, currency_path: str | None):
    """A list column showing the field `name` as money in its currency, rounded to the
    currency's minor units and in the reader's format ($273.98, 273,98 €), instead of the
    stored 273.9800. `currency_path` names the attribute holding the currency code
    (`currency`, `market.currency`); a djmoney MoneyField carries its own."""
    field = model._meta.get_field(name)

    def column(obj):
        value = getattr(obj, name)
        if value is None or value == "":
            return "—"
        if currency_path is None:
            return format_money(value)
        currency = obj
        for part in currency_path.split("."):
            currency = getattr(currency, part, None)
        return format_money(value, currency or None)

    column.short_description = field.verbose_name
    column.admin_order_field = name
    column.__name__ = f"{name}_money"
    return column


class MoneyColumnsMixin:
    """Money in list columns: every djmoney MoneyField, and the decimal fields named in
    `money_columns` ({field: attribute path of its currency code})."""

    money_columns: dict[str, str] = {}

    def get_list_display(self, request):
        columns = []
        for name in super().get_list_display(request):
            columns.append(self._money_or_plain(name) if isinstance(name, str) else name)
        return columns

    def _money_or_plain(self, name: str):
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        if type(field).__name__ == "MoneyField":
            return money_column(self.model, name, None)
        if name in self.money_columns:
            return money_column(self.model, name, self.money_columns[name])
        return name


# A URL typed without a scheme reads as https:// (Django 6's default, asked for now).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class TenantAdmin(MoneyColumnsMixin, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_select_related = ("shop",)
    list_per_page = 50
    show_full_result_count = False  # counting every row of a big table on each page is slow

    def get_queryset(self, request):
        return self.model.all_shops.get_queryset().select_related("shop")

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return [("shop", admin.RelatedOnlyFieldListFilter), *filters] if "shop" not in filters else filters

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return display if "shop" in display else [*display, "shop"]

    def save_model(self, request, obj, form, change):
        fields = [f for f in form.changed_data if f in {fld.name for fld in obj._meta.fields}]
        before = snapshot(form.initial_instance, fields) if change and hasattr(form, "initial_instance") else {}
        super().save_model(request, obj, form, change)
        after = snapshot(obj, fields)
        audit_record(
            action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
            instance=obj,
            changes=diff(before, after) if change else after,
        )

    def delete_model(self, request, obj):
        audit_record(action=f"{obj._meta.model_name}.delete", instance=obj)
        super().delete_model(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            # Keep the stored values to diff against for the audit log.
            initial = type(obj).all_shops.get(pk=obj.pk)
            form = type(form.__name__, (form,), {"initial_instance": initial})
        return form


class TenantInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    extra = 0
