"""Merchant UI of orders: list, detail with timeline, fulfil/cancel/refund, reconciliation,
customers (data export and erasure), settings. Thin: forms check shapes, services do the work."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from catalog.models import Location
from catalog.selectors import first_media_by_product
from channels.models import Channel, ChannelAccount
from localization.models import Market
from orders import reconciliation as recon
from orders import selectors
from orders.forms import CancelForm, DiscountCodeForm, FulfilForm, IssueActForm, OrderSettingsForm, RefundForm
from orders.models import (
    DISCOUNT_CODE_MAX,
    Customer,
    DiscountCode,
    Fulfillment,
    IssueKind,
    Lifecycle,
    MarketLocation,
    Order,
    OrderLine,
    ReconciliationIssue,
)
from orders.services import customers, lifecycle
from orders.services import discounts as discount_services
from orders.services import settings as order_settings_service
from orders.sync import ORDER_CHANNELS
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.roles import Perm

LIST_PARAMS = ("channel", "status", "market", "account", "placed_from", "placed_to", "q")
PAGE_SIZE = 50


@shop_view()
def order_list(request):
    filters = {k: request.GET.get(k, "").strip()[:200] for k in LIST_PARAMS}
    orders = selectors.order_list(**filters)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "filters": filters,
            "kept": kept,
            "channels": Channel.choices,
            "statuses": Lifecycle.choices,
            "markets": Market.objects.all(),
            "open_issues": ReconciliationIssue.objects.filter(status="open").count(),
        },
    )


def _order(pk) -> Order:
    # The lines in one query with their variants and products (names and options on the page).
    lines = OrderLine.objects.select_related("variant__product")
    return get_object_or_404(
        Order.objects.select_related("account", "market", "customer").prefetch_related(
            Prefetch("lines", queryset=lines),
            "lines__allocations__location",
            Prefetch("fulfillments", queryset=Fulfillment.objects.prefetch_related("lines__line")),
            "events",
            "refunds",
            "cancellations",
            "discount_redemptions",
        ),
        pk=pk,
    )


def _describe_lines(order: Order) -> None:
    """Each line's product name, variant options and thumbnail (the product's first image): one
    query for the images of every product on the order, whatever the number of lines."""
    lines = list(order.lines.all())
    product_ids = {line.variant.product_id for line in lines if line.variant is not None}
    images = first_media_by_product(product_ids) if product_ids else {}
    for line in lines:
        variant = line.variant
        line.product_name = variant.product.title if variant is not None else line.title
        line.options = [(name, value) for name, value in ((variant.option_values or {}) if variant else {}).items()]
        media = images.get(variant.product_id) if variant is not None else None
        line.thumbnail = media.thumbnail_src if media is not None else ""
        line.thumbnail_alt = (media.alt_text if media is not None else "") or line.product_name


def _detail(request, order, *, fulfil_form=None, cancel_form=None, refund_form=None, status=200):
    can_write = request.membership.has_perm(Perm.ORDERS_WRITE)
    _describe_lines(order)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "can_write": can_write,
            "fulfil_form": fulfil_form or FulfilForm(order=order),
            "cancel_form": cancel_form or CancelForm(),
            "refund_form": refund_form or RefundForm(order=order),
            "issues": order.issues.filter(status="open"),
        },
        status=status,
    )


@shop_view()
def order_detail(request, pk: int):
    return _detail(request, _order(pk))


def _order_write(request, pk: int, form_class, write, *, done: str, slot: str):
    """Fulfil, cancel or refund from the order page: the form's arguments go to the service the
    API calls too (orders.api.OrderViewSet._write); its refusal is shown on the form."""
    order = _order(pk)
    form = form_class(request.POST, order=order)
    if form.is_valid():
        try:
            write(order=order, **form.arguments())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("orders:order-detail", request.shop.slug, order.pk)
    return _detail(request, order, status=400, **{slot: form})


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def order_fulfil(request, pk: int):
    done = _("Fulfilled; the channel is being told.")
    return _order_write(request, pk, FulfilForm, lifecycle.order_fulfill, done=done, slot="fulfil_form")


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def order_cancel(request, pk: int):
    done = _("Cancelled; the stock is free again.")
    return _order_write(request, pk, CancelForm, lifecycle.order_cancel, done=done, slot="cancel_form")


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def order_refund(request, pk: int):
    done = _("Refund recorded.")
    return _order_write(request, pk, RefundForm, lifecycle.order_refund, done=done, slot="refund_form")


@shop_view()
def reconciliation(request):
    issues = ReconciliationIssue.objects.filter(status="open").select_related("account", "order")
    kind = request.GET.get("kind", "")
    if kind in IssueKind.values:
        issues = issues.filter(kind=kind)
    labels = dict(IssueKind.choices)
    groups = selectors.open_issues_grouped()
    # A listing finding covers many listings: its panel says how many.
    listings = {}
    for account_id, data in ReconciliationIssue.objects.filter(status="open", kind=IssueKind.LISTING_DRIFT).values_list(
        "account_id", "data"
    ):
        listings[account_id] = listings.get(account_id, 0) + int((data or {}).get("count") or 1)
    for group in groups:
        group["label"] = labels.get(group["kind"], group["kind"])
        if group["kind"] == IssueKind.LISTING_DRIFT:
            group["listings"] = listings.get(group["account_id"], 0)
    runs = list(selectors.recent_runs())
    for run in runs:
        run.count_labels = [(labels.get(k, k), n) for k, n in sorted((run.counts or {}).items())]
    return render(
        request,
        "orders/reconciliation.html",
        {
            "groups": groups,
            "issues": issues[:200],
            "kind": kind,
            "runs": runs,
            "accounts": ChannelAccount.objects.filter(channel__in=ORDER_CHANNELS, is_active=True),
            "can_write": request.membership.has_perm(Perm.ORDERS_WRITE),
        },
    )


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def reconciliation_run(request):
    account = get_object_or_404(ChannelAccount, pk=request.POST.get("account") or 0)
    try:
        recon.reconciliation_start(account=account, trigger="manual", created_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Reconciling %(a)s; the progress shows below.") % {"a": account.name})
    return redirect("orders:reconciliation", request.shop.slug)


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def issue_act(request, pk: int):
    issue = get_object_or_404(ReconciliationIssue, pk=pk)
    form = IssueActForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an action."))
    else:
        try:
            issue = recon.issue_act_request(
                issue=issue, action=form.cleaned_data["action"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if issue.pending_action:
                messages.success(request, _("On its way: the issue closes once it is done, or says why not."))
            else:
                messages.success(request, _("Marked resolved."))
    back = reverse("orders:reconciliation", args=[request.shop.slug])
    kind = request.POST.get("kind", "")
    return redirect(f"{back}?kind={kind}" if kind in IssueKind.values else back)


@shop_view()
def customer_list(request):
    q = request.GET.get("q", "").strip()[:200]
    customers = Customer.objects.all()
    if q:
        customers = customers.filter(email__iexact=q) | customers.filter(name__icontains=q)
    page = Paginator(customers.order_by("-updated_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/customer_list.html",
        {"page": page, "q": q, "can_write": request.membership.has_perm(Perm.ORDERS_WRITE)},
    )


# Export and erasure act on personal data: both need the write permission, both are audited.
@shop_view(Perm.ORDERS_WRITE)
def customer_export(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    data = customers.customer_export(customer=customer)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def customer_erase(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    customers.customer_erase(customer=customer)
    messages.success(request, _("The customer's personal data is erased; order amounts are kept."))
    return redirect("orders:customer-list", request.shop.slug)


@shop_view()
def order_settings(request):
    current = order_settings_service.settings_get()
    locations = Location.objects.filter(is_active=True)
    markets = list(Market.objects.filter(is_active=True))
    prefs = dict(MarketLocation.objects.values_list("market_id", "location_id"))
    form = OrderSettingsForm(
        request.POST or None,
        locations=locations,
        initial={"default_location": current.default_location_id, "retention_days": current.retention_days},
    )
    if request.method == "POST":
        if not request.membership.has_perm(Perm.ORDERS_WRITE):
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if form.is_valid():
            try:
                order_settings_service.settings_update(
                    default_location=form.cleaned_data["default_location"],
                    retention_days=form.cleaned_data["retention_days"],
                )
                by_pk = {loc.pk: loc for loc in locations}
                for market in markets:
                    raw = request.POST.get(f"market_{market.pk}", "")
                    wanted = int(raw) if raw.isdigit() and int(raw) in by_pk else None
                    if prefs.get(market.pk) != wanted:
                        order_settings_service.market_location_set(market=market, location=by_pk.get(wanted))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Order settings saved."))
                return redirect("orders:settings", request.shop.slug)
    for market in markets:
        market.preferred_location = prefs.get(market.pk)
    return render(
        request,
        "orders/settings.html",
        {
            "form": form,
            "markets": markets,
            "locations": locations,
            "can_write": request.membership.has_perm(Perm.ORDERS_WRITE),
        },
        status=400 if form.errors else 200,
    )


# --- Discount codes -----------------------------------------------------------------------------

DISCOUNT_STATES = {
    "active": ("ok", _lazy("Active")),
    "scheduled": ("warn", _lazy("Scheduled")),
    "expired": ("", _lazy("Expired")),
    "used_up": ("", _lazy("Used up")),
    "inactive": ("bad", _lazy("Inactive")),
}


@shop_view()
def discount_code_list(request):
    q = request.GET.get("q", "").strip()[:DISCOUNT_CODE_MAX]
    codes = DiscountCode.objects.all()
    if q:
        codes = codes.filter(code__icontains=q)
    page = Paginator(codes.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    at = timezone.now()
    for discount in page:
        discount.badge, discount.state_label = DISCOUNT_STATES[discount.state(at)]
    return render(
        request,
        "orders/discount_code_list.html",
        {"page": page, "q": q, "can_write": request.membership.has_perm(Perm.ORDERS_WRITE)},
    )


def _discount_initial(discount: DiscountCode) -> dict:
    return {name: getattr(discount, name) for name in discount_services.FIELDS}


@shop_view(Perm.ORDERS_WRITE)
def discount_code_edit(request, pk: int | None = None):
    discount = get_object_or_404(DiscountCode, pk=pk) if pk else None
    initial = _discount_initial(discount) if discount else {"kind": DiscountCode.Kind.PERCENTAGE, "is_active": True}
    form = DiscountCodeForm(request.POST or None, initial=initial, currency=request.shop.default_currency)
    if request.method == "POST" and form.is_valid():
        try:
            if discount:
                discount = discount_services.discount_code_update(discount=discount, **form.cleaned_data)
            else:
                discount = discount_services.discount_code_create(shop=request.shop, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Discount code “%(code)s” saved.") % {"code": discount.code})
            return redirect("orders:discount-code-list", request.shop.slug)
    return render(
        request,
        "orders/discount_code_form.html",
        {"form": form, "discount": discount},
        status=400 if form.errors else 200,
    )


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def discount_code_deactivate(request, pk: int):
    discount = get_object_or_404(DiscountCode, pk=pk)
    discount_services.discount_code_deactivate(discount=discount)
    done = _("Discount code “%(code)s” deactivated: it no longer applies to new baskets.")
    messages.success(request, done % {"code": discount.code})
    return redirect("orders:discount-code-list", request.shop.slug)
