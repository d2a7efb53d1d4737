from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from shopadmin.models import ApiScope, Shop
from shopadmin.roles import Role
from shopadmin.validators import timezone_names, validate_country_code, validate_currency_code


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ShopSettingsForm(forms.ModelForm):
    # Wider than the column so a wrong code gets the validator's explanation, not a length error.
    default_currency = forms.CharField(
        label=_("Default currency"),
        max_length=10,
        validators=[validate_currency_code],
        help_text=_("ISO 4217, e.g. USD"),
    )
    country = forms.CharField(
        label=_("Country"), max_length=10, validators=[validate_country_code], help_text=_("ISO 3166-1, e.g. US")
    )
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
        if self.data:
            # Codes are case-insensitive to type; they are stored upper-case.
            self.data = self.data.copy()
            for name in ("default_currency", "country"):
                if name in self.data:
                    self.data[name] = self.data[name].strip().upper()


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Who uses it, e.g. “ERP sync”."))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)
