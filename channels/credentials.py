"""What each channel needs to connect (DESIGN.md §11), and its validation.

The keys are a public contract: `POST /api/v1/channel-accounts/` takes exactly these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.adapters import ADAPTERS
from channels.models import Channel


@dataclass(frozen=True)
class CredentialSpec:
    key: str
    # Lazy: shown in the connect form in the viewer's language.
    label: str
    help: str
    secret: bool = True
    pattern: str | None = None
    pattern_hint: str = ""


CREDENTIALS: dict[str, tuple[CredentialSpec, ...]] = {
    Channel.META: (
        CredentialSpec(
            "catalog_id",
            gettext_lazy("Catalog ID"),
            gettext_lazy("Commerce Manager → Catalog → Settings."),
            secret=False,
            pattern=r"^\d{1,30}$",
            pattern_hint=gettext_lazy("digits only"),
        ),
        CredentialSpec(
            "commerce_account_id",
            gettext_lazy("Commerce account ID"),
            gettext_lazy("Commerce Manager → Settings → Business assets."),
            secret=False,
            pattern=r"^\d{1,30}$",
            pattern_hint=gettext_lazy("digits only"),
        ),
        CredentialSpec(
            "access_token", gettext_lazy("System user access token"), gettext_lazy("Business Settings → System users.")
        ),
        CredentialSpec(
            "app_secret", gettext_lazy("App secret"), gettext_lazy("App dashboard → Settings → Basic; signs webhooks.")
        ),
        CredentialSpec(
            "verify_token",
            gettext_lazy("Webhook verify token"),
            gettext_lazy("Any string you choose; enter the same in the app dashboard."),
        ),
    ),
    Channel.TIKTOK_SHOP: (
        CredentialSpec(
            "app_key", gettext_lazy("App key"), gettext_lazy("Partner Center → App & Service."), secret=False
        ),
        CredentialSpec(
            "app_secret",
            gettext_lazy("App secret"),
            gettext_lazy("Partner Center → App & Service; signs every request."),
        ),
        CredentialSpec("access_token", gettext_lazy("Access token"), gettext_lazy("From the shop authorisation.")),
        CredentialSpec(
            "shop_cipher",
            gettext_lazy("Shop cipher"),
            gettext_lazy("From GET /authorization/202309/shops."),
            secret=False,
        ),
    ),
    Channel.PINTEREST: (
        CredentialSpec(
            "access_token",
            gettext_lazy("Access token"),
            gettext_lazy("An OAuth token with catalogs:read and catalogs:write."),
        ),
        CredentialSpec(
            "ad_account_id",
            gettext_lazy("Ad account ID"),
            gettext_lazy("Ads Manager → Overview."),
            secret=False,
            pattern=r"^\d{1,30}$",
            pattern_hint=gettext_lazy("digits only"),
        ),
    ),
    # Feed-only channels fetch our feed URL; they need nothing from us.
    Channel.SNAPCHAT: (),
    Channel.GOOGLE_MERCHANT: (),
}

DEFAULT_API_BASE_URL: dict[str, str] = {
    Channel.META: f"https://graph.facebook.com/{settings.META_GRAPH_API_VERSION}",
    Channel.TIKTOK_SHOP: "https://open-api.tiktokglobalshop.com",
    Channel.PINTEREST: "https://api.pinterest.com",
    Channel.SNAPCHAT: "",
    Channel.GOOGLE_MERCHANT: "",
}

# Channels that send us webhooks (and so have a webhook URL worth showing).
WEBHOOK_CHANNELS = frozenset(channel for channel, cls in ADAPTERS.items() if cls.has_webhooks)


def credential_keys(channel: str) -> list[str]:
    return [spec.key for spec in CREDENTIALS.get(channel, ())]


def validate_credentials(channel: str, credentials: dict, *, partial: bool = False) -> dict[str, str]:
    """Clean `credentials` for `channel`; raise ValidationError keyed `credentials.<key>`.

    `partial` (an update): keys left out keep their stored value, so a merchant can change
    one secret without retyping the others.
    """
    if channel not in CREDENTIALS:
        raise ValidationError({"channel": _("Choose one of: %s.") % ", ".join(Channel.values)})
    if not isinstance(credentials, dict):
        raise ValidationError({"credentials": _("Send an object of credential keys and values.")})
    specs = {spec.key: spec for spec in CREDENTIALS[channel]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(credentials) - set(specs))
    for key in unknown:
        expected = ", ".join(specs) or _("none (this channel fetches a feed)")
        errors[f"credentials.{key}"] = [
            _("Unknown credential for %(channel)s; expected: %(expected)s.")
            % {"channel": Channel(channel).label, "expected": expected}
        ]
    cleaned: dict[str, str] = {}
    for key, spec in specs.items():
        if key not in credentials:
            if not partial:
                errors[f"credentials.{key}"] = [_("%(label)s is required.") % {"label": spec.label}]
            continue
        value = credentials[key]
        if not isinstance(value, str | int) or isinstance(value, bool):
            errors[f"credentials.{key}"] = [_("%(label)s must be a string.") % {"label": spec.label}]
            continue
        value = str(value).strip()
        if not value:
            errors[f"credentials.{key}"] = [_("%(label)s is required.") % {"label": spec.label}]
        elif len(value) > 2000:
            errors[f"credentials.{key}"] = [_("%(label)s is longer than 2,000 characters.") % {"label": spec.label}]
        elif spec.pattern and not re.fullmatch(spec.pattern, value):
            # The message names the expected shape, never the (possibly secret) value.
            errors[f"credentials.{key}"] = [
                _("%(label)s has the wrong shape: expected %(hint)s.")
                % {"label": spec.label, "hint": spec.pattern_hint}
            ]
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
