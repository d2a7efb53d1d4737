"""The cart: Meta's `products` parameter read exactly as its checkout-URL guide says, and the
cart priced in a market (stored market prices, tax, duties, shipping, a discount code).

Read-only (a selector): nothing here writes. `checkout_place` prices the same cart again inside
its transaction, with the stock rows locked.

`products` is `retailer_id:quantity` pairs separated by commas, RFC 3986 escaped (`%2C`, `%3A`;
Django's query parsing decodes them). A retailer id is our feed item id, the variant's SKU, and
may itself hold a colon, so each pair is split on its LAST colon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Product, ProductVariant, StockLevel
from localization.landed_cost import tax_rate_lookup
from localization.models import DdpPricing, DutyMode, Market, MarketPrice
from localization.money import quantize, tax_from_inclusive
from storefront import contracts
from storefront.addresses import address_fields

MAX_ITEMS = 50  # distinct items in one cart
MAX_QUANTITY = 999  # of one item
MAX_PRODUCTS_LENGTH = 4000  # characters of the `products` parameter
# "only N left" is said from this many units down; above it, "in stock" (no counts shown).
LOW_STOCK = 5
ZERO = Decimal("0")


@dataclass(frozen=True)
class CartItem:
    retailer_id: str
    quantity: int


@dataclass
class ParsedCart:
    items: list[CartItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # for the buyer, translated


def parse_products(raw: str | None) -> ParsedCart:
    """`retailer_id:quantity,…` into items (same id twice: quantities added), and what could
    not be read, each said in words; never raises."""
    parsed = ParsedCart()
    if not raw:
        return parsed
    if len(raw) > MAX_PRODUCTS_LENGTH:
        parsed.problems.append(_("The cart link is too long to read; open the product page and add the items again."))
        return parsed
    quantities: dict[str, int] = {}
    for pair in raw.split(","):
        pair = pair.strip()
        if not pair:
            continue
        retailer_id, colon, quantity_text = pair.rpartition(":")
        retailer_id = retailer_id.strip()
        if not colon or not retailer_id:
            parsed.problems.append(
                _("“%(pair)s” is not an item and a quantity (item:quantity); it was left out.") % {"pair": pair[:60]}
            )
            continue
        quantity_text = quantity_text.strip()
        if not (quantity_text.isascii() and quantity_text.isdigit()) or not 1 <= int(quantity_text) <= MAX_QUANTITY:
            parsed.problems.append(
                _("The quantity of %(item)s must be a whole number from 1 to %(max)d; it was left out.")
                % {"item": retailer_id[:60], "max": MAX_QUANTITY}
            )
            continue
        if retailer_id not in quantities and len(quantities) >= MAX_ITEMS:
            parsed.problems.append(
                _("A cart holds at most %(n)d different items; the rest were left out.") % {"n": MAX_ITEMS}
            )
            break
        quantities[retailer_id] = min(quantities.get(retailer_id, 0) + int(quantity_text), MAX_QUANTITY)
    parsed.items = [CartItem(retailer_id, quantity) for retailer_id, quantity in quantities.items()]
    return parsed


def format_products(items) -> str:
    """Items back into the `products` value (unescaped; urlencode escapes , and :)."""
    return ",".join(f"{item.retailer_id}:{item.quantity}" for item in items)


def products_with(items: list[CartItem], retailer_id: str, quantity: int) -> list[CartItem]:
    """The cart with `quantity` more of an item (added at the end when new)."""
    result, found = [], False
    for item in items:
        if item.retailer_id == retailer_id:
            result.append(CartItem(retailer_id, min(item.quantity + quantity, MAX_QUANTITY)))
            found = True
        else:
            result.append(item)
    if not found and len(result) < MAX_ITEMS:
        result.append(CartItem(retailer_id, quantity))
    return result


def products_set(items: list[CartItem], retailer_id: str, quantity: int) -> list[CartItem]:
    """The cart with the item's quantity set where it stands (0 removes it; a new one goes last)."""
    if not quantity:
        return products_without(items, retailer_id)
    if any(item.retailer_id == retailer_id for item in items):
        return [CartItem(retailer_id, quantity) if item.retailer_id == retailer_id else item for item in items]
    return products_with(items, retailer_id, quantity)


def products_without(items: list[CartItem], retailer_id: str) -> list[CartItem]:
    return [item for item in items if item.retailer_id != retailer_id]


# --- Availability --------------------------------------------------------------------------------


def available_units(variant_ids) -> dict[int, int]:
    """Units free to sell per variant: on hand less allocated, over every location, never below 0."""
    rows = (
        StockLevel.objects.filter(variant_id__in=list(variant_ids))
        .values("variant_id")
        .annotate(on_hand=Sum("on_hand"), allocated=Sum("allocated"))
    )
    return {row["variant_id"]: max((row["on_hand"] or 0) - (row["allocated"] or 0), 0) for row in rows}


def availability_words(available: int) -> tuple[str, str]:
    """(kind, words) a buyer sees: never a count above LOW_STOCK."""
    if available <= 0:
        return "sold_out", _("Sold out")
    if available <= LOW_STOCK:
        return "low", ngettext("Only %(n)d left", "Only %(n)d left", available) % {"n": available}
    return "in_stock", _("In stock")


# --- Pricing ---------------------------------------------------------------------------------------


@dataclass
class CartLine:
    retailer_id: str
    quantity: int
    variant: ProductVariant | None = None
    product: Product | None = None
    title: str = ""
    variant_title: str = ""
    unit_price: Decimal | None = None
    compare_at: Decimal | None = None
    landed_cost: Decimal = ZERO  # duties and import tax priced into the unit price (DDP)
    available: int = 0  # internal only: pages show availability_words
    problem: str = ""  # why the line cannot be ordered, for the buyer
    problem_code: str = ""  # unknown | sold_out | short | not_sold_here

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price or ZERO) * self.quantity

    @property
    def weight_grams(self) -> int:
        return (self.variant.weight_grams or 0) * self.quantity if self.variant else 0


@dataclass
class Cart:
    market: Market
    currency: str
    lines: list[CartLine]
    problems: list[str]
    subtotal: Decimal = ZERO
    coupon: str = ""
    discount: contracts.DiscountQuote | None = None
    coupon_error: str = ""
    shipping_options: list = field(default_factory=list)
    shipping: object | None = None  # the chosen ShippingOption
    shipping_amount: Decimal = ZERO
    tax_rate: Decimal = ZERO
    tax: Decimal = ZERO
    tax_included: bool = False
    # Tax added by the state or province (US, CA): which one it was priced for, or that the
    # total shown has no sales tax yet because the address is not known.
    tax_region: str = ""
    tax_awaits_region: bool = False
    duties_included: Decimal = ZERO
    duty_note: str = ""
    total: Decimal = ZERO

    @property
    def ok_lines(self) -> list[CartLine]:
        return [line for line in self.lines if line.ok]

    @property
    def discount_amount(self) -> Decimal:
        return self.discount.amount if self.discount else ZERO

    @property
    def orderable(self) -> bool:
        return bool(self.lines) and all(line.ok for line in self.lines)

    @property
    def weight_grams(self) -> int:
        return sum(line.weight_grams for line in self.ok_lines)


def _unknown(line: CartLine) -> None:
    line.problem_code = "unknown"
    line.problem = _("We do not know the item “%(item)s”: this shop does not sell it (or no longer does).") % {
        "item": line.retailer_id[:60]
    }


def cart_build(
    *,
    shop,
    market: Market,
    items: list[CartItem],
    problems: list[str] | None = None,
    coupon: str = "",
    shipping_rate_id: int | None = None,
    language: str = "",
    available: dict[int, int] | None = None,
    delivery_country: str = "",
    region: str = "",
) -> Cart:
    """The cart priced in `market` (current shop). `available` overrides the stock read (the
    checkout passes what it read from the rows it locked). `delivery_country` and `region`: the
    delivery address's country and state or province code (`addresses.tax_region`), for the
    sales tax of a market whose prices are shown without tax."""
    now = timezone.now()
    cart = Cart(market=market, currency=market.currency, lines=[], problems=list(problems or []))
    variants = {
        v.sku: v
        for v in ProductVariant.objects.select_related("product").filter(sku__in=[i.retailer_id for i in items])
    }
    prices = {
        row.variant_id: row
        for row in MarketPrice.objects.filter(market=market, variant_id__in=[v.pk for v in variants.values()])
    }
    if available is None:
        available = available_units(v.pk for v in variants.values())
    texts = _product_texts([v.product_id for v in variants.values()], language, shop.default_language)
    for item in items:
        line = CartLine(retailer_id=item.retailer_id, quantity=item.quantity)
        cart.lines.append(line)
        variant = variants.get(item.retailer_id)
        if variant is None or variant.product.status != Product.Status.ACTIVE:
            _unknown(line)
            continue
        line.variant, line.product = variant, variant.product
        line.title = texts.get(variant.product_id, {}).get("title", (variant.product.title, ""))[0]
        line.variant_title = variant.display_title if len(variant.option_values or {}) or variant.title else ""
        price = prices.get(variant.pk)
        if price is None:
            line.problem_code = "not_sold_here"
            line.problem = _("%(item)s is not sold in %(market)s.") % {"item": line.title, "market": market.name}
            continue
        line.unit_price, line.compare_at = price.effective(now)
        line.landed_cost = price.landed_cost_amount or ZERO
        line.available = available.get(variant.pk, 0)
        if line.available <= 0:
            line.problem_code = "sold_out"
            line.problem = _("%(item)s is sold out.") % {"item": _line_name(line)}
        elif line.quantity > line.available:
            line.problem_code = "short"
            if line.available <= LOW_STOCK:
                line.problem = ngettext(
                    "Only %(n)d of %(item)s is left: lower the quantity.",
                    "Only %(n)d of %(item)s are left: lower the quantity.",
                    line.available,
                ) % {"n": line.available, "item": _line_name(line)}
            else:
                line.problem = _("Not enough of %(item)s is in stock for %(q)d: lower the quantity.") % {
                    "item": _line_name(line),
                    "q": line.quantity,
                }
    _price(
        cart,
        shop=shop,
        coupon=coupon,
        shipping_rate_id=shipping_rate_id,
        now=now,
        delivery_country=delivery_country,
        region=region,
    )
    return cart


def _line_name(line: CartLine) -> str:
    return f"{line.title} ({line.variant_title})" if line.variant_title else line.title


def _product_texts(product_ids, language: str, default_language: str) -> dict:
    if not language or not product_ids:
        return {}
    from localization.selectors import translated_texts

    return translated_texts(product_ids=product_ids, language=language, default_language=default_language)


def market_country(market: Market, shop) -> str:
    return market.countries[0] if market.countries else shop.country


def _taxes_by_region(country: str) -> bool:
    return any(spec.choices for spec in address_fields(country))


def _price(
    cart: Cart, *, shop, coupon: str, shipping_rate_id: int | None, now, delivery_country: str = "", region: str = ""
) -> None:
    market, currency = cart.market, cart.currency
    ok = cart.ok_lines
    cart.subtotal = quantize(sum((line.line_total for line in ok), ZERO), currency)
    cart.duties_included = quantize(sum((line.landed_cost * line.quantity for line in ok), ZERO), currency)
    # Discount code: quoted on the goods, in the basket's currency.
    cart.coupon = (coupon or "").strip()[:60]
    if cart.coupon and ok:
        try:
            cart.discount = contracts.discount_quote(
                code=cart.coupon, subtotal=cart.subtotal, currency=currency, market=market, at=now
            )
        except contracts.DiscountRefused as exc:
            cart.coupon_error = str(getattr(exc, "message", "") or exc)
    goods = cart.subtotal - cart.discount_amount
    # Shipping: the market's rates for this basket; the chosen one, else the cheapest.
    cart.shipping_options = (
        list(contracts.shipping_options(market=market, weight_grams=cart.weight_grams, subtotal=cart.subtotal))
        if ok
        else []
    )
    if cart.shipping_options:
        chosen = next((o for o in cart.shipping_options if o.rate_id == shipping_rate_id), None)
        cart.shipping = chosen or min(cart.shipping_options, key=lambda o: (o.amount, o.rate_id))
        cart.shipping_amount = quantize(cart.shipping.amount, currency)
    # Tax at the market's country rate: inside the prices when the market shows prices with
    # tax, else added to the goods after the discount, at the rate of the delivery address's
    # state or province where the country taxes by region (US sales tax, Canada's PST/HST).
    country = market_country(market, shop)
    if not market.tax_inclusive and delivery_country and _taxes_by_region(delivery_country):
        country = delivery_country
    by_region = not market.tax_inclusive and _taxes_by_region(country)
    cart.tax_region = region if by_region else ""
    cart.tax_awaits_region = by_region and not region
    rate, _rule = tax_rate_lookup(country=country, region=cart.tax_region, on=timezone.localdate(now), shop_id=shop.pk)
    cart.tax_rate = rate
    cart.tax_included = market.tax_inclusive
    if market.tax_inclusive:
        cart.tax = quantize(tax_from_inclusive(goods, rate), currency)
        cart.total = quantize(goods + cart.shipping_amount, currency)
    else:
        cart.tax = quantize(goods * rate, currency)
        cart.total = quantize(goods + cart.tax + cart.shipping_amount, currency)
    # Duties: a DDP market's prices are the landed price (the seller pays at the border); a
    # DAP market abroad leaves them to the buyer on delivery.
    if market.duty_mode == DutyMode.DDP:
        if market.ddp_pricing == DdpPricing.PRICE_IN and cart.duties_included:
            cart.duty_note = _("Prices include duties and import tax: nothing more to pay on delivery.")
        else:
            cart.duty_note = _("Duties and import tax are paid by the shop: nothing more to pay on delivery.")
    elif market_country(market, shop) != shop.country:
        cart.duty_note = _("Duties and import tax, if any, are paid by you on delivery.")


def cart_text(cart: Cart, *, shop_name: str, link: str, money) -> str:
    """The cart as a chat message (click-to-chat links carry it), in the active language."""
    lines = [_("Hello %(shop)s, I would like to order:") % {"shop": shop_name}]
    for line in cart.ok_lines:
        lines.append(
            f"- {line.quantity} x {_line_name(line)} ({line.retailer_id}): {money(line.line_total, cart.currency)}"
        )
    if cart.coupon and cart.discount:
        lines.append(_("Discount code: %(code)s") % {"code": cart.coupon})
    lines.append(_("Total: %(total)s") % {"total": money(cart.total, cart.currency)})
    lines.append(link)
    return "\n".join(lines)


def chat_links(settings, text: str) -> dict[str, str]:
    """Click-to-chat links carrying `text`: WhatsApp (wa.me) and Messenger (m.me)."""
    links = {}
    encoded = quote(text, safe="")
    if settings.whatsapp_digits:
        links["whatsapp"] = f"https://wa.me/{settings.whatsapp_digits}?text={encoded}"
    if settings.messenger_page:
        links["messenger"] = f"https://m.me/{quote(settings.messenger_page, safe='')}?text={encoded}"
    return links
