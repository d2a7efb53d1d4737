"""Base classes for the staff admin: every tenant list gets a shop filter and all shops' rows.

Staff requests under /admin/ run in the all-shops context (TenantContextMiddleware), the
explicit cross-shop path; these bases read through `Model.all_shops` accordingly.
"""

from django.contrib import admin

from shopadmin.audit import audit_record, diff, snapshot


class TenantAdmin(admin.ModelAdmin):
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
    extra = 0
