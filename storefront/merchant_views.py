"""The merchant UI of the storefront: its settings (published, payment methods and their
instructions, click-to-chat, contact), with the shop's public addresses to share, and orders
taken in chat (placed at once, or a draft the buyer confirms at its link)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from channels.links import shop_home_url
from localization.models import Market
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.roles import Perm
from storefront import services
from storefront.forms import ChatOrderForm, StorefrontSettingsForm
from storefront.models import AUDITED_FIELDS, ChatDraft


@shop_view()
def storefront_settings(request):
    current = services.settings_get()
    can_write = request.membership.has_perm(Perm.SHOP_SETTINGS)
    form = StorefrontSettingsForm(request.POST or None, instance=current)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if form.is_valid():
            try:
                services.storefront_settings_update(**{name: form.cleaned_data[name] for name in AUDITED_FIELDS})
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Storefront settings saved."))
                return redirect("storefront_app:settings", request.shop.slug)
    if not can_write:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "storefront/settings.html",
        {
            "form": form,
            "can_write": can_write,
            "home_url": shop_home_url(request.shop),
            "checkout_url": shop_home_url(request.shop) + "checkout/",
        },
    )


# Orders taken in chat ------------------------------------------------------------------------

SEARCH_LIMIT = 20


def _variant_matches(query: str) -> list:
    from django.db.models import Q

    from catalog.models import ProductVariant

    query = query.strip()[:100]
    if not query:
        return []
    return list(
        ProductVariant.objects.select_related("product")
        .filter(Q(sku__icontains=query) | Q(product__title__icontains=query))
        .exclude(product__status="archived")
        .order_by("product__title", "position", "id")[:SEARCH_LIMIT]
    )


def _draft_links(request, draft: ChatDraft) -> dict:
    from urllib.parse import quote

    url = request.build_absolute_uri(reverse("storefront:chat-draft", args=[request.shop.slug, draft.token]))
    text = _("Your order at %(shop)s: please check it and confirm here: %(url)s") % {
        "shop": request.shop.name,
        "url": url,
    }
    # wa.me takes a number in international form only (country code, no leading 0): a number
    # typed the local way (01712…) opens WhatsApp's own chat picker instead of a wrong chat.
    phone = draft.phone.strip()
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.startswith("00"):
        digits = digits[2:]
    international = (phone.startswith("+") or phone.startswith("00")) and 8 <= len(digits) <= 15
    number = digits if international else ""
    return {"url": url, "whatsapp": f"https://wa.me/{number}?text={quote(text)}", "text": text}


@shop_view(Perm.ORDERS_WRITE)
def chat_order(request):
    """A new order from a chat: search variants, fill in the buyer, then place the order at once
    or make a draft the buyer confirms at its link."""
    markets = list(Market.objects.filter(is_active=True).order_by("-is_home", "name", "id"))
    if not markets:
        messages.error(request, _("Add a market first: an order is priced in one."))
        return redirect("localization:market-list", request.shop.slug)
    data = request.POST if request.method == "POST" else None
    source = data or request.GET
    market = next((m for m in markets if str(m.pk) == (source.get("market") or "")), markets[0])
    countries = list(market.countries or [request.shop.country])
    chosen = (source.get("country") or "").strip().upper()
    country = chosen if chosen in countries else countries[0]
    methods = services.settings_get().payment_methods()
    query = (source.get("q") or "").strip()[:100]
    matches = _variant_matches(query)
    extra = {key[4:]: value for key, value in (data or {}).items() if key.startswith("qty:")}
    action = (data or {}).get("action", "")
    if data is not None and action not in ("place", "draft"):
        # The search button: the page again with what was typed (unchecked) and the matches.
        initial = {key: data.get(key) for key in data if not key.startswith("qty:")}
        added = [f"{sku}:{qty.strip()}" for sku, qty in extra.items() if qty.strip()]
        initial["items"] = "\n".join([*filter(None, [(initial.get("items") or "").strip()]), *added])[:4000]
        extra = {}
        initial["market"], data = str(market.pk), None
    else:
        initial = {"market": str(market.pk), "items": request.GET.get("items", "")[:4000]}
    form = ChatOrderForm(
        data,
        markets=markets,
        extra_quantities=extra,
        countries=countries,
        methods=methods,
        country=country,
        initial=initial,
    )
    status = 200
    if data is not None and action in ("place", "draft"):
        if form.is_valid():
            cd = form.cleaned_data
            buyer = {
                "name": cd["name"],
                "phone": cd["phone"],
                "email": cd["email"],
                "address": form.address(),
                "payment_method": cd["payment_method"],
                "note": cd["note"],
            }
            try:
                if action == "place":
                    receipt = services.chat_order_place(
                        shop=request.shop, market=cd["market"], items=cd["items"], source=cd["source"], **buyer
                    )
                else:
                    draft = services.chat_draft_create(
                        shop=request.shop,
                        market=cd["market"],
                        items=cd["items"],
                        source=cd["source"],
                        created_by=request.user,
                        **buyer,
                    )
            except ValidationError as exc:
                add_service_errors(form, exc, field_for=lambda key: key if key in form.fields else "items")
                status = 400
            else:
                if action == "place":
                    messages.success(request, _("Order %(number)s placed.") % {"number": receipt.order.external_id})
                    return redirect("orders:order-detail", request.shop.slug, receipt.order_id)
                messages.success(request, _("Draft made: send its link to the buyer."))
                return redirect("storefront_app:chat-draft", request.shop.slug, draft.pk)
        else:
            status = 400
    drafts = list(ChatDraft.objects.select_related("receipt__order").order_by("-created_at", "-id")[:10])
    return render(
        request,
        "storefront/chat_order.html",
        {
            "form": form,
            "query": query,
            "matches": matches,
            "quantities": extra,
            "searched": bool(query),
            "drafts": drafts,
            "market": market,
        },
        status=status,
    )


@shop_view(Perm.ORDERS_WRITE)
def chat_draft(request, pk: int):
    draft = get_object_or_404(ChatDraft.objects.select_related("market", "receipt__order"), pk=pk)
    return render(
        request,
        "storefront/chat_draft_merchant.html",
        {"draft": draft, "links": _draft_links(request, draft)},
    )
