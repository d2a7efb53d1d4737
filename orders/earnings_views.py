"""What each channel earns: the panel on the shop home, the report page with its date range, and
the ad spend the merchant enters (a form per month and source, and a CSV import).

Thin: orders.earnings reads, orders.services.ad_spend writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders.attribution import KNOWN_SOURCES
from orders.dashboard import DEFAULT_PERIOD, PERIODS, window_for
from orders.earnings import channel_earnings, default_range, source_label
from orders.forms import AdSpendForm, AdSpendImportForm, EarningsRangeForm
from orders.models import AdSpend
from orders.services import ad_spend as spend_services
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.roles import Perm

PANEL_ROWS = 6


def earnings_section(request):
    """The shop home's panel: what each source earned over the dashboard's period."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has_perm(Perm.VIEW):
        return None
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    window = window_for(period, request.shop.timezone)
    start, end = window.start.astimezone(window.tz).date(), window.now.astimezone(window.tz).date()
    report = channel_earnings(
        start=start, end=end, tz_name=request.shop.timezone, currency=request.shop.default_currency
    )
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    return (
        "orders/_earnings.html",
        {
            "report": report,
            "rows": report.rows[:PANEL_ROWS],
            "more": max(0, len(report.rows) - PANEL_ROWS),
            "period": PERIODS[period],
            "report_url": f"{reverse('orders:earnings', args=[request.shop.slug])}?{query}",
        },
    )


def _range(request) -> tuple[EarningsRangeForm, dict]:
    start, end = default_range(request.shop.timezone)
    data = {"start": start.isoformat(), "end": end.isoformat(), "by": "source"}
    data.update({k: request.GET[k][:40] for k in ("start", "end", "by") if request.GET.get(k)})
    form = EarningsRangeForm(data)
    return form, data


@shop_view()
def earnings(request):
    """The report over a chosen range, and the ad spend behind its ROAS."""
    return _earnings_page(request)


def _report(request, form: EarningsRangeForm):
    if not form.is_valid():
        return None
    try:
        return channel_earnings(
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            by=form.cleaned_data["by"] or "source",
            tz_name=request.shop.timezone,
            currency=request.shop.default_currency,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None


def _earnings_page(request, *, spend_form=None, import_form=None, import_errors=(), status=200):
    form, _data = _range(request)
    report = _report(request, form)
    can_write = request.membership.has_perm(Perm.ORDERS_WRITE)
    spend = list(AdSpend.objects.order_by("-month", "source")[:120])
    for row in spend:
        row.label = source_label(row.source)
    return render(
        request,
        "orders/earnings.html",
        {
            "form": form,
            "report": report,
            "spend": spend,
            "spend_form": spend_form or AdSpendForm(),
            "import_form": import_form or AdSpendImportForm(),
            "import_errors": import_errors,
            "can_write": can_write,
            "known_sources": [(code, source_label(code)) for code in KNOWN_SOURCES],
            "currency": request.shop.default_currency,
        },
        status=status,
    )


def _back(request):
    return redirect(reverse("orders:earnings", args=[request.shop.slug]) + "#ad-spend")


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def ad_spend_add(request):
    form = AdSpendForm(request.POST)
    if form.is_valid():
        try:
            spend_services.ad_spend_create(shop=request.shop, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Ad spend saved."))
            return _back(request)
    return _earnings_page(request, spend_form=form, status=400)


@shop_view()
def ad_spend_edit(request, pk):
    spend = get_object_or_404(AdSpend, pk=pk)
    can_write = request.membership.has_perm(Perm.ORDERS_WRITE)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if "delete" in request.POST:
            spend_services.ad_spend_delete(spend=spend)
            messages.success(request, _("Ad spend removed."))
            return _back(request)
        form = AdSpendForm(request.POST)
        if form.is_valid():
            try:
                spend_services.ad_spend_update(spend=spend, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Ad spend saved."))
                return _back(request)
    else:
        form = AdSpendForm(
            initial={"source": spend.source, "month": spend.month, "amount": spend.amount, "note": spend.note}
        )
    return render(
        request,
        "orders/ad_spend_edit.html",
        {
            "spend": spend,
            "form": form,
            "can_write": can_write,
            "known_sources": [(code, source_label(code)) for code in KNOWN_SOURCES],
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def ad_spend_import(request):
    form = AdSpendImportForm(request.POST, request.FILES)
    errors = []
    if form.is_valid():
        try:
            result = spend_services.ad_spend_import(
                shop=request.shop, data=form.cleaned_data["file"].read().decode("utf-8-sig")
            )
        except UnicodeDecodeError:
            errors = [_("The file is not UTF-8 text; export it from your spreadsheet as CSV UTF-8.")]
        except ValidationError as exc:
            errors = exc.message_dict.get("file", exc.messages) if hasattr(exc, "error_dict") else exc.messages
        else:
            messages.success(
                request,
                _("Imported: %(created)s months entered, %(updated)s changed.")
                % {"created": result.created, "updated": result.updated},
            )
            return _back(request)
    return _earnings_page(request, import_form=form, import_errors=errors, status=400)
