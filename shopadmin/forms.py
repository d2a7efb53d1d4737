from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from shopadmin.models import ApiScope, Shop
from shopadmin.roles import Role
from shopadmin.validators import timezone_names


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ShopSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[(n, n) for n in timezone_names()])

    class Meta:
        model = Shop
        fields = ["name", "default_currency", "default_language", "country", "timezone"]
        labels = {
            "default_currency": _("Default currency"),
            "default_language": _("Default language"),
        }

    def clean_default_currency(self):
        return self.cleaned_data["default_currency"].strip().upper()

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Who uses it, e.g. “ERP sync”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )
