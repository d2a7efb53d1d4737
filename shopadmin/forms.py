from collections.abc import Callable

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from shopadmin.inputs import CountryChoiceField, CurrencyChoiceField
from shopadmin.models import ApiScope, Shop
from shopadmin.roles import Role
from shopadmin.validators import timezone_names


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, *, field_for: Callable[[str], str] | None = None
) -> None:
    """Put a service's ValidationError on the form's fields (on top when it names none of them).

    `field_for` maps a key of the service's error to the form's field where the two are named
    differently (a connect form's `cred_token` for the service's `credentials.token`).
    """
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    for key, messages in errors.items():
        field = field_for(key) if field_for else key
        form.add_error(field if field in form.fields else None, messages)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ShopSettingsForm(forms.ModelForm):
    default_currency = CurrencyChoiceField(label=_("Default currency"))
    country = CountryChoiceField(label=_("Country"))
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[(n, n) for n in timezone_names()])

    class Meta:
        model = Shop
        fields = ["name", "default_currency", "default_language", "country", "timezone"]
        labels = {
            "name": _("Name"),
            "default_currency": _("Default currency"),
            "default_language": _("Default language"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["default_currency"].put_first(self.instance.default_currency)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Who uses it, e.g. “ERP sync”."))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)
