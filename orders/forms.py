"""Forms of the orders UI: shapes only; services decide what is allowed."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

from django import forms
from django.forms.forms import DeclarativeFieldsMetaclass
from django.utils.translation import gettext_lazy as _

from orders.models import DISCOUNT_CODE_MAX, DiscountCode, IssueAction, validate_discount_code
from shopadmin.inputs import LocalizedDecimalField, LocalizedIntegerField
from shopadmin.numerals import ascii_digits


class _AbstractFormMeta(DeclarativeFieldsMetaclass, ABCMeta):
    """A form class that may declare abstract methods."""


class OrderWriteForm(forms.Form, metaclass=_AbstractFormMeta):
    """The form of a write on an order (fulfil, cancel, refund). `arguments()` gives the service's
    keyword arguments, the same ones the API's body gives (orders.api): how many units a line
    still takes is the service's rule, so both doors refuse too many with the same message."""

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = []

    def _line_field(self, line, label, *, initial: int) -> None:
        self.order_lines.append(line)
        self.fields[f"line_{line.pk}"] = LocalizedIntegerField(
            label=label,
            min_value=0,
            initial=initial,
            required=False,
        )

    def picks(self) -> list[tuple[int, int]]:
        """(line id, quantity) of the lines given a quantity."""
        return [
            (line.pk, self.cleaned_data[f"line_{line.pk}"])
            for line in self.order_lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]

    @abstractmethod
    def arguments(self) -> dict:
        """The service's keyword arguments from the cleaned data."""


class FulfilForm(OrderWriteForm):
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    tracking_url = forms.URLField(label=_("Tracking URL"), max_length=500, required=False, assume_scheme="https")

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        for line in order.lines.all() if order else ():
            if line.open_quantity:
                label = f"{line.sku or line.channel_item_id} — {line.title}".strip(" —")
                self._line_field(line, label, initial=line.open_quantity)

    def arguments(self) -> dict:
        return {
            "lines": self.picks() or None,  # none picked: all open lines, as the API's body without lines
            "carrier": self.cleaned_data["carrier"],
            "tracking_number": self.cleaned_data["tracking_number"],
            "tracking_url": self.cleaned_data["tracking_url"],
        }


class CancelForm(OrderWriteForm):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def arguments(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class RefundForm(OrderWriteForm):
    amount = LocalizedDecimalField(label=_("Amount"), max_digits=14, decimal_places=3, min_value=0)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    restock = forms.BooleanField(label=_("Put the items back in stock"), required=False)

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        for line in order.lines.all() if order else ():
            label = _("Items of %(sku)s") % {"sku": line.sku or line.channel_item_id}
            self._line_field(line, label, initial=0)

    def arguments(self) -> dict:
        return {
            "amount": self.cleaned_data["amount"],
            "reason": self.cleaned_data["reason"],
            "lines": self.picks(),
            "restock": self.cleaned_data["restock"],
        }


class IssueActForm(forms.Form):
    action = forms.ChoiceField(choices=IssueAction.choices)
    note = forms.CharField(max_length=1000, required=False)


class OrderSettingsForm(forms.Form):
    default_location = forms.ModelChoiceField(queryset=None, required=False, label=_("Default stock location"))
    retention_days = LocalizedIntegerField(
        required=False,
        min_value=30,
        label=_("Erase customers' personal data after (days)"),
        help_text=_("Counted from their last order; empty keeps it until you erase it."),
    )

    def __init__(self, *args, locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_location"].queryset = locations


class _LocalDateTimeField(forms.DateTimeField):
    """A moment in the shop's time zone, picked with the browser's date and time picker (any digits typed)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = ascii_digits(value).strip()
        return super().to_python(value)


class DiscountCodeForm(forms.Form):
    """A discount code as the merchant writes it; the service checks what the shapes cannot."""

    code = forms.CharField(
        label=_("Code"),
        max_length=DISCOUNT_CODE_MAX,
        help_text=_("Letters, digits, “-” and “_”, e.g. SUMMER-10; upper and lower case are the same code."),
        validators=[validate_discount_code],
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "dir": "ltr"}),
    )
    kind = forms.ChoiceField(label=_("Discount"), choices=DiscountCode.Kind.choices, widget=forms.RadioSelect)
    value = LocalizedDecimalField(
        label=_("Percentage or amount"),
        max_digits=14,
        decimal_places=3,
        min_value=0,
        help_text=_("A percentage from 0 to 100, or an amount in %(currency)s."),
    )
    minimum_subtotal = LocalizedDecimalField(
        label=_("Minimum basket"),
        max_digits=14,
        decimal_places=3,
        min_value=0,
        required=False,
        help_text=_("In %(currency)s, before shipping; empty: any basket."),
    )
    usage_limit = LocalizedIntegerField(
        label=_("Usage limit"),
        min_value=1,
        required=False,
        help_text=_("How many orders may use it in all; empty: no limit."),
    )
    starts_at = _LocalDateTimeField(label=_("Starts"), required=False, help_text=_("Empty: from now."))
    ends_at = _LocalDateTimeField(label=_("Ends"), required=False, help_text=_("Empty: no end."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, currency: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("value", "minimum_subtotal"):
            field = self.fields[name]
            field.help_text = field.help_text % {"currency": currency}


# --- What each channel earns ------------------------------------------------------------------


class EarningsRangeForm(forms.Form):
    """The report's range (local days, both included) and whether campaigns get rows of their own."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    by = forms.ChoiceField(
        label=_("Rows"),
        choices=[("source", _("per source")), ("campaign", _("per source and campaign"))],
        required=False,
    )


class MonthField(forms.CharField):
    """A month as `2026-11` (what a month picker sends), or a day of it, in any digits."""

    default_error_messages = {"invalid": _("Enter a month such as 2026-11.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "2026-11", "maxlength": 20}))
        super().__init__(**kwargs)

    def to_python(self, value):
        from orders.services.ad_spend import _parse_month

        text = super().to_python(value)
        if text in self.empty_values:
            return None
        month = _parse_month(text[:20])
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month

    def prepare_value(self, value):
        return value.strftime("%Y-%m") if hasattr(value, "strftime") else value


class AdSpendForm(forms.Form):
    source = forms.CharField(
        label=_("Source"),
        max_length=40,
        help_text=_("Where the ads ran: facebook, instagram, meta, tiktok_shop, pinterest, snapchat, google_merchant…"),
        widget=forms.TextInput(attrs={"list": "known-sources", "autocomplete": "off"}),
    )
    month = MonthField(label=_("Month"))
    amount = LocalizedDecimalField(
        label=_("Amount spent"), max_digits=14, decimal_places=3, min_value=0, help_text=_("In the shop currency.")
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class AdSpendImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
