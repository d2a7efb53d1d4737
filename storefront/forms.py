"""The checkout form (country-aware address fields from storefront.addresses) and the
merchant's storefront settings form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shopadmin.inputs import country_name
from shopadmin.numerals import ascii_digits
from storefront.addresses import address_fields, postcode_valid
from storefront.errors import StorefrontErrorCode
from storefront.models import AUDITED_FIELDS, PaymentMethod, StorefrontSettings


class CheckoutForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(
        label=_("Phone"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
    )
    email = forms.EmailField(
        label=_("Email (optional, for a confirmation)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    country = forms.ChoiceField(label=_("Country"))
    note = forms.CharField(
        label=_("Note for the shop (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    payment_method = forms.ChoiceField(label=_("How you pay"), widget=forms.RadioSelect)
    payment_reference = forms.CharField(
        label=_("Payment reference (transaction id)"),
        required=False,
        max_length=100,
        help_text=_("For a bank transfer or mobile money: the id of your payment, so the shop can find it."),
    )
    marketing_consent = forms.BooleanField(
        label=_("Send me news and offers from this shop (you can stop them at any time)"),
        required=False,
        initial=False,
    )

    def __init__(self, *args, countries: list[str], methods: list[str], country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(code, country_name(code)) for code in countries]
        self.fields["country"].initial = country
        self.fields["payment_method"].choices = [(m, PaymentMethod(m).label) for m in methods]
        if len(methods) == 1:
            self.fields["payment_method"].initial = methods[0]
        self.address_keys = []
        for spec in address_fields(country):
            attrs = {"autocomplete": spec.autocomplete} if spec.autocomplete else {}
            if spec.choices:
                self.fields[spec.key] = forms.ChoiceField(
                    label=spec.label,
                    required=spec.required,
                    choices=[("", "—"), *spec.choices],
                    widget=forms.Select(attrs=attrs),
                )
            else:
                self.fields[spec.key] = forms.CharField(
                    label=spec.label, required=spec.required, max_length=200, widget=forms.TextInput(attrs=attrs)
                )
            self.address_keys.append(spec.key)
        self.country = country
        # Order on the page: buyer, address, then payment and consent.
        order = ["name", "phone", "email", "country", *self.address_keys, "note"]
        self.order_fields(order)

    def clean_phone(self):
        phone = ascii_digits(self.cleaned_data["phone"]).strip()
        digits = [ch for ch in phone if ch.isdigit()]
        if not 6 <= len(digits) <= 15 or any(ch not in "+0123456789 -()" for ch in phone):
            raise forms.ValidationError(_("Give a phone number, e.g. +880 1712 345678."), code="phone_invalid")
        return phone

    def clean_postcode(self):
        value = ascii_digits(self.cleaned_data.get("postcode", "")).strip().upper()
        if value and not postcode_valid(self.country, value):
            raise forms.ValidationError(_("That is not a postcode of this country."), code="postcode_invalid")
        return value

    def address(self) -> dict:
        data = self.cleaned_data
        address = {key: data.get(key, "") for key in self.address_keys}
        address["country"] = data["country"]
        address["name"] = data["name"]
        address["phone"] = data["phone"]
        return address


class StorefrontSettingsForm(forms.ModelForm):
    class Meta:
        model = StorefrontSettings
        fields = list(AUDITED_FIELDS)
        labels = {
            "published": _("Published: the storefront is open to buyers"),
            "cod_enabled": _("Cash on delivery"),
            "bank_transfer_enabled": _("Bank transfer"),
            "mobile_money_enabled": _("Mobile money (bKash, Nagad, JazzCash, …)"),
        }
        help_texts = {
            "cod_instructions": _("What the buyer reads after ordering, e.g. “Pay the courier in cash.”"),
            "bank_transfer_instructions": _("Your account name, number and bank, and what to write as the reference."),
            "mobile_money_instructions": _("The number to send money to, and the service."),
        }
        widgets = {
            "cod_instructions": forms.Textarea(attrs={"rows": 2}),
            "bank_transfer_instructions": forms.Textarea(attrs={"rows": 3}),
            "mobile_money_instructions": forms.Textarea(attrs={"rows": 3}),
        }


class ChatOrderForm(CheckoutForm):
    """An order taken in a chat, filled in by the merchant: the cart (`SKU:qty`, one a line or
    comma-separated, plus the search results' quantity fields), the market, where the
    conversation happened, and the buyer's details as at the checkout."""

    items = forms.CharField(
        label=_("Items (SKU:quantity, one per line)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    market = forms.ChoiceField(label=_("Market"))
    source = forms.ChoiceField(label=_("Where the conversation happened"))

    def __init__(self, *args, markets, extra_quantities: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        from storefront.models import ChatSource

        self.markets = {str(m.pk): m for m in markets}
        self.fields["market"].choices = [(str(m.pk), m.name) for m in markets]
        self.fields["source"].choices = ChatSource.choices
        self.fields["name"].label = _("Buyer's name")
        self.fields["email"].label = _("Buyer's email (optional)")
        self.fields["note"].label = _("Note (optional)")
        self.fields["payment_method"].label = _("How the buyer pays")
        del self.fields["marketing_consent"]
        del self.fields["payment_reference"]
        self.extra_quantities = extra_quantities or {}
        self.order_fields(["items", "market", "source", "name", "phone", "email", "country", *self.address_keys])

    def buyer(self) -> dict:
        """The buyer's part of the order, as `chat_order_place` and `chat_draft_create` take it."""
        cd = self.cleaned_data
        return {
            "name": cd["name"],
            "phone": cd["phone"],
            "email": cd["email"],
            "address": self.address(),
            "payment_method": cd["payment_method"],
            "note": cd["note"],
        }

    def clean_market(self):
        market = self.markets.get(self.cleaned_data["market"])
        if market is None:
            raise forms.ValidationError(_("Choose a market."), code="market_invalid")
        return market

    def clean_items(self):
        from catalog.models import ProductVariant
        from storefront.cart import MAX_QUANTITY, CartItem

        wanted: dict[str, int] = {}
        errors = []
        entries = [e.strip() for e in self.cleaned_data["items"].replace(",", "\n").splitlines() if e.strip()]
        pairs = []
        for entry in entries:
            sku, sep, qty = entry.rpartition(":")
            if not sep:
                sku, qty = entry, "1"
            pairs.append((sku.strip(), qty))
        pairs += [(sku, qty) for sku, qty in self.extra_quantities.items() if (qty or "").strip()]
        for sku, qty in pairs:
            qty = ascii_digits(qty or "").strip()
            if not (qty.isascii() and qty.isdigit() and len(qty) < 6 and 1 <= int(qty) <= MAX_QUANTITY):
                errors.append(
                    _("“%(sku)s”: the quantity must be a whole number from 1 to %(max)d.")
                    % {"sku": sku[:60], "max": MAX_QUANTITY}
                )
                continue
            wanted[sku[:200]] = wanted.get(sku[:200], 0) + int(qty)
        known = set(ProductVariant.objects.filter(sku__in=list(wanted)).values_list("sku", flat=True))
        for sku in wanted:
            if sku not in known:
                errors.append(_("There is no variant with the SKU “%(sku)s”.") % {"sku": sku[:60]})
        for sku, qty in wanted.items():
            if qty > MAX_QUANTITY:
                errors.append(_("“%(sku)s”: at most %(max)d of one item.") % {"sku": sku[:60], "max": MAX_QUANTITY})
        if errors:
            raise forms.ValidationError(
                [forms.ValidationError(e, code=StorefrontErrorCode.CHAT_ITEMS_INVALID) for e in errors]
            )
        if not wanted:
            raise forms.ValidationError(_("Add at least one item."), code=StorefrontErrorCode.CART_EMPTY)
        return [CartItem(retailer_id=sku, quantity=qty) for sku, qty in wanted.items()]


def chat_order_form(data, *, shop, markets, methods, params, extra_quantities=None, initial=None) -> ChatOrderForm:
    """The chat order form for the market and country `params` name (else the first market and
    its first country): the address fields follow the country. The merchant page and the API
    build it the same way, so an order from either is checked alike."""
    market = next((m for m in markets if str(m.pk) == str(params.get("market") or "")), markets[0])
    countries = list(market.countries or [shop.country])
    chosen = str(params.get("country") or "").strip().upper()
    form = ChatOrderForm(
        data,
        markets=markets,
        extra_quantities=extra_quantities,
        countries=countries,
        methods=methods,
        country=chosen if chosen in countries else countries[0],
        initial=initial,
    )
    form.chosen_market = market
    return form
