"""Merchant UI: markets and their shipping rates, exchange rates, landed-cost calculator. Thin:
services do the writing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError as DrfValidationError

from localization import landed_cost, services
from localization.api import QuoteRequestSerializer
from localization.forms import ManualRateForm, MarketForm, QuoteForm, QuoteItemFormSet, ShippingRateForm
from localization.models import DdpPricing, DutyBasis, DutyMode, ExchangeRate, Market, ShippingKind, ShippingRate
from localization.money import quantize
from localization.pricing import rate_source_words, rule_words
from localization.rates import RateNotFound, rate_for
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.inputs import shop_currency_first
from shopadmin.roles import Perm
from shopadmin.templatetags.formats import format_money, number


def _market_rates(shop, markets):
    """Rate per market, with a stale warning when it is older than the configured age."""
    rows = []
    for market in markets:
        mode = "manual" if market.rate_mode == "manual" else "automatic"
        try:
            used = rate_for(shop.default_currency, market.currency, shop_id=shop.pk, mode=mode)
        except RateNotFound:
            used = None
        rows.append(
            {
                "market": market,
                "rate": used,
                "source": rate_source_words(used.source) if used else "",
                "stale": bool(used and used.is_stale()),
            }
        )
    return rows


@shop_view()
def market_list(request):
    markets = list(Market.objects.all())
    rows = _market_rates(request.shop, markets)
    return render(
        request,
        "localization/market_list.html",
        {
            "rows": rows,
            "any_stale": any(r["stale"] for r in rows),
            "missing_rate": [r["market"] for r in rows if r["rate"] is None],
            "can_write": request.membership.has_perm(Perm.LOCALIZATION_WRITE),
        },
    )


def _initial(market: Market) -> dict:
    return {
        "name": market.name,
        "countries": market.countries,
        "currency": market.currency,
        "languages": market.languages,
        "tax_inclusive": market.tax_inclusive,
        "duty_mode": market.duty_mode,
        "ddp_pricing": market.ddp_pricing,
        "rate_mode": market.rate_mode,
        "adjustment_percent": market.adjustment_percent,
        "rounding": market.rounding_preset or "none",
        "is_active": market.is_active,
    }


@shop_view(Perm.LOCALIZATION_WRITE)
def market_edit(request, pk=None):
    market = get_object_or_404(Market.objects.all(), pk=pk) if pk else None
    initial = _initial(market) if market else {"rounding": "none", "currency": request.shop.default_currency}
    form = MarketForm(request.POST or None, initial=initial)
    shop_currency_first(form, request.shop.default_currency)
    if request.method == "POST" and form.is_valid():
        try:
            if market:
                services.market_update(market=market, **form.cleaned_data)
            else:
                market = services.market_create(shop=request.shop, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "rounding_increment" in exc.error_dict:
                exc.error_dict["rounding"] = exc.error_dict.pop("rounding_increment")
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Market “%(name)s” saved.") % {"name": market.name})
            return redirect("localization:market-list", shop_slug=request.shop.slug)
    return render(
        request,
        "localization/market_form.html",
        {"form": form, "market": market, "shipping_rates": _shipping_rates_of(market) if market else []},
    )


@require_POST
@shop_view(Perm.LOCALIZATION_WRITE)
def market_delete(request, pk):
    market = get_object_or_404(Market.objects.all(), pk=pk)
    try:
        services.market_delete(market=market)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Market deleted."))
    return redirect("localization:market-list", shop_slug=request.shop.slug)


@shop_view()
def exchange_rates(request):
    form = ManualRateForm(request.POST or None, initial={"base": request.shop.default_currency})
    shop_currency_first(form, request.shop.default_currency)
    if request.method == "POST":
        if not request.membership.has_perm(Perm.LOCALIZATION_WRITE):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.exchange_rate_set_manual(shop=request.shop, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Manual rate saved; it applies from now."))
                return redirect("localization:exchange-rates", shop_slug=request.shop.slug)
    manual = ExchangeRate.objects.filter(source="manual").order_by("-effective_at")[:50]
    ecb = ExchangeRate.objects.filter(source="ecb").order_by("-effective_at", "quote")[:40]
    return render(
        request,
        "localization/exchange_rates.html",
        {"form": form, "manual": manual, "ecb": ecb, "can_write": request.membership.has_perm(Perm.LOCALIZATION_WRITE)},
    )


def _shipping_rate_groups() -> list[tuple[str, list[tuple[int, str]]]]:
    """The shop's active shipping rates for the calculator's select, grouped by market."""
    groups: dict[int, tuple[str, list]] = {}
    rates = ShippingRate.objects.filter(is_active=True).select_related("market")
    for rate in rates.order_by("market__name", "market_id", "position", "amount", "id"):
        label = f"{rate.name} — {shipping_rate_terms(rate)}"
        groups.setdefault(rate.market_id, (rate.market.name, []))[1].append((rate.pk, label))
    return list(groups.values())


@shop_view()
def landed_cost_calculator(request):
    form = QuoteForm(request.POST or None, initial={"currency": request.shop.default_currency})
    shop_currency_first(form, request.shop.default_currency)
    form.offer_shipping_rates(_shipping_rate_groups())
    items = QuoteItemFormSet(request.POST or None, prefix="items")
    result, problems, rates = None, [], []
    if request.method == "POST" and form.is_valid() and items.is_valid():
        payload = {k: str(v) if v is not None else v for k, v in form.cleaned_data.items() if v not in (None, "")}
        if "shipping_rate" in payload:
            payload.pop("shipping", None)  # the rate prices the shipping
        payload["items"] = [
            {k: str(v) for k, v in item.items() if v not in (None, "")}
            for item in items.cleaned_data
            if item and (item.get("sku") or item.get("unit_price") is not None)
        ]
        serializer = QuoteRequestSerializer(data=payload)
        try:
            serializer.is_valid(raise_exception=True)
            result = landed_cost.quote_landed_cost(serializer.quote_request(), shop_id=request.shop.pk)
            rates = [(rate, rate_source_words(rate.source)) for rate in result.exchange_rates]
        except DrfValidationError as exc:
            from shopadmin.api.errors import flatten_errors

            problems = flatten_errors(exc.detail)
        except RateNotFound as exc:
            problems = [{"field": "quote_currency", "message": str(exc)}]
        except ValidationError as exc:
            # The shipping rate is not offered for these items: said on its field.
            add_service_errors(form, exc)
    return render(
        request,
        "localization/calculator.html",
        {
            "form": form,
            "items": items,
            "result": result,
            "problems": problems,
            "rates": rates,
            "basis_label": DutyBasis(result.basis).label if result and result.basis in DutyBasis.values else "",
        },
    )


@shop_view()
def translations(request):
    from localization.translations import ImportResult, translation_status, translations_import_csv

    errors, result = [], None
    if request.method == "POST":
        if not request.membership.has_perm(Perm.LOCALIZATION_WRITE):
            raise PermissionDenied
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("Choose a CSV file to import.")]
        else:
            try:
                result: ImportResult = translations_import_csv(
                    data=upload.read().decode("utf-8-sig"), shop=request.shop
                )
            except UnicodeDecodeError:
                errors = [_("The file is not UTF-8 text; export it from your spreadsheet as CSV UTF-8.")]
            except ValidationError as exc:
                errors = exc.message_dict.get("file", exc.messages)
            else:
                messages.success(
                    request,
                    _("Imported: %(written)s translations written, %(deleted)s removed.")
                    % {"written": result.written, "deleted": result.deleted},
                )
                return redirect("localization:translations", shop_slug=request.shop.slug)
    return render(
        request,
        "localization/translations.html",
        {
            "statuses": translation_status(request.shop),
            "errors": errors,
            "can_write": request.membership.has_perm(Perm.LOCALIZATION_WRITE),
        },
    )


@shop_view()
def translations_export(request):
    from django.http import HttpResponse

    from localization.translations import translations_export_csv

    language = request.GET.get("language") or None
    body = translations_export_csv(language=language, shop=request.shop)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"translations-{request.shop.slug}{'-' + language if language else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@shop_view()
def market_prices(request, pk):
    from django.core.paginator import Paginator

    from catalog.models import ProductVariant
    from localization.forms import PriceOverrideForm
    from localization.models import MarketPrice, MarketVariantPrice

    market = get_object_or_404(Market.objects.all(), pk=pk)
    can_write = request.membership.has_perm(Perm.LOCALIZATION_WRITE)
    form = PriceOverrideForm(request.POST or None)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if "recompute" in request.POST:
            from django.urls import reverse

            job = services.market_prices_recompute_start(market=market, user=request.user)
            messages.success(request, _("Recomputing this market's prices in the background."))
            url = reverse("localization:market-prices", kwargs={"shop_slug": request.shop.slug, "pk": market.pk})
            return redirect(f"{url}?job={job.pk}")
        if form.is_valid():
            data = dict(form.cleaned_data)
            variant = ProductVariant.objects.filter(sku=data.pop("sku")).first()
            if variant is None:
                form.add_error("sku", _("No variant with this SKU in your catalog."))
            else:
                try:
                    if all(v is None for v in data.values()):
                        services.market_variant_price_clear(market=market, variant=variant)
                    else:
                        services.market_variant_price_set(market=market, variant=variant, **data)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("Price saved; the market price is recomputed in the background."))
                    return redirect("localization:market-prices", shop_slug=request.shop.slug, pk=market.pk)
    prices = MarketPrice.objects.filter(market=market).select_related("variant__product").order_by("variant__sku")
    query = request.GET.get("q", "").strip()
    if query:
        prices = prices.filter(Q(variant__sku__icontains=query) | Q(variant__product__title__icontains=query))
    page = Paginator(prices, 50).get_page(request.GET.get("page"))
    # The rule and the rate's source in words; a page holds a handful of distinct rules.
    rules, sources = {}, {}
    for price in page.object_list:
        price.rule_words = rules.setdefault(price.rule, rule_words(price.rule))
        price.rate_source_words = sources.setdefault(price.rate_source, rate_source_words(price.rate_source))
    overrides = (
        MarketVariantPrice.objects.filter(market=market)
        .select_related("variant__product")
        .order_by("variant__sku")[:100]
    )
    from shopadmin.models import Job

    # The recomputation started from this page (its progress bar), named by ?job= after the redirect.
    job_id = request.GET.get("job", "")
    job = Job.objects.filter(pk=int(job_id), kind="market_prices").first() if job_id.isdigit() else None
    return render(
        request,
        "localization/market_prices.html",
        {
            "market": market,
            "page": page,
            "overrides": overrides,
            "form": form,
            "can_write": can_write,
            "q": query,
            "job": job,
            # Duty and import tax are in the prices only in a DDP market that prices them in;
            # elsewhere the column would be a row of zeros.
            "landed_cost_priced_in": market.duty_mode == DutyMode.DDP and market.ddp_pricing == DdpPricing.PRICE_IN,
        },
    )


@shop_view()
def tax_rates(request):
    from localization.forms import ShopTaxRateForm
    from localization.models import ShopTaxRate, TaxRate

    can_write = request.membership.has_perm(Perm.LOCALIZATION_WRITE)
    form = ShopTaxRateForm(request.POST or None)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.shop_tax_rate_set(shop=request.shop, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Tax override saved."))
                return redirect("localization:tax-rates", shop_slug=request.shop.slug)
    countries = sorted({c for m in Market.objects.all() for c in m.countries})
    today = timezone.localdate()
    reference = TaxRate.objects.filter(country__in=countries).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=today), effective_from__lte=today
    )
    return render(
        request,
        "localization/tax_rates.html",
        {"reference": reference, "overrides": ShopTaxRate.objects.all(), "form": form, "can_write": can_write},
    )


# --- Shipping rates ----------------------------------------------------------------------------


def shipping_rate_terms(rate: ShippingRate) -> str:
    """What a rate charges, for the reader: “$5.00 + $2.00 per kg · 1–2,000 g”."""
    currency = rate.currency
    if rate.kind == ShippingKind.WEIGHT:
        terms = _("%(base)s + %(per_kg)s per kg") % {
            "base": format_money(rate.amount, currency),
            "per_kg": format_money(rate.per_kg_amount or 0, currency),
        }
    elif rate.kind == ShippingKind.FREE_OVER:
        terms = _("%(amount)s, free from %(threshold)s") % {
            "amount": format_money(rate.amount, currency),
            "threshold": format_money(rate.free_over or 0, currency),
        }
    else:
        terms = format_money(rate.amount, currency)
    low, high = rate.min_weight_grams, rate.max_weight_grams
    if low is not None and high is not None:
        terms += " · " + _("%(min)s–%(max)s g") % {"min": number(low), "max": number(high)}
    elif low is not None:
        terms += " · " + _("from %(min)s g") % {"min": number(low)}
    elif high is not None:
        terms += " · " + _("up to %(max)s g") % {"max": number(high)}
    return terms


def _shipping_rates_of(market: Market) -> list[ShippingRate]:
    rates = ShippingRate.objects.filter(market=market).select_related("market")
    rates = list(rates.order_by("position", "amount", "id"))
    for rate in rates:
        rate.terms = shipping_rate_terms(rate)
    return rates


def _shipping_rate_initial(rate: ShippingRate) -> dict:
    return {
        "name": rate.name,
        "kind": rate.kind,
        "amount": rate.amount,
        "per_kg_amount": rate.per_kg_amount,
        "free_over": rate.free_over,
        "min_weight_grams": rate.min_weight_grams,
        "max_weight_grams": rate.max_weight_grams,
        "position": rate.position,
        "is_active": rate.is_active,
    }


@shop_view()
def shipping_rates(request, pk):
    """The market's shipping rates: every member reads them; editors and above add them here."""
    market = get_object_or_404(Market.objects.all(), pk=pk)
    can_write = request.membership.has_perm(Perm.LOCALIZATION_WRITE)
    rates = _shipping_rates_of(market)
    next_position = max((rate.position for rate in rates), default=-1) + 1
    form = ShippingRateForm(
        request.POST or None,
        currency=market.currency,
        initial={"kind": ShippingKind.FLAT, "amount": 0, "position": next_position, "is_active": True},
    )
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                rate = services.shipping_rate_create(market=market, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Shipping rate “%(name)s” added.") % {"name": rate.name})
                return redirect("localization:shipping-rates", shop_slug=request.shop.slug, pk=market.pk)
    return render(
        request,
        "localization/shipping_rates.html",
        {"market": market, "rates": rates, "form": form, "can_write": can_write},
    )


@shop_view(Perm.LOCALIZATION_WRITE)
def shipping_rate_edit(request, pk, rate_pk):
    rate = get_object_or_404(ShippingRate.objects.select_related("market"), pk=rate_pk, market_id=pk)
    market = rate.market
    initial = _shipping_rate_initial(rate)
    for name in ("amount", "per_kg_amount", "free_over"):
        # Stored with 4 places, shown in the currency's minor units as the merchant typed them: 5.00, not 5.0000.
        if initial[name] is not None:
            initial[name] = quantize(initial[name], rate.currency)
    form = ShippingRateForm(request.POST or None, currency=market.currency, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.shipping_rate_update(rate=rate, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Shipping rate “%(name)s” saved.") % {"name": rate.name})
            return redirect("localization:shipping-rates", shop_slug=request.shop.slug, pk=market.pk)
    return render(request, "localization/shipping_rate_form.html", {"market": market, "rate": rate, "form": form})


@require_POST
@shop_view(Perm.LOCALIZATION_WRITE)
def shipping_rate_delete(request, pk, rate_pk):
    rate = get_object_or_404(ShippingRate.objects.all(), pk=rate_pk, market_id=pk)
    services.shipping_rate_delete(rate=rate)
    messages.success(request, _("Shipping rate “%(name)s” removed.") % {"name": rate.name})
    return redirect("localization:shipping-rates", shop_slug=request.shop.slug, pk=pk)
