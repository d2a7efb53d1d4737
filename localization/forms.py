from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from localization.models import DdpPricing, DutyMode, RateMode, ShippingKind
from localization.money import ROUNDING_PRESETS
from shopadmin.inputs import (
    CountryChoiceField,
    CountryMultipleChoiceField,
    CurrencyChoiceField,
    LocalizedDecimalField,
    LocalizedIntegerField,
)

ADJUSTMENT_HELP = _("Positive raises prices: +2.5 makes a €10.00 price €10.25; -2.5 lowers it.")


class CodesField(forms.CharField):
    """Comma- or space-separated codes, e.g. “FR, DE IT”."""

    def __init__(self, *, upper=True, **kwargs):
        self.upper = upper
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value) or ""
        parts = [p for p in value.replace(",", " ").split() if p]
        return [p.upper() for p in parts] if self.upper else parts

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value


class MarketForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    countries = CountryMultipleChoiceField(label=_("Countries"), help_text=_("Tick every country of the market."))
    currency = CurrencyChoiceField(label=_("Currency"))
    languages = CodesField(
        label=_("Languages"), upper=False, help_text=_("Language tags, the first is the default: fr, de, en")
    )
    tax_inclusive = forms.BooleanField(required=False, label=_("Show prices with tax included"))
    duty_mode = forms.ChoiceField(label=_("Duties"), choices=DutyMode.choices)
    ddp_pricing = forms.ChoiceField(choices=DdpPricing.choices, label=_("In DDP markets"))
    rate_mode = forms.ChoiceField(choices=RateMode.choices, label=_("Exchange rate"))
    adjustment_percent = LocalizedDecimalField(
        max_digits=7, decimal_places=3, initial=0, label=_("Price adjustment (%)"), help_text=ADJUSTMENT_HELP
    )
    rounding = forms.ChoiceField(
        label=_("Rounding"),
        choices=[(k, label) for k, (label, _rule) in ROUNDING_PRESETS.items()],
        help_text=_("Endings such as .99 need a currency with decimals; use nearest 100 for JPY."),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))


class ManualRateForm(forms.Form):
    base = CurrencyChoiceField(label=_("Base currency"))
    quote = CurrencyChoiceField(label=_("Quote currency"))
    rate = LocalizedDecimalField(
        label=_("Rate"), max_digits=20, decimal_places=10, min_value=0, help_text=_("1 base = rate quote")
    )


class QuoteForm(forms.Form):
    destination_country = CountryChoiceField(label=_("Destination country"))
    destination_region = forms.CharField(
        label=_("Region"), max_length=3, required=False, help_text=_("State or province, e.g. CA or ON")
    )
    origin_country = CountryChoiceField(label=_("Origin country"), required=False)
    currency = CurrencyChoiceField(label=_("Currency"))
    quote_currency = CurrencyChoiceField(
        label=_("Quote currency"), required=False, empty_label=_("Destination's currency")
    )
    incoterm = forms.ChoiceField(label=_("Incoterm"), choices=[("DDP", "DDP"), ("DAP", "DAP")])
    shipping = LocalizedDecimalField(label=_("Shipping"), min_value=0, initial=0, decimal_places=2)
    insurance = LocalizedDecimalField(label=_("Insurance"), min_value=0, initial=0, decimal_places=2)
    tax_rate = LocalizedDecimalField(
        label=_("Tax rate"),
        min_value=0,
        max_value=1,
        required=False,
        decimal_places=5,
        help_text=_("Optional override, e.g. 0.20"),
    )
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Quote as of this date (default today)."),
    )
    shipping_rate = forms.TypedChoiceField(
        label=_("Shipping rate"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("None: use the shipping amount"))],
        help_text=_("Instead of the shipping amount: what the rate costs for the items' weight and value."),
    )

    def offer_shipping_rates(self, groups: list[tuple[str, list[tuple[int, str]]]]) -> None:
        """The shop's shipping rates to pick from, grouped by market: [(market, [(id, label)])]."""
        self.fields["shipping_rate"].choices = [("", _("None: use the shipping amount")), *groups]


class QuoteItemForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), required=False)
    description = forms.CharField(label=_("Description"), required=False)
    hs_code = forms.CharField(required=False, label=_("HS code"))
    unit_price = LocalizedDecimalField(label=_("Unit price"), required=False, min_value=0, decimal_places=4)
    quantity = LocalizedIntegerField(label=_("Quantity"), min_value=1, initial=1, required=False)
    weight_kg = LocalizedDecimalField(label=_("Weight (kg)"), required=False, min_value=0, decimal_places=3)
    origin_country = CountryChoiceField(label=_("Origin country"), required=False)
    # Ad valorem, as a fraction: overrides the dataset's rate for the item, as in the API.
    duty_rate = LocalizedDecimalField(label=_("Duty rate"), required=False, min_value=0, max_value=10, decimal_places=5)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The items are a table: the column heads name the fields for the eye, these for a screen reader.
        number = int(self.prefix.rsplit("-", 1)[-1]) + 1 if self.prefix and self.prefix[-1].isdigit() else 1
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = _("Item %(n)d: %(field)s") % {"n": number, "field": field.label}


QuoteItemFormSet = forms.formset_factory(QuoteItemForm, extra=5, max_num=20)


class PriceOverrideForm(forms.Form):
    sku = forms.CharField(label=_("SKU"))
    fixed_price = LocalizedDecimalField(
        label=_("Fixed price"), required=False, min_value=0, decimal_places=4, help_text=_("Overrides the rule")
    )
    compare_at_price = LocalizedDecimalField(label=_("Compare-at price"), required=False, min_value=0, decimal_places=4)
    sale_price = LocalizedDecimalField(label=_("Sale price"), required=False, min_value=0, decimal_places=4)
    sale_starts_at = forms.DateTimeField(label=_("Sale starts"), required=False, help_text=_("e.g. 2026-12-01 00:00"))
    sale_ends_at = forms.DateTimeField(label=_("Sale ends"), required=False)


class ShopTaxRateForm(forms.Form):
    country = CountryChoiceField(label=_("Country"))
    region = forms.CharField(
        label=_("Region"), max_length=3, required=False, help_text=_("State or province, e.g. CA or ON")
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[
            ("standard", _("Standard")),
            ("reduced", _("Reduced")),
            ("zero", _("Zero-rated")),
            ("exempt", _("Exempt")),
        ],
    )
    rate = LocalizedDecimalField(
        label=_("Rate"),
        min_value=0,
        max_value=Decimal("0.99999"),
        decimal_places=5,
        help_text=_("As a fraction: 0.20 is 20%"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


MAX_GRAMS = 2_147_483_647  # PostgreSQL's integer


class ShippingRateForm(forms.Form):
    """A market's shipping rate; the amounts are in the market's currency (named in the labels)."""

    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("Buyers see it as you write it, e.g. “Courier, 2–3 days”.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ShippingKind.choices, widget=forms.RadioSelect)
    amount = LocalizedDecimalField(
        label=_("Amount"),
        min_value=0,
        max_digits=14,
        decimal_places=4,
        initial=0,
        help_text=_("Flat: the price. By weight: the base amount. Free over: the price below the threshold."),
    )
    per_kg_amount = LocalizedDecimalField(
        label=_("Amount per kg"),
        min_value=0,
        max_digits=14,
        decimal_places=4,
        required=False,
        help_text=_("By weight only: added for every started kilogram (1,001 g counts as 2 kg)."),
    )
    free_over = LocalizedDecimalField(
        label=_("Free from a subtotal of"),
        min_value=0,
        max_digits=14,
        decimal_places=4,
        required=False,
        help_text=_("Free over only: shipping is free when the basket subtotal is at least this amount."),
    )
    min_weight_grams = LocalizedIntegerField(
        label=_("Minimum weight (g)"),
        min_value=0,
        max_value=MAX_GRAMS,
        required=False,
        help_text=_("Offered only for parcels of at least this weight; empty: no minimum."),
    )
    max_weight_grams = LocalizedIntegerField(
        label=_("Maximum weight (g)"),
        min_value=0,
        max_value=MAX_GRAMS,
        required=False,
        help_text=_("Offered only for parcels of at most this weight; empty: no maximum."),
    )
    position = LocalizedIntegerField(
        label=_("Position"),
        min_value=0,
        max_value=MAX_GRAMS,
        initial=0,
        help_text=_("Lower first in the buyer's list; equal positions: cheapest first."),
    )
    is_active = forms.BooleanField(label=_("Offered to buyers"), required=False, initial=True)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("amount", "per_kg_amount", "free_over"):
            field = self.fields[name]
            field.label = _("%(label)s (%(currency)s)") % {"label": field.label, "currency": currency}

    def clean(self):
        data = super().clean()
        # An amount per kg or a threshold left empty for its kind is a missing field, said on the field.
        if data.get("kind") == ShippingKind.WEIGHT and data.get("per_kg_amount") is None:
            self.add_error("per_kg_amount", _("A rate by weight needs its amount per kg (0 for none)."))
        if data.get("kind") == ShippingKind.FREE_OVER and data.get("free_over") is None:
            self.add_error("free_over", _("Say from which basket subtotal shipping is free."))
        return data
