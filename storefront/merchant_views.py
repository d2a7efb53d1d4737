"""The merchant UI of the storefront: its settings (published, payment methods and their
instructions, click-to-chat, contact), with the shop's public addresses to share."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from channels.links import shop_home_url
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.roles import Perm
from storefront import services
from storefront.forms import StorefrontSettingsForm
from storefront.models import AUDITED_FIELDS


@shop_view()
def storefront_settings(request):
    current = services.settings_get()
    can_write = request.membership.has_perm(Perm.SHOP_SETTINGS)
    form = StorefrontSettingsForm(request.POST or None, instance=current)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if form.is_valid():
            try:
                services.storefront_settings_update(**{name: form.cleaned_data[name] for name in AUDITED_FIELDS})
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Storefront settings saved."))
                return redirect("storefront_app:settings", request.shop.slug)
    if not can_write:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "storefront/settings.html",
        {
            "form": form,
            "can_write": can_write,
            "home_url": shop_home_url(request.shop),
            "checkout_url": shop_home_url(request.shop) + "checkout/",
        },
    )
