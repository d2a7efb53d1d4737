"""The checkout form (country-aware address fields from storefront.addresses) and the
merchant's storefront settings form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shopadmin.inputs import country_name
from shopadmin.numerals import ascii_digits
from storefront.addresses import address_fields, postcode_valid
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
            self.fields[spec.key] = forms.CharField(
                label=spec.label,
                required=spec.required,
                max_length=200,
                widget=forms.TextInput(attrs={"autocomplete": spec.autocomplete} if spec.autocomplete else {}),
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
