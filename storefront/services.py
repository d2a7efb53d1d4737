"""Writes of the storefront: its settings, the shop's checkout channel account, and placing a
checkout order (one transaction: stock rows locked, the order imported through orders'
`order_import` like any channel's, the discount code redeemed, the receipt recorded)."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import ProductVariant, StockLevel
from channels.adapters.base import ChannelOrder, ChannelOrderLine
from channels.models import Channel, ChannelAccount
from localization.models import Market
from orders.models import Customer, Lifecycle
from orders.services.ingest import order_import
from shopadmin.audit import audit_record
from shopadmin.tenancy import current_shop_id
from storefront import contracts
from storefront.addresses import tax_region
from storefront.cart import CartItem, cart_build
from storefront.errors import StorefrontErrorCode
from storefront.models import (
    AUDITED_FIELDS,
    CHAT_DRAFT_DAYS,
    REFERENCE_METHODS,
    ChatDraft,
    CheckoutReceipt,
    StorefrontSettings,
)

# The account's name is data (stored once, in English), not a text of the page that creates it.
CHECKOUT_ACCOUNT_NAME = "Shop checkout"


def settings_get() -> StorefrontSettings:
    """The shop's storefront settings, read only: the defaults, unsaved, for a shop that never
    changed them (a public page writes nothing)."""
    shop_id = current_shop_id()
    return StorefrontSettings.objects.filter(shop_id=shop_id).first() or StorefrontSettings(shop_id=shop_id)


@transaction.atomic
def storefront_settings_update(**fields) -> StorefrontSettings:
    """Change the current shop's storefront settings (any of AUDITED_FIELDS); audited."""
    unknown = set(fields) - set(AUDITED_FIELDS)
    if unknown:
        raise TypeError(f"Unknown storefront settings: {', '.join(sorted(unknown))}")
    settings, _created = StorefrontSettings.objects.get_or_create(shop_id=current_shop_id())
    settings = StorefrontSettings.objects.select_for_update().get(pk=settings.pk)
    before = settings.audit_values()
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.updated_at = timezone.now()
    settings.full_clean()
    settings.save()
    after = settings.audit_values()
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(action="storefront_settings.update", instance=settings, changes=changes)
    return settings


def checkout_account_ensure(*, shop) -> ChannelAccount:
    """The shop's one checkout channel account, created the first time an order needs it."""
    account = ChannelAccount.objects.filter(channel=Channel.CHECKOUT).order_by("pk").first()
    if account is not None:
        return account
    with transaction.atomic():
        # Two first orders at once: the unique (shop, channel, name) lets one create it.
        account, created = ChannelAccount.objects.get_or_create(
            shop=shop,
            channel=Channel.CHECKOUT,
            name=CHECKOUT_ACCOUNT_NAME,
            defaults={"checkout_method": ChannelAccount.CheckoutMethod.CHECKOUT_URL},
        )
        if created:
            audit_record(
                action="channel_account.create", instance=account, changes={"channel": [None, account.channel]}
            )
    return account


def _refuse(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _locked_available(items: list[CartItem]) -> dict[int, int]:
    """Lock the stock rows of the cart's variants, in primary-key order (as orders' allocation
    does, so two checkouts of the same items wait for each other instead of deadlocking), and
    return the units free per variant as the locked rows say."""
    variant_ids = list(
        ProductVariant.objects.filter(sku__in=[item.retailer_id for item in items]).values_list("pk", flat=True)
    )
    available: dict[int, int] = {}
    for level in StockLevel.objects.select_for_update().filter(variant_id__in=variant_ids).order_by("pk"):
        available[level.variant_id] = available.get(level.variant_id, 0) + max(level.available, 0)
    return available


def new_external_id() -> str:
    return "CO-" + secrets.token_hex(5).upper()


@transaction.atomic
def checkout_place(
    *,
    shop,
    market: Market,
    items: list[CartItem],
    name: str,
    phone: str,
    address: dict,
    payment_method: str,
    email: str = "",
    payment_reference: str = "",
    shipping_rate_id: int | None = None,
    coupon: str = "",
    marketing_consent: bool = False,
    note: str = "",
    landing_params: dict | None = None,
    language: str = "en",
    source: str = "",
    expected_total: Decimal | None = None,
) -> CheckoutReceipt:
    """Place a checkout order: exactly the cart, at the market's prices, or nothing.

    The stock rows are locked first; a line with fewer units left than ordered refuses the whole
    order (ValidationError on "cart", code out_of_stock) instead of recording an oversell. The
    order goes through orders' `order_import` on the shop's checkout account (one lifecycle,
    stock allocated in this transaction), the discount code is redeemed in the same
    transaction, and the buyer's receipt (the confirmation page's token) is recorded.

    `source` (an order taken in chat: the conversation's channel, e.g. "whatsapp") replaces the
    attribution source the landing parameters would give; a buyer's checkout never passes it.
    `expected_total`: the total the buyer was shown; a cart that now costs something else (the
    sales tax of the address's state, a price changed meanwhile) is refused (code
    total_changed) so that nobody orders at a total they did not see.
    """
    settings = StorefrontSettings.objects.filter(shop_id=shop.pk).first() or StorefrontSettings(shop_id=shop.pk)
    if payment_method not in settings.payment_methods():
        raise _refuse(
            "payment_method",
            _("Choose one of the ways to pay this shop offers."),
            StorefrontErrorCode.PAYMENT_METHOD_UNAVAILABLE,
        )
    payment_reference = (payment_reference or "").strip()[:100]
    if payment_method in REFERENCE_METHODS and not payment_reference:
        raise _refuse(
            "payment_reference",
            _("Give the reference of your payment (the transaction id) so the shop can find it."),
            StorefrontErrorCode.PAYMENT_REFERENCE_REQUIRED,
        )
    if not items:
        raise _refuse("cart", _("Your cart is empty."), StorefrontErrorCode.CART_EMPTY)
    available = _locked_available(items)
    cart = cart_build(
        shop=shop,
        market=market,
        items=items,
        coupon=coupon,
        shipping_rate_id=shipping_rate_id,
        language=language,
        available=available,
        delivery_country=(address.get("country") or "").upper(),
        region=tax_region(address),
    )
    problems = [line for line in cart.lines if not line.ok]
    if problems:
        stock = any(line.problem_code in ("sold_out", "short") for line in problems)
        raise ValidationError(
            {
                "cart": [
                    ValidationError(
                        line.problem,
                        code=StorefrontErrorCode.OUT_OF_STOCK if stock else StorefrontErrorCode.CART_INVALID,
                    )
                    for line in problems
                ]
            }
        )
    if cart.coupon and cart.coupon_error:
        raise _refuse("coupon", cart.coupon_error, StorefrontErrorCode.DISCOUNT_REFUSED)
    if shipping_rate_id is not None and (cart.shipping is None or cart.shipping.rate_id != shipping_rate_id):
        raise _refuse(
            "shipping_rate",
            _("That delivery option is not available for this cart; choose another."),
            StorefrontErrorCode.SHIPPING_RATE_UNAVAILABLE,
        )
    if expected_total is not None and cart.total != expected_total:
        raise _refuse(
            "cart",
            _("The total for this address is different from the one shown: check the new total, then place the order."),
            StorefrontErrorCode.TOTAL_CHANGED,
        )
    country = (address.get("country") or "").upper()
    if market.countries and country not in market.countries:
        raise _refuse(
            "country",
            _("%(market)s delivers to %(countries)s only.")
            % {"market": market.name, "countries": ", ".join(market.countries)},
            StorefrontErrorCode.COUNTRY_NOT_SERVED,
        )
    landing = contracts.landing_from_params(landing_params or {})
    if source:
        landing = contracts.Landing(source=source, campaign=landing.campaign, params=landing.params)
    kept = contracts.landing_params(landing_params or {})
    now = timezone.now()
    raw = {
        "checkout": {
            "payment_method": payment_method,
            "payment_reference": payment_reference,
            "shipping_rate": cart.shipping.name if cart.shipping else "",
            "coupon": cart.coupon if cart.discount else "",
            "market_id": market.pk,
            "language": language,
            "marketing_consent": bool(marketing_consent),
            "landing": kept,
        }
    }
    data = ChannelOrder(
        external_id=new_external_id(),
        channel_status="placed",
        lifecycle=Lifecycle.AWAITING_FULFILLMENT,
        currency=cart.currency,
        total=cart.total,
        lines=[
            ChannelOrderLine(
                channel_item_id=line.retailer_id,
                sku=line.retailer_id,
                quantity=line.quantity,
                unit_price=line.unit_price or Decimal("0"),
                title=line.title[:255],
            )
            for line in cart.lines
        ],
        subtotal=cart.subtotal,
        shipping=cart.shipping_amount,
        tax=cart.tax,
        duties=Decimal("0"),  # a DDP market's duties are inside the prices; a DAP buyer pays them on delivery
        discounts=cart.discount_amount,
        placed_at=now,
        updated_at=now,
        buyer_name=name.strip()[:200],
        buyer_email=(email or "").strip()[:254],
        buyer_phone=phone.strip()[:40],
        shipping_address={k: str(v).strip()[:200] for k, v in address.items() if v},
        buyer_message=note.strip()[:1000],
        country=country,
        raw=raw,
        attribution=landing.as_attribution(),
    )
    account = checkout_account_ensure(shop=shop)
    order, _outcome = order_import(account=account, data=data, via="checkout")
    if order.market_id != market.pk:
        order.market = market
        order.save(update_fields=["market"])
    if any(line.quantity_short for line in order.lines.all()):
        # Cannot happen with the rows locked above; never record an oversell if it somehow did.
        raise _refuse("cart", _("Some items sold out while you were ordering."), StorefrontErrorCode.OUT_OF_STOCK)
    if cart.discount is not None:
        try:
            contracts.discount_redeem(quote=cart.discount, order=order)
        except contracts.DiscountRefused as exc:
            raise _refuse(
                "coupon", str(getattr(exc, "message", "") or exc), StorefrontErrorCode.DISCOUNT_REFUSED
            ) from None
    if marketing_consent and order.customer_id:
        Customer.objects.filter(pk=order.customer_id).update(
            marketing_consent=True, marketing_consent_at=now, marketing_consent_source="checkout", updated_at=now
        )
    receipt = CheckoutReceipt(
        shop=shop,
        order=order,
        payment_method=payment_method,
        payment_reference=payment_reference,
        payment_instructions=settings.instructions_for(payment_method),
        language=language[:10],
        shipping_rate_name=(cart.shipping.name if cart.shipping else "")[:200],
        coupon=cart.coupon if cart.discount else "",
    )
    receipt.full_clean(exclude=["shop", "order"])
    receipt.save()
    audit_record(
        action="checkout.place",
        instance=order,
        changes={
            "payment_method": [None, payment_method],
            "total": [None, f"{order.total} {order.currency}"],
            "source": [None, landing.source],
        },
    )
    if order.buyer_email:
        from storefront.tasks import checkout_confirmation_email_task

        shop_id, receipt_id = shop.pk, receipt.pk
        transaction.on_commit(lambda: checkout_confirmation_email_task.delay(shop_id, receipt_id))
    return receipt


@transaction.atomic
def confirmation_email_send(*, receipt: CheckoutReceipt) -> bool:
    """Send the buyer's confirmation once (a redelivered task finds it sent and does nothing)."""
    from django.conf import settings as django_settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils import translation

    receipt = CheckoutReceipt.objects.select_for_update().select_related("order").get(pk=receipt.pk)
    order = receipt.order
    if receipt.email_sent_at is not None or not order.buyer_email:
        return False
    from shopadmin.models import Shop

    shop = Shop.objects.get(pk=receipt.shop_id)
    url = f"{django_settings.SITE_URL}/s/{shop.slug}/o/{receipt.token}/"
    with translation.override(receipt.language):
        context = {"shop": shop, "order": order, "receipt": receipt, "lines": list(order.lines.all()), "url": url}
        subject = _("Your order %(number)s at %(shop)s") % {"number": order.external_id, "shop": shop.name}
        body = render_to_string("storefront/email_confirmation.txt", context)
    send_mail(subject, body, None, [order.buyer_email])
    receipt.email_sent_at = timezone.now()
    receipt.save(update_fields=["email_sent_at"])
    return True


# Orders taken in chat ------------------------------------------------------------------------


def chat_order_place(*, shop, market: Market, items: list[CartItem], source: str, **buyer) -> CheckoutReceipt:
    """A merchant places the order of a conversation at once: the checkout's path (stock locked,
    short stock refused, order_import on the checkout account), attributed to the chat's channel."""
    return checkout_place(shop=shop, market=market, items=items, source=source, **buyer)


@transaction.atomic
def chat_draft_create(
    *,
    shop,
    market: Market,
    items: list[CartItem],
    name: str,
    phone: str,
    address: dict,
    payment_method: str,
    source: str,
    email: str = "",
    note: str = "",
    created_by=None,
) -> ChatDraft:
    """An order the buyer confirms at the draft's link (valid CHAT_DRAFT_DAYS days); audited."""
    from storefront.cart import format_products

    settings = StorefrontSettings.objects.filter(shop_id=shop.pk).first() or StorefrontSettings(shop_id=shop.pk)
    if payment_method not in settings.payment_methods():
        raise _refuse(
            "payment_method",
            _("Choose one of the ways to pay this shop offers."),
            StorefrontErrorCode.PAYMENT_METHOD_UNAVAILABLE,
        )
    if not items:
        raise _refuse("cart", _("Your cart is empty."), StorefrontErrorCode.CART_EMPTY)
    draft = ChatDraft(
        shop=shop,
        products=format_products(items),
        market=market,
        name=name.strip()[:200],
        phone=phone.strip()[:40],
        email=(email or "").strip()[:254],
        address={k: str(v).strip()[:200] for k, v in address.items() if v},
        payment_method=payment_method,
        source=source,
        note=(note or "").strip()[:1000],
        created_by=created_by,
        expires_at=timezone.now() + dt.timedelta(days=CHAT_DRAFT_DAYS),
    )
    draft.full_clean(exclude=["shop", "market", "created_by", "receipt"])
    draft.save()
    audit_record(
        action="chat_draft.create",
        instance=draft,
        changes={"products": [None, draft.products], "source": [None, source], "market": [None, market.pk]},
    )
    return draft


class DraftGone(Exception):
    """The draft expired (or is not open and has no order)."""


class DraftCancelled(DraftGone):
    """The merchant cancelled the draft: its link says so and places nothing."""


@transaction.atomic
def chat_draft_confirm(*, shop, draft: ChatDraft, language: str = "en") -> tuple[CheckoutReceipt, bool]:
    """The buyer confirms a draft: (receipt, True) when this placed the order, (the order's
    receipt, False) when it was confirmed before (once only: the draft row is locked).
    Raises DraftGone for an expired draft, ValidationError when the checkout refuses."""
    from storefront.cart import parse_products

    draft = ChatDraft.objects.select_for_update(of=("self",)).select_related("market", "receipt").get(pk=draft.pk)
    if draft.status == ChatDraft.Status.CONFIRMED and draft.receipt is not None:
        return draft.receipt, False
    if draft.status == ChatDraft.Status.CANCELLED:
        raise DraftCancelled()
    if draft.is_expired:
        if draft.status != ChatDraft.Status.EXPIRED:
            ChatDraft.objects.filter(pk=draft.pk).update(status=ChatDraft.Status.EXPIRED)
        raise DraftGone()
    receipt = checkout_place(
        shop=shop,
        market=draft.market,
        items=parse_products(draft.products).items,
        name=draft.name,
        phone=draft.phone,
        email=draft.email,
        address={**draft.address, "name": draft.name, "phone": draft.phone},
        payment_method=draft.payment_method,
        note=draft.note,
        language=language,
        source=draft.source,
    )
    draft.status = ChatDraft.Status.CONFIRMED
    draft.receipt = receipt
    draft.confirmed_at = timezone.now()
    draft.save(update_fields=["status", "receipt", "confirmed_at"])
    audit_record(
        action="chat_draft.confirm",
        instance=draft,
        changes={"status": [ChatDraft.Status.OPEN, ChatDraft.Status.CONFIRMED], "order": [None, receipt.order_id]},
    )
    return receipt, True


@transaction.atomic
def chat_draft_cancel(*, draft: ChatDraft) -> ChatDraft:
    """The merchant withdraws a draft before the buyer confirms it: its link then says it was
    cancelled and cannot be confirmed. Cancelling twice changes nothing; a confirmed draft is
    refused (its order is cancelled in the orders app instead). The row is locked, so a buyer
    confirming at the same moment either wins (refused here) or finds it cancelled."""
    draft = ChatDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status == ChatDraft.Status.CANCELLED:
        return draft
    if draft.status == ChatDraft.Status.CONFIRMED:
        raise _refuse(
            "status",
            _("The buyer already confirmed this order: cancel the order itself instead."),
            StorefrontErrorCode.CHAT_DRAFT_CONFIRMED,
        )
    before = draft.status
    draft.status = ChatDraft.Status.CANCELLED
    draft.cancelled_at = timezone.now()
    draft.save(update_fields=["status", "cancelled_at"])
    audit_record(action="chat_draft.cancel", instance=draft, changes={"status": [before, draft.status]})
    return draft
