"""Merchant forms: the connect/edit form grows one field per credential of its channel."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from channels.account_methods import (
    CHECKOUT_METHOD_HELP,
    PUBLISH_METHOD_HELP,
    CheckoutMethod,
    PublishMethod,
    checkout_method_error,
    checkout_methods,
    publish_method_error,
    publish_methods,
)
from channels.credentials import CREDENTIALS, default_api_base_url
from channels.services import market_choice_label
from localization.models import Market
from shopadmin.forms import add_service_errors


class MarketsField(forms.TypedMultipleChoiceField):
    """The shop's markets as checkboxes; an empty value sent along (no box ticked) is none."""

    def to_python(self, value):
        return [v for v in super().to_python(value) if v not in ("", None)]


class ChannelAccountForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    api_base_url = forms.CharField(
        label=_("API base URL"),
        required=False,
        max_length=300,
        help_text=_("Leave empty for the channel's own API; the sandbox URL for testing."),
    )
    markets = MarketsField(
        label=_("Markets"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # none ticked: the shop's home market
        help_text=_(
            "The shop's markets this account sells in, each in its currency and first language. "
            "None ticked: the home market. Add a market under Markets first."
        ),
    )

    def __init__(self, *args, channel: str, editing: bool = False, credential_keys=None, account=None, **kwargs):
        """`credential_keys`: the credentials the form asks for (None: all the channel's; an
        authorisation on the channel's page asks for none, nor for the API address).
        `account`: the account being edited (its markets are ticked); a new one ticks the home
        market. Only the current shop's active markets are offered."""
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.editing = editing
        self.shop_markets = list(Market.objects.filter(is_active=True).order_by("-is_home", "name"))
        self.fields["markets"].choices = [(m.pk, market_choice_label(m)) for m in self.shop_markets]
        if not self.is_bound:
            self.initial["markets"] = self._ticked(account)
        self.specs = [spec for spec in CREDENTIALS[channel] if credential_keys is None or spec.key in credential_keys]
        if credential_keys is not None and not credential_keys and not editing:
            del self.fields["api_base_url"]
        else:
            self.fields["api_base_url"].widget.attrs["placeholder"] = default_api_base_url(channel)
        # The choices the channel offers (none: the field is left out and the value is fixed).
        publish = publish_methods(channel)
        if len(publish) > 1:
            self.fields["publish_method"] = forms.ChoiceField(
                label=_("How listings reach the channel"),
                choices=[(value, PublishMethod(value).label) for value in publish],
                initial=publish[0],
                required=False,  # left out: the default on connect, the stored value on edit
                widget=forms.RadioSelect,
                help_text=PUBLISH_METHOD_HELP,
            )
        checkout = checkout_methods(channel)
        if checkout:
            self.fields["checkout_method"] = forms.ChoiceField(
                label=_("Where buyers pay"),
                choices=[(value, CheckoutMethod(value).label) for value in checkout],
                initial=checkout[0],
                required=False,
                widget=forms.RadioSelect,
                help_text=CHECKOUT_METHOD_HELP,
            )
        for spec in self.specs:
            help_text = spec.help
            if editing:
                help_text = f"{help_text} " + str(_("Leave empty to keep the stored value."))
            widget = (
                forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
                if spec.secret
                else forms.TextInput(attrs={"autocomplete": "off"})
            )
            self.fields[f"cred_{spec.key}"] = forms.CharField(
                label=spec.label,
                required=spec.required and not editing,
                help_text=help_text,
                widget=widget,
                max_length=2000,
            )

    @property
    def account_fields(self):
        return [field for field in self if not field.name.startswith("cred_")]

    @property
    def credential_fields(self):
        return [field for field in self if field.name.startswith("cred_")]

    @property
    def credential_errors(self) -> bool:
        return any(field.errors for field in self.credential_fields)

    def credentials(self) -> dict[str, str]:
        """What was entered; an optional credential left empty is left out."""
        values = {}
        for spec in self.specs:
            value = (self.cleaned_data.get(f"cred_{spec.key}") or "").strip()
            if value or (spec.required and not self.editing):
                values[spec.key] = value
        return values

    def clean(self):
        cleaned = super().clean()
        # A channel with one publish method (or no checkout choice) shows no field for it; a
        # value sent anyway must still be one the channel allows.
        for name, error_of in (("publish_method", publish_method_error), ("checkout_method", checkout_method_error)):
            value = self.data.get(name) if name not in self.fields else None
            if value and (message := error_of(self.channel, value)):
                self.add_error(None, message)
        return cleaned

    def methods(self) -> dict[str, str]:
        """publish_method and checkout_method as chosen, for the fields the channel offers."""
        return {
            name: self.cleaned_data[name]
            for name in ("publish_method", "checkout_method")
            if name in self.fields and self.cleaned_data.get(name)
        }

    def _ticked(self, account) -> list[int]:
        """The markets an account sells in (none stored: the home market), as offered ids."""
        from channels.items import market_for

        offered = {m.pk for m in self.shop_markets}
        if account is None or not account.markets:
            return [m.pk for m in self.shop_markets if m.is_home][:1]
        ticked = []
        for entry in account.markets:
            market = market_for(entry)
            if market is not None and market.pk in offered and market.pk not in ticked:
                ticked.append(market.pk)
        return ticked

    def market_choices(self) -> list[dict]:
        """The ticked markets as the connection services take them (one entry per market)."""
        return [{"market_id": pk} for pk in self.cleaned_data.get("markets") or []]

    def apply_errors(self, exc) -> None:
        """Put a service's ValidationError on the matching fields (credentials.x → cred_x)."""
        add_service_errors(self, exc, field_for=_service_field)


def _service_field(key: str) -> str:
    """The form field of a connection service's error key: credentials.x → cred_x, markets.* → markets."""
    if key.startswith("credentials."):
        return f"cred_{key.split('.', 1)[1]}"
    if key.startswith("markets"):
        return "markets"
    return key
