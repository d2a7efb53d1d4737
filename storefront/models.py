"""The shop's hosted storefront: its settings (published, payment methods and their
instructions, click-to-chat) and the receipts of checkout orders (the buyer's unguessable
confirmation link)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from shopadmin.tenancy import TenantModel


class PaymentMethod(models.TextChoices):
    COD = "cod", _("Cash on delivery")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    MOBILE_MONEY = "mobile_money", _("Mobile money")


# The methods whose buyer gives a payment reference (the transfer's or the wallet's transaction id).
REFERENCE_METHODS = frozenset({PaymentMethod.BANK_TRANSFER, PaymentMethod.MOBILE_MONEY})


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class StorefrontSettings(TenantModel):
    """One row per shop (a shop that never saved them gets the defaults, unsaved)."""

    published = models.BooleanField(
        default=True, help_text=_("Unpublished: the shop's public pages answer “not found”.")
    )
    cod_enabled = models.BooleanField(_("cash on delivery"), default=True)
    cod_instructions = models.TextField(_("cash on delivery instructions"), blank=True, max_length=2000)
    bank_transfer_enabled = models.BooleanField(_("bank transfer"), default=False)
    bank_transfer_instructions = models.TextField(_("bank transfer instructions"), blank=True, max_length=2000)
    mobile_money_enabled = models.BooleanField(_("mobile money"), default=False)
    mobile_money_instructions = models.TextField(_("mobile money instructions"), blank=True, max_length=2000)
    whatsapp_number = models.CharField(
        _("WhatsApp number"),
        max_length=20,
        blank=True,
        help_text=_("In international form, e.g. +880 1712 345678; buyers may continue their order in WhatsApp."),
    )
    messenger_page = models.CharField(
        _("Messenger page"),
        max_length=100,
        blank=True,
        help_text=_("The Facebook page's user name (m.me/<name>); buyers may continue their order in Messenger."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("storefront settings")
        verbose_name_plural = _("storefront settings")
        constraints = [models.UniqueConstraint(fields=["shop"], name="storefrontsettings_unique_shop")]

    def __str__(self):
        return f"Storefront settings of shop {self.shop_id}"

    def clean(self):
        from storefront.errors import StorefrontErrorCode

        errors = {}
        self.whatsapp_number = (self.whatsapp_number or "").strip()
        if self.whatsapp_number:
            digits = _digits(self.whatsapp_number)
            if not 8 <= len(digits) <= 15 or any(ch not in "+0123456789 -()" for ch in self.whatsapp_number):
                errors["whatsapp_number"] = ValidationError(
                    _("Give the number in international form, 8 to 15 digits, e.g. +880 1712 345678."),
                    code=StorefrontErrorCode.WHATSAPP_NUMBER_INVALID,
                )
        self.messenger_page = (self.messenger_page or "").strip().removeprefix("https://m.me/").strip("/")
        if self.messenger_page and not all(ch.isalnum() or ch in "._-" for ch in self.messenger_page):
            errors["messenger_page"] = ValidationError(
                _("Give the page's user name: letters, digits, dots, hyphens or underscores."),
                code=StorefrontErrorCode.MESSENGER_PAGE_INVALID,
            )
        if not (
            self.cod_enabled
            or self.bank_transfer_enabled
            or self.mobile_money_enabled
            or self.whatsapp_number
            or self.messenger_page
        ):
            errors["cod_enabled"] = ValidationError(
                _("Enable at least one way to pay or to continue the order in a chat."),
                code=StorefrontErrorCode.NO_PAYMENT_METHOD,
            )
        if errors:
            raise ValidationError(errors)

    @property
    def whatsapp_digits(self) -> str:
        return _digits(self.whatsapp_number)

    def payment_methods(self) -> list[str]:
        """The enabled methods that create an order, in the order buyers see them."""
        enabled = {
            PaymentMethod.COD: self.cod_enabled,
            PaymentMethod.BANK_TRANSFER: self.bank_transfer_enabled,
            PaymentMethod.MOBILE_MONEY: self.mobile_money_enabled,
        }
        return [method for method, on in enabled.items() if on]

    def instructions_for(self, method: str) -> str:
        return getattr(self, f"{method}_instructions", "") if method in PaymentMethod.values else ""

    def audit_values(self) -> dict:
        return {name: getattr(self, name) for name in AUDITED_FIELDS}


AUDITED_FIELDS = (
    "published",
    "cod_enabled",
    "cod_instructions",
    "bank_transfer_enabled",
    "bank_transfer_instructions",
    "mobile_money_enabled",
    "mobile_money_instructions",
    "whatsapp_number",
    "messenger_page",
    "contact_email",
    "contact_phone",
)


def new_receipt_token() -> str:
    # 192 random bits: the link in the confirmation is the only thing naming the order.
    return secrets.token_urlsafe(24)


class CheckoutReceipt(TenantModel):
    """What the buyer's confirmation page and email show beyond the order: how they pay, the
    reference they gave, and their language. Its token is the page's address."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="checkout_receipts")
    token = models.CharField(max_length=64, default=new_receipt_token, editable=False)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    payment_reference = models.CharField(max_length=100, blank=True)
    # The merchant's instructions as they were when the order was placed.
    payment_instructions = models.TextField(blank=True)
    language = models.CharField(max_length=10, default="en")
    shipping_rate_name = models.CharField(max_length=200, blank=True)
    coupon = models.CharField(max_length=60, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = _("checkout receipt")
        verbose_name_plural = _("checkout receipts")
        constraints = [
            models.UniqueConstraint(fields=["shop", "token"], name="checkoutreceipt_unique_token"),
            models.UniqueConstraint(fields=["shop", "order"], name="checkoutreceipt_unique_order"),
        ]

    def __str__(self):
        return f"Receipt of order {self.order_id}"


class ChatSource(models.TextChoices):
    """Where the conversation of an order taken in chat happened (the order's attribution source)."""

    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    PHONE = "phone", _("Phone call")


def new_draft_token() -> str:
    # 192 random bits: the link sent in the chat is the only thing naming the draft.
    return secrets.token_urlsafe(24)


CHAT_DRAFT_DAYS = 7


class ChatDraft(TenantModel):
    """An order a merchant prepared in a chat, waiting for the buyer to confirm it at its link
    (/s/<shop>/d/<token>/). The cart is kept as `SKU:qty,…`; prices are the market's when the
    buyer confirms."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the buyer")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    token = models.CharField(max_length=64, default=new_draft_token, editable=False)
    products = models.CharField(max_length=4000)
    market = models.ForeignKey("localization.Market", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40)
    email = models.EmailField(blank=True)
    address = models.JSONField(default=dict, blank=True)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    source = models.CharField(max_length=20, choices=ChatSource.choices)
    note = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField()
    receipt = models.ForeignKey(CheckoutReceipt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("chat order draft")
        verbose_name_plural = _("chat order drafts")
        constraints = [models.UniqueConstraint(fields=["shop", "token"], name="chatdraft_unique_token")]

    def __str__(self):
        return f"Chat draft {self.pk} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.EXPIRED or (self.status == self.Status.OPEN and self.expires_at <= now())

    @property
    def current_status(self) -> str:
        """The status as the buyer's link behaves now: an open draft past its date is expired."""
        return self.Status.EXPIRED if self.is_expired else self.status
