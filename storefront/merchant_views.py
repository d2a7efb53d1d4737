"""The merchant UI of the storefront: its settings (published, payment methods and their
instructions, click-to-chat, contact), with the shop's public addresses to share, and orders
taken in chat (placed at once, or a draft the buyer confirms at its link)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels.links import shop_home_url
from localization.models import Market
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.roles import Perm
from storefront import selectors, services
from storefront.forms import StorefrontSettingsForm, chat_order_form
from storefront.links import chat_draft_url
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
            "stranded_accounts": [] if current.published else selectors.accounts_linking_here(),
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

    url = chat_draft_url(request, request.shop, draft)
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
    again = _from_draft(request) if data is None else None
    if again is not None:
        source = again
    market = next((m for m in markets if str(m.pk) == (source.get("market") or "")), markets[0])
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
    elif again is not None:
        initial = {**again, "market": str(market.pk)}
    else:
        initial = {"market": str(market.pk), "items": request.GET.get("items", "")[:4000]}
    form = chat_order_form(
        data,
        shop=request.shop,
        markets=markets,
        methods=services.settings_get().payment_methods(),
        params=source,
        extra_quantities=extra,
        initial=initial,
    )
    status = 200
    if data is not None and action in ("place", "draft"):
        if form.is_valid():
            cd = form.cleaned_data
            buyer = form.buyer()
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


def _from_draft(request) -> dict | None:
    """`?from_draft=<id>`: a draft's order as the form's initial values, to change it and send a
    new link (the old one is cancelled first: a draft itself never changes under the buyer)."""
    raw = (request.GET.get("from_draft") or "").strip()
    draft = ChatDraft.objects.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
    if draft is None:
        return None
    return {
        **{key: value for key, value in draft.address.items() if key not in ("name", "phone")},
        "items": draft.products.replace(",", "\n"),
        "market": str(draft.market_id),
        "source": draft.source,
        "name": draft.name,
        "phone": draft.phone,
        "email": draft.email,
        "payment_method": draft.payment_method,
        "note": draft.note,
    }


@shop_view(Perm.ORDERS_WRITE)
def chat_drafts(request):
    """The links sent to buyers that still wait for them, each with Cancel and Change."""
    drafts = list(
        ChatDraft.objects.filter(status=ChatDraft.Status.OPEN, expires_at__gt=timezone.now())
        .select_related("market")
        .order_by("-created_at", "-id")[:200]
    )
    return render(request, "storefront/chat_drafts.html", {"drafts": drafts})


@require_POST
@shop_view(Perm.ORDERS_WRITE)
def chat_draft_cancel(request, pk: int):
    """Cancel a draft; with `then=change`, open the new-order form filled in with it."""
    draft = get_object_or_404(ChatDraft, pk=pk)
    try:
        services.chat_draft_cancel(draft=draft)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("storefront_app:chat-draft", request.shop.slug, draft.pk)
    if request.POST.get("then") == "change":
        messages.success(request, _("The old link is cancelled. Change the order and make a new link."))
        url = reverse("storefront_app:chat-order", args=[request.shop.slug])
        return redirect(f"{url}?from_draft={draft.pk}")
    messages.success(request, _("Link cancelled: the buyer can no longer confirm it."))
    return redirect("storefront_app:chat-drafts", request.shop.slug)


@shop_view(Perm.ORDERS_WRITE)
def chat_draft(request, pk: int):
    draft = get_object_or_404(ChatDraft.objects.select_related("market", "receipt__order"), pk=pk)
    return render(
        request,
        "storefront/chat_draft_merchant.html",
        {"draft": draft, "links": _draft_links(request, draft)},
    )
