"""Sign-in throttling (django-axes): per account and per address, on every sign-in form.

After LOGIN_FAILURE_LIMIT wrong passwords for one email address, or from one client
address, further attempts are refused for LOGIN_LOCKOUT_MINUTES — even with the right
password — on /accounts/login/ and /admin/login/. The page says so in the user's language;
the lockout is logged (logger shopadmin.security) and written to the audit log of each shop
the account belongs to. Operators unlock early
with `manage.py axes_reset` (everything), `axes_reset_username EMAIL` or `axes_reset_ip IP`.

API keys are not passwords and never go through this: the API has its own rate limit.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.dispatch import receiver
from django.shortcuts import render
from django.utils.translation import gettext as _

from shopadmin.audit import Actor, acting_as, audit_record
from shopadmin.models import Door
from shopadmin.tenancy import all_shops_access, shop_context

logger = logging.getLogger("shopadmin.security")


def username(request, credentials) -> str:
    """One account, however its address is typed: `Alice@Example.com ` is alice@example.com."""
    credentials = credentials or {}
    value = credentials.get(settings.AXES_USERNAME_FORM_FIELD) or credentials.get("email")
    if value is None and request is not None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD, "")
    return (value or "").strip().lower()[:255]


def client_ip(request) -> str:
    """The client's address; behind LOGIN_TRUSTED_PROXIES proxies, read from X-Forwarded-For."""
    proxies = getattr(settings, "LOGIN_TRUSTED_PROXIES", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def lockout_message() -> str:
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return _(
        "Too many failed sign-in attempts. For your security, signing in is paused for %(minutes)d "
        "minutes for this account and this address. Try again later, or reset your password."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    return render(
        request,
        "registration/locked_out.html",
        {"message": lockout_message(), "is_admin": request.path.startswith("/admin/")},
        status=429,
    )


def _on_locked_out(sender, request, username, ip_address, **kwargs):
    """Log every lockout; audit it in each shop the account belongs to (its owners see it)."""
    from shopadmin.models import Membership, User

    path = getattr(request, "path", "")
    logger.warning("sign-in locked out: account %r, address %s, %s", username, ip_address, path)
    user = User.objects.filter(email__iexact=username or "").first()
    if user is None:
        return
    with all_shops_access():
        shop_ids = list(Membership.objects.filter(user=user).values_list("shop_id", flat=True))
    door = Door.ADMIN if path.startswith("/admin/") else Door.UI
    for shop_id in shop_ids:
        with shop_context(shop_id), acting_as(Actor(door=door, label=f"sign-in from {ip_address}")):
            audit_record(
                action="auth.locked_out",
                instance=user,
                shop_id=shop_id,
                object_repr=user.email,
                changes={"ip_address": ip_address, "path": path},
            )


def connect_signals() -> None:
    from axes.signals import user_locked_out

    receiver(user_locked_out, dispatch_uid="shopadmin.login_throttle.audit")(_on_locked_out)
