"""Merchant UI of the catalog: product list, editor (variants, options, media, stock), locations,
CSV import and export. Thin: forms check shapes, services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog import csvio, selectors, services
from catalog.forms import (
    BulkActionForm,
    CategoryForm,
    ImportForm,
    LocationForm,
    MediaForm,
    OptionsForm,
    ProductForm,
    StockAdjustForm,
    VariantForm,
)
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
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.models import Job
from shopadmin.roles import Perm

LIST_PARAMS = ("q", "status", "category", "brand", "stock", "sort")


def _list_filters(params) -> dict:
    category = params.get("category", "")
    return {
        "q": params.get("q", "").strip()[:200],
        "status": params.get("status", "") if params.get("status") in Product.Status.values else "",
        "category": int(category) if category.isdigit() else None,
        "brand": params.get("brand", "")[:120],
        "stock": params.get("stock", "") if params.get("stock") in ("in", "out") else "",
    }


@shop_view()
def product_list(request):
    filters = _list_filters(request.GET)
    page = selectors.product_page(
        filters=filters,
        sort=request.GET.get("sort", selectors.DEFAULT_SORT),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    kept = {k: request.GET[k] for k in LIST_PARAMS if request.GET.get(k)}
    context = {
        "page": page,
        "filters": filters,
        "categories": Category.objects.all(),
        "brands": selectors.brands(),
        "statuses": Product.Status.choices,
        "sorts": [
            ("-updated", _("Recently updated")),
            ("-created", _("Newest")),
            ("title", _("Title A to Z")),
            ("-title", _("Title Z to A")),
        ],
        "next_url": f"?{urlencode({**kept, 'after': page.next_cursor})}" if page.next_cursor else "",
        "prev_url": f"?{urlencode({**kept, 'before': page.prev_cursor})}" if page.prev_cursor else "",
        "export_query": urlencode(kept),
        "bulk_form": BulkActionForm(),
        "currency": request.shop.default_currency,
    }
    return render(request, "catalog/product_list.html", context)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def product_bulk(request):
    form = BulkActionForm(request.POST)
    if form.is_valid():
        try:
            changed = services.product_bulk_action(
                product_ids=form.cleaned_data["products"],
                action=form.cleaned_data["action"],
                tag=form.cleaned_data["tag"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(n)d products changed.") % {"n": changed})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    url = reverse("catalog:product-list", args=[request.shop.slug])
    back = request.POST.get("next", "")
    # Only a query string of the list itself: never an open redirect.
    return redirect(url + back if back.startswith("?") else url)


@shop_view(Perm.CATALOG_WRITE)
def product_create(request):
    form = ProductForm(request.POST or None, initial={"status": "draft", "condition": "new"})
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(**form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Product created. Add its options and variants below."))
            return redirect("catalog:product-detail", request.shop.slug, product.pk)
    return render(request, "catalog/product_create.html", {"form": form}, status=400 if form.errors else 200)


def _product(pk) -> Product:
    return get_object_or_404(
        Product.objects.select_related("category").prefetch_related(
            Prefetch("options", queryset=ProductOption.objects.order_by("position", "id"))
        ),
        pk=pk,
    )


def _render_detail(request, product, status=200, **forms):
    variants = list(product.variants.order_by("position", "id"))
    locations = list(Location.objects.filter(is_active=True))
    levels = {(lv.variant_id, lv.location_id): lv for lv in StockLevel.objects.filter(variant__product=product)}
    rows = [
        {
            "variant": v,
            "levels": [levels.get((v.pk, loc.pk)) for loc in locations],
            "available": sum(lv.available for key, lv in levels.items() if key[0] == v.pk),
        }
        for v in variants
    ]
    context = {
        "product": product,
        "form": forms.get("form") or ProductForm(initial=ProductForm.initial_from(product)),
        "options_form": forms.get("options_form") or OptionsForm(initial=OptionsForm.initial_from(product)),
        "variant_form": forms.get("variant_form") or VariantForm(options=product.options.all()),
        "media_form": forms.get("media_form") or MediaForm(product=product),
        "stock_form": forms.get("stock_form") or StockAdjustForm(product=product),
        "rows": rows,
        "locations": locations,
        "media": product.media.select_related("variant"),
        "movements": StockMovement.objects.filter(variant__product=product).select_related("variant", "location")[:20],
        "currency": request.shop.default_currency,
        "can_write": request.membership.has_perm(Perm.CATALOG_WRITE),
    }
    return render(request, "catalog/product_detail.html", context, status=status)


@shop_view()
def product_detail(request, pk):
    product = _product(pk)
    if request.method == "POST":
        if not request.membership.has_perm(Perm.CATALOG_WRITE):
            raise PermissionDenied
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                services.product_update(product=product, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("catalog:product-detail", request.shop.slug, product.pk)
        product.refresh_from_db()
        return _render_detail(request, product, status=400, form=form)
    return _render_detail(request, product)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def product_delete(request, pk):
    product = _product(pk)
    services.product_delete(product=product)
    messages.success(request, _("“%(title)s” deleted.") % {"title": product.title})
    return redirect("catalog:product-list", request.shop.slug)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def product_options(request, pk):
    product = _product(pk)
    form = OptionsForm(request.POST)
    if form.is_valid():
        options = form.options()
        if form.is_valid():
            try:
                services.product_set_options(product=product, options=options)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Options saved."))
                return redirect("catalog:product-detail", request.shop.slug, product.pk)
    return _render_detail(request, _product(pk), status=400, options_form=form)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def variant_create(request, pk):
    product = _product(pk)
    form = VariantForm(request.POST, options=product.options.all())
    if form.is_valid():
        try:
            services.variant_create(product=product, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Variant added."))
            return redirect("catalog:product-detail", request.shop.slug, product.pk)
    return _render_detail(request, product, status=400, variant_form=form)


@shop_view()
def variant_edit(request, pk):
    variant = get_object_or_404(ProductVariant.objects.select_related("product"), pk=pk)
    options = variant.product.options.all()
    form = VariantForm(request.POST or None, options=options, initial=VariantForm.initial_from(variant))
    if request.method == "POST":
        if not request.membership.has_perm(Perm.CATALOG_WRITE):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.variant_update(variant=variant, **form.service_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Variant saved."))
                return redirect("catalog:product-detail", request.shop.slug, variant.product_id)
    return render(
        request,
        "catalog/variant_form.html",
        {"variant": variant, "product": variant.product, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def variant_delete(request, pk):
    variant = get_object_or_404(ProductVariant, pk=pk)
    product_id = variant.product_id
    services.variant_delete(variant=variant)
    messages.success(request, _("Variant %(sku)s deleted.") % {"sku": variant.sku})
    return redirect("catalog:product-detail", request.shop.slug, product_id)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def media_add(request, pk):
    product = _product(pk)
    form = MediaForm(request.POST, request.FILES, product=product)
    if form.is_valid():
        try:
            services.media_add(product=product, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Image added."))
            return redirect("catalog:product-detail", request.shop.slug, product.pk)
    return _render_detail(request, product, status=400, media_form=form)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def media_delete(request, pk):
    media = get_object_or_404(ProductMedia, pk=pk)
    services.media_delete(media=media)
    messages.success(request, _("Image removed."))
    return redirect("catalog:product-detail", request.shop.slug, media.product_id)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def stock_adjust(request, pk):
    product = _product(pk)
    form = StockAdjustForm(request.POST, product=product)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["mode"] == "set":
                services.stock_set(
                    variant=data["variant"],
                    location=data["location"],
                    on_hand=data["quantity"],
                    reason=data["reason"],
                    note=data["note"],
                )
            else:
                services.stock_post_movements(
                    movements=[
                        services.StockChange(
                            variant_id=data["variant"].pk,
                            location_id=data["location"].pk,
                            quantity=data["quantity"],
                            reason=data["reason"],
                            note=data["note"],
                        )
                    ]
                )
        except ValidationError as exc:
            form.add_error("quantity", [m.split(": ", 1)[-1] for m in exc.messages])
        else:
            messages.success(request, _("Stock updated."))
            return redirect(reverse("catalog:product-detail", args=[request.shop.slug, product.pk]) + "#stock")
    return _render_detail(request, product, status=400, stock_form=form)


@shop_view()
def locations(request):
    form = LocationForm(request.POST or None)
    if request.method == "POST":
        if not request.membership.has_perm(Perm.CATALOG_WRITE):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.location_create(**form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Location added."))
                return redirect("catalog:locations", request.shop.slug)
    return render(
        request,
        "catalog/locations.html",
        {"locations": Location.objects.all(), "form": form},
        status=400 if form.errors else 200,
    )


# --- Categories ---------------------------------------------------------------------------


@shop_view()
def categories(request):
    """The tree (ordered by path, indented by depth) with product counts, and the add form."""
    form = CategoryForm(request.POST or None, initial={"parent": request.GET.get("parent") or None})
    if request.method == "POST":
        if not request.membership.has_perm(Perm.CATALOG_WRITE):
            raise PermissionDenied
        if form.is_valid():
            try:
                category = services.category_create(**form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Category “%(path)s” added.") % {"path": category.full_path})
                return redirect("catalog:categories", request.shop.slug)
    nodes = Category.objects.annotate(product_count=Count("products")).order_by("full_path")
    rows = [{"category": c, "depth": c.full_path.count(" > ")} for c in nodes]
    return render(
        request,
        "catalog/categories.html",
        {"rows": rows, "form": form, "can_write": request.membership.has_perm(Perm.CATALOG_WRITE)},
        status=400 if form.errors else 200,
    )


@shop_view()
def category_edit(request, pk):
    category = get_object_or_404(Category.objects.select_related("parent"), pk=pk)
    form = CategoryForm(request.POST or None, category=category, initial=CategoryForm.initial_from(category))
    if request.method == "POST":
        if not request.membership.has_perm(Perm.CATALOG_WRITE):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.category_update(category=category, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
                category.refresh_from_db()
            else:
                messages.success(request, _("Category saved."))
                return redirect("catalog:categories", request.shop.slug)
    context = {
        "category": category,
        "form": form,
        "usage": services.category_usage(category=category),
        "can_write": request.membership.has_perm(Perm.CATALOG_WRITE),
    }
    return render(request, "catalog/category_edit.html", context, status=400 if form.errors else 200)


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def category_delete(request, pk):
    category = get_object_or_404(Category.objects.select_related("parent"), pk=pk)
    path = category.full_path
    try:
        moved = services.category_delete(category=category, move_to_parent=bool(request.POST.get("move_to_parent")))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("catalog:category-edit", request.shop.slug, pk)
    messages.success(
        request,
        _("“%(path)s” deleted; %(p)d products and %(c)d subcategories moved up.")
        % {"path": path, "p": moved["products"], "c": moved["children"]},
    )
    return redirect("catalog:categories", request.shop.slug)


# --- CSV import and export ----------------------------------------------------------------

IMPORT_KINDS = ("catalog_import_check", "catalog_import_commit")


@shop_view(Perm.CATALOG_WRITE)
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.catalog_import_start(upload=form.cleaned_data["file"], user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("catalog:import-job", request.shop.slug, job.pk)
    recent = Job.objects.filter(kind__in=IMPORT_KINDS)[:10]
    context = {"form": form, "columns": csvio.COLUMNS, "recent": recent, "locations": Location.objects.all()}
    return render(request, "catalog/import.html", context, status=400 if form.errors else 200)


@shop_view(Perm.CATALOG_WRITE)
def import_job(request, job_id):
    job = get_object_or_404(Job, pk=job_id, kind__in=IMPORT_KINDS)
    return render(request, "catalog/import_job.html", {"job": job, "errors": job.result.get("errors", [])})


@require_POST
@shop_view(Perm.CATALOG_WRITE)
def import_commit(request, job_id):
    check = get_object_or_404(Job, pk=job_id, kind=services.IMPORT_CHECK)
    try:
        job = services.catalog_import_commit(check=check, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("catalog:import-job", request.shop.slug, check.pk)
    return redirect("catalog:import-job", request.shop.slug, job.pk)


@shop_view()
def export(request):
    """The catalog (or the filtered list) as CSV, streamed row by row.

    The response body is produced after the view returns, when the request's transaction
    and tenant context are gone, so the generator enters the shop context and its own
    transaction (for the server-side cursor and the row-level security variables).
    """
    filters = _list_filters(request.GET)
    shop = request.shop

    def stream():
        from shopadmin.tenancy import shop_context

        with shop_context(shop), transaction.atomic():
            products = selectors.filter_products(Product.objects.all(), **filters)
            locations = list(Location.objects.all())
            yield from csvio.export_rows(csvio.export_queryset(products), locations)

    filename = f"{shop.slug}-catalog-{timezone_now().date().isoformat()}.csv"
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
