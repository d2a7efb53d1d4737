"""Forms of the orders UI: shapes only; services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.models import IssueAction


class FulfilForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    tracking_url = forms.URLField(label=_("Tracking URL"), max_length=500, required=False, assume_scheme="https")

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = [line for line in order.lines.all() if line.open_quantity] if order else []
        for line in self.order_lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.sku or line.channel_item_id} — {line.title}".strip(" —"),
                min_value=0,
                max_value=line.open_quantity,
                initial=line.open_quantity,
                required=False,
            )

    def picks(self) -> list[tuple[int, int]]:
        return [
            (line.pk, self.cleaned_data.get(f"line_{line.pk}") or 0)
            for line in self.order_lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=3, min_value=0)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    restock = forms.BooleanField(label=_("Put the items back in stock"), required=False)

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(order.lines.all()) if order else []
        for line in self.order_lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=_("Items of %(sku)s") % {"sku": line.sku or line.channel_item_id},
                min_value=0,
                max_value=line.quantity - line.quantity_refunded,
                initial=0,
                required=False,
            )

    def picks(self) -> list[tuple[int, int]]:
        return [
            (line.pk, self.cleaned_data.get(f"line_{line.pk}") or 0)
            for line in self.order_lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]


class IssueActForm(forms.Form):
    action = forms.ChoiceField(choices=IssueAction.choices)
    note = forms.CharField(max_length=1000, required=False)


class OrderSettingsForm(forms.Form):
    default_location = forms.ModelChoiceField(queryset=None, required=False, label=_("Default stock location"))
    retention_days = forms.IntegerField(
        required=False,
        min_value=30,
        label=_("Erase customers' personal data after (days)"),
        help_text=_("Counted from their last order; empty keeps it until you erase it."),
    )

    def __init__(self, *args, locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_location"].queryset = locations


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)
