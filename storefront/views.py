"""The public storefront (/s/<shop>/…): home, product page, cart and checkout (Meta's checkout
URL), confirmation. Server-rendered, no JavaScript needed; see docs/storefront.md."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Min
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from catalog.models import Product, ProductMedia, ProductVariant
from channels.links import hosted_product_url, shop_home_url
from localization.models import MarketPrice
from localization.money import quantize
from shopadmin.forms import add_service_errors
from shopadmin.templatetags.formats import format_money
from storefront import contracts, services
from storefront.addresses import tax_region
from storefront.cart import (
    MAX_QUANTITY,
    availability_words,
    available_units,
    cart_build,
    cart_text,
    chat_links,
    format_products,
    market_country,
    parse_products,
    products_set,
    products_with,
    products_without,
)
from storefront.forms import CheckoutForm
from storefront.models import REFERENCE_METHODS, ChatDraft, CheckoutReceipt, PaymentMethod
from storefront.public import Storefront, render_page, storefront_page

PAGE_SIZE = 24


def _count(storefront: Storefront, kind: str) -> None:
    contracts.traffic_count(landing=contracts.landing_from_params(storefront.landing), kind=kind)


def _texts(product_ids, storefront: Storefront) -> dict:
    from localization.selectors import translated_texts

    return translated_texts(
        product_ids=list(product_ids),
        language=storefront.language,
        default_language=storefront.shop.default_language,
    )


def _thumbnails(product_ids) -> dict[int, ProductMedia]:
    """{product id: its first picture}: the 240-px thumbnail of an upload, else the picture."""
    from catalog.selectors import first_media_by_product

    return first_media_by_product(list(product_ids))


@require_safe
@storefront_page
def home(request, storefront: Storefront):
    products = Product.objects.filter(status=Product.Status.ACTIVE).order_by("title", "id")
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    ids = [p.pk for p in items]
    prices = dict(
        MarketPrice.objects.filter(market=storefront.market, variant__product_id__in=ids)
        .values("variant__product_id")
        .annotate(low=Min("amount"))
        .values_list("variant__product_id", "low")
    )
    texts = _texts(ids, storefront)
    media = _thumbnails(ids)
    variant_ids: dict[int, list[int]] = {}
    for pk, product_id in ProductVariant.objects.filter(product_id__in=ids).values_list("pk", "product_id"):
        variant_ids.setdefault(product_id, []).append(pk)
    stock = available_units([v for vs in variant_ids.values() for v in vs])
    cards = []
    for product in items:
        units = sum(stock.get(v, 0) for v in variant_ids.get(product.pk, []))
        cards.append(
            {
                "product": product,
                "title": texts.get(product.pk, {}).get("title", (product.title, ""))[0],
                "price": prices.get(product.pk),
                "image": media.get(product.pk),
                "availability": availability_words(units),
                "url": reverse("storefront:product", args=[storefront.shop.slug, product.handle]) + storefront.query(),
            }
        )
    _count(storefront, "view")
    return render_page(
        request,
        storefront,
        "storefront/home.html",
        {"cards": cards, "page": page, "canonical": shop_home_url(storefront.shop)},
    )


@require_safe
@storefront_page
def product(request, storefront: Storefront, handle: str):
    item = Product.objects.filter(handle=handle[:255], status=Product.Status.ACTIVE).first()
    if item is None:
        return render_page(request, storefront, "storefront/404.html", {}, status=404)
    variants = list(ProductVariant.objects.filter(product=item).order_by("position", "id"))
    prices = {
        row.variant_id: row for row in MarketPrice.objects.filter(market=storefront.market, variant__product=item)
    }
    stock = available_units(v.pk for v in variants)
    wanted = (request.GET.get("variant") or "").strip()
    rows = []
    for variant in variants:
        price = prices.get(variant.pk)
        if price is None:
            continue  # not sold in this market
        amount, compare_at = price.effective()
        kind, words = availability_words(stock.get(variant.pk, 0))
        rows.append(
            {
                "variant": variant,
                "title": variant.display_title,
                "price": amount,
                "compare_at": compare_at,
                "kind": kind,
                "words": words,
                "selected": str(variant.pk) == wanted,
            }
        )
    if rows and not any(r["selected"] for r in rows):
        first = next((r for r in rows if r["kind"] != "sold_out"), rows[0])
        first["selected"] = True
    texts = _texts([item.pk], storefront).get(item.pk, {})
    title = texts.get("title", (item.title, ""))[0]
    description = texts.get("description", (item.description, ""))[0]
    pictures = list(ProductMedia.objects.filter(product=item).order_by("position", "id")[:6])
    cart = parse_products(request.GET.get("products"))
    canonical = hosted_product_url(storefront.shop, item.handle)
    currency = storefront.market.currency
    offers = [
        {
            "@type": "Offer",
            "sku": r["variant"].sku,
            "price": str(quantize(r["price"], currency)),
            "priceCurrency": currency,
            "availability": "https://schema.org/OutOfStock"
            if r["kind"] == "sold_out"
            else ("https://schema.org/LimitedAvailability" if r["kind"] == "low" else "https://schema.org/InStock"),
            "url": hosted_product_url(storefront.shop, item.handle, r["variant"].pk),
            "itemCondition": f"https://schema.org/{item.condition.capitalize()}Condition",
        }
        for r in rows
    ]
    image_urls = [request.build_absolute_uri(m.src) for m in pictures if m.src]
    json_ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "description": description[:5000],
        "url": canonical,
        "image": image_urls[:3],
        "sku": rows[0]["variant"].sku if len(rows) == 1 else None,
        "brand": {"@type": "Brand", "name": item.brand} if item.brand else None,
        "offers": offers,
    }
    json_ld = {k: v for k, v in json_ld.items() if v not in (None, "", [])}
    selected = next((r for r in rows if r["selected"]), None)
    _count(storefront, "view")
    return render_page(
        request,
        storefront,
        "storefront/product.html",
        {
            "product": item,
            "title": title,
            "description": description,
            "rows": rows,
            "selected": selected,
            "pictures": pictures,
            "image_url": image_urls[0] if image_urls else "",
            "canonical": canonical,
            "cart_products": format_products(cart.items),
            "cart_count": sum(i.quantity for i in cart.items),
            "max_quantity": MAX_QUANTITY,
            "currency": currency,
            # "</" cannot end the script element early: the JSON's slashes are escaped.
            "json_ld": json.dumps(json_ld, ensure_ascii=False).replace("</", "<\\/"),
        },
    )


def _quantity(raw: str | None, default: int = 1) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return default
    from shopadmin.numerals import ascii_digits

    raw = ascii_digits(raw)
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 <= value <= MAX_QUANTITY else None


def _decimal_or_none(value) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _int_or_none(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


@require_http_methods(["GET", "HEAD", "POST"])
@storefront_page
def checkout(request, storefront: Storefront):
    """Meta's checkout URL: `?products=<retailer id>:<qty>,…&coupon=…` shows exactly that cart.

    `add`/`set` (with `qty`) come from the product page's and the cart's GET forms: the cart
    in the URL is changed and the page redirects to the new cart URL."""
    parsed = parse_products(request.GET.get("products"))
    notices = list(storefront.notices) + parsed.problems
    for name in ("add", "set"):
        retailer_id = (request.GET.get(name) or "").strip()[:200]
        if request.method == "POST" or not retailer_id:
            continue
        quantity = _quantity(request.GET.get("qty"), 1)
        if quantity is None:
            notices.append(_("The quantity must be a whole number from 0 to %(max)d.") % {"max": MAX_QUANTITY})
            break
        if "," in retailer_id:
            notices.append(_("That item cannot be added."))
            break
        if name == "set":
            items = products_set(parsed.items, retailer_id, quantity)
        else:
            items = products_with(parsed.items, retailer_id, quantity) if quantity else parsed.items
        query = storefront.query(
            products=format_products(items) or None,
            coupon=request.GET.get("coupon", "")[:60] or None,
            shipping=request.GET.get("shipping") or None,
        )
        return HttpResponseRedirect(reverse("storefront:checkout", args=[storefront.shop.slug]) + query)
    shipping_rate_id = _int_or_none(request.POST.get("shipping_rate") or request.GET.get("shipping"))
    # The checkout form carries the coupon of the cart it was shown with; the URL's otherwise.
    coupon = (request.POST.get("coupon") or request.GET.get("coupon")) or ""
    coupon = coupon.strip()[:60]
    settings = storefront.settings
    methods = settings.payment_methods()
    market = storefront.market
    countries = list(market.countries or [storefront.shop.country])
    chosen_country = (request.POST.get("country") or request.GET.get("country") or "").strip().upper()
    country = chosen_country if chosen_country in countries else countries[0]
    # The state or province typed in prices the sales tax of a market shown without tax.
    delivery = {"delivery_country": country, "region": tax_region({**request.POST.dict(), "country": country})}
    cart = cart_build(
        shop=storefront.shop,
        market=storefront.market,
        items=parsed.items,
        coupon=coupon,
        shipping_rate_id=shipping_rate_id,
        language=storefront.language,
        **delivery,
    )
    form = CheckoutForm(
        request.POST if request.method == "POST" else None, countries=countries, methods=methods, country=country
    )
    status = 200
    if request.method == "POST":
        landing = contracts.landing_params(request.POST) or storefront.landing
        if form.is_valid():
            try:
                receipt = services.checkout_place(
                    shop=storefront.shop,
                    market=market,
                    items=parsed.items,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    email=form.cleaned_data["email"],
                    address=form.address(),
                    payment_method=form.cleaned_data["payment_method"],
                    payment_reference=form.cleaned_data["payment_reference"],
                    shipping_rate_id=shipping_rate_id,
                    coupon=coupon,
                    marketing_consent=form.cleaned_data["marketing_consent"],
                    note=form.cleaned_data["note"],
                    landing_params=landing,
                    language=storefront.language,
                    expected_total=_decimal_or_none(request.POST.get("quoted_total")),
                )
            except ValidationError as exc:
                add_service_errors(form, exc, field_for=lambda key: key if key in form.fields else "__all__")
                codes = {e.code for errors in getattr(exc, "error_dict", {}).values() for e in errors}
                status = 409 if "out_of_stock" in codes else 400
                # What the refusal said about the cart is shown on the cart too.
                cart = cart_build(
                    shop=storefront.shop,
                    market=market,
                    items=parsed.items,
                    coupon=coupon,
                    shipping_rate_id=shipping_rate_id,
                    language=storefront.language,
                    **delivery,
                )
            else:
                url = reverse("storefront:confirmation", args=[storefront.shop.slug, receipt.token])
                keep_lang = {"lang": storefront.keep["lang"]} if "lang" in storefront.keep else {}
                return HttpResponseRedirect(url + (f"?lang={keep_lang['lang']}" if keep_lang else ""), status=303)
        else:
            status = 400
    elif cart.lines:
        _count(storefront, "checkout")
    money = format_money
    cart_url = request.build_absolute_uri(
        reverse("storefront:checkout", args=[storefront.shop.slug])
        + storefront.query(products=format_products(parsed.items) or None, coupon=coupon or None)
    )
    chats = (
        chat_links(settings, cart_text(cart, shop_name=storefront.shop.name, link=cart_url, money=money))
        if cart.ok_lines
        else {}
    )
    base_query = {"products": format_products(parsed.items) or None, "coupon": coupon or None}
    lines = []
    for line in cart.lines:
        lines.append(
            {
                "line": line,
                "remove": storefront.query(
                    **{
                        **base_query,
                        "products": format_products(products_without(parsed.items, line.retailer_id)) or None,
                    }
                ),
                "availability": availability_words(line.available)[1] if line.ok else "",
                "url": reverse("storefront:product", args=[storefront.shop.slug, line.product.handle])
                + storefront.query(products=base_query["products"])
                if line.product
                else "",
            }
        )
    return render_page(
        request,
        storefront,
        "storefront/checkout.html",
        {
            "cart": cart,
            "lines": lines,
            "notices": notices,
            "form": form,
            "methods": [(m, PaymentMethod(m).label, settings.instructions_for(m)) for m in methods],
            "chats": chats,
            "needs_reference": any(m in REFERENCE_METHODS for m in methods),
            "products": format_products(parsed.items),
            "coupon": coupon,
            "shipping_rate_id": cart.shipping.rate_id if cart.shipping else "",
            "landing": storefront.landing,
            "market_country": market_country(market, storefront.shop),
            "action": request.get_full_path()[:4000],
            "canonical": request.build_absolute_uri(reverse("storefront:checkout", args=[storefront.shop.slug])),
        },
        status=status,
    )


@require_safe
@storefront_page
def confirmation(request, storefront: Storefront, token: str):
    receipt = (
        CheckoutReceipt.objects.select_related("order").filter(token=token[:64]).first() if len(token) >= 20 else None
    )
    if receipt is None:
        return render_page(request, storefront, "storefront/404.html", {}, status=404)
    order = receipt.order
    response = render_page(
        request,
        storefront,
        "storefront/confirmation.html",
        {
            "receipt": receipt,
            "order": order,
            "lines": list(order.lines.all().order_by("pk")),
            "method_label": PaymentMethod(receipt.payment_method).label
            if receipt.payment_method in PaymentMethod.values
            else receipt.payment_method,
        },
    )
    return _private(response)


def _private(response):
    # The address is the only key to the page: never cached by others, never sent to another site
    # as a referrer. "same-origin", not "no-referrer": with no referrer at all, browsers send the
    # page's own POST (the buyer's confirmation) with `Origin: null`, which CSRF rightly refuses.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _cancelled(request, storefront: Storefront, draft: ChatDraft):
    # 410 Gone: the link was real and will never work again (unlike an unknown token's 404).
    return _private(
        render_page(request, storefront, "storefront/chat_draft.html", {"draft": draft, "cancelled": True}, status=410)
    )


@require_http_methods(["GET", "HEAD", "POST"])
@storefront_page
def chat_draft(request, storefront: Storefront, token: str):
    """An order a merchant prepared in a chat: the buyer sees the cart at the market's prices
    and confirms it (once; afterwards the page shows the order)."""
    draft = (
        ChatDraft.objects.select_related("market", "receipt__order").filter(token=token[:64]).first()
        if len(token) >= 20
        else None
    )
    if draft is None or (draft.status != ChatDraft.Status.CONFIRMED and draft.is_expired):
        return _private(render_page(request, storefront, "storefront/404.html", {}, status=404))
    if draft.status == ChatDraft.Status.CANCELLED:
        return _cancelled(request, storefront, draft)
    receipt = draft.receipt if draft.status == ChatDraft.Status.CONFIRMED else None
    error = ""
    status = 200
    if request.method == "POST" and receipt is None:
        try:
            receipt, _placed = services.chat_draft_confirm(
                shop=storefront.shop, draft=draft, language=storefront.language
            )
        except services.DraftCancelled:
            return _cancelled(request, storefront, draft)
        except services.DraftGone:
            return _private(render_page(request, storefront, "storefront/404.html", {}, status=404))
        except ValidationError as exc:
            codes = {e.code for errors in getattr(exc, "error_dict", {}).values() for e in errors}
            status = 409 if "out_of_stock" in codes else 400
            error = " ".join(exc.messages)
        else:
            url = reverse("storefront:confirmation", args=[storefront.shop.slug, receipt.token])
            return HttpResponseRedirect(url, status=303)
    items = parse_products(draft.products).items
    cart = cart_build(
        shop=storefront.shop,
        market=draft.market,
        items=items,
        language=storefront.language,
        delivery_country=(draft.address.get("country") or "").upper(),
        region=tax_region(draft.address),
    )
    return _private(
        render_page(
            request,
            storefront,
            "storefront/chat_draft.html",
            {
                "draft": draft,
                "cart": cart,
                "receipt": receipt,
                "error": error,
                "method_label": PaymentMethod(draft.payment_method).label
                if draft.payment_method in PaymentMethod.values
                else draft.payment_method,
                "address_lines": [v for k, v in draft.address.items() if k not in ("name", "phone")],
            },
            status=status,
        )
    )
