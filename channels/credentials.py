"""What each channel needs to connect (DESIGN.md §11), and its validation.

The keys are a public contract: `POST /api/v1/channel-accounts/` takes exactly these.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from channels.adapters import ADAPTERS
from channels.adapters.base import CredentialSpec
from channels.errors import ChannelsErrorCode
from channels.models import Channel

CREDENTIALS: dict[str, tuple[CredentialSpec, ...]] = {
    channel: cls.credential_specs for channel, cls in ADAPTERS.items()
}


def default_api_base_url(channel: str) -> str:
    """The channel's own API (read when asked: the API version is a setting)."""
    cls = ADAPTERS.get(channel)
    return cls.default_base_url() if cls else ""


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
        raise ValidationError(
            {
                "channel": ValidationError(
                    _("Choose one of: %s.") % ", ".join(Channel.values), code=ChannelsErrorCode.UNKNOWN_CHANNEL
                )
            }
        )
    if not isinstance(credentials, dict):
        raise ValidationError(
            {
                "credentials": ValidationError(
                    _("Send an object of credential keys and values."), code=ChannelsErrorCode.CREDENTIAL_INVALID
                )
            }
        )
    specs = {spec.key: spec for spec in CREDENTIALS[channel]}
    errors: dict[str, list[ValidationError]] = {}
    unknown = sorted(set(credentials) - set(specs))
    for key in unknown:
        expected = ", ".join(specs) or _("none (this channel fetches a feed)")
        errors[f"credentials.{key}"] = [
            ValidationError(
                _("Unknown credential for %(channel)s; expected: %(expected)s.")
                % {"channel": Channel(channel).label, "expected": expected},
                code=ChannelsErrorCode.UNKNOWN_CREDENTIAL,
            )
        ]
    cleaned: dict[str, str] = {}
    for key, spec in specs.items():
        if key not in credentials or (not spec.required and credentials[key] in ("", None)):
            if not partial and spec.required:
                errors[f"credentials.{key}"] = [
                    ValidationError(
                        _("%(label)s is required.") % {"label": spec.label}, code=ChannelsErrorCode.CREDENTIAL_REQUIRED
                    )
                ]
            continue
        value = credentials[key]
        if not isinstance(value, str | int) or isinstance(value, bool):
            errors[f"credentials.{key}"] = [
                ValidationError(
                    _("%(label)s must be a string.") % {"label": spec.label}, code=ChannelsErrorCode.CREDENTIAL_INVALID
                )
            ]
            continue
        value = str(value).strip()
        if not value:
            errors[f"credentials.{key}"] = [
                ValidationError(
                    _("%(label)s is required.") % {"label": spec.label}, code=ChannelsErrorCode.CREDENTIAL_REQUIRED
                )
            ]
        elif len(value) > 2000:
            errors[f"credentials.{key}"] = [
                ValidationError(
                    _("%(label)s is longer than 2,000 characters.") % {"label": spec.label},
                    code=ChannelsErrorCode.CREDENTIAL_INVALID,
                )
            ]
        elif spec.pattern and not re.fullmatch(spec.pattern, value):
            # The message names the expected shape, never the (possibly secret) value.
            errors[f"credentials.{key}"] = [
                ValidationError(
                    _("%(label)s has the wrong shape: expected %(hint)s.")
                    % {"label": spec.label, "hint": spec.pattern_hint},
                    code=ChannelsErrorCode.CREDENTIAL_INVALID,
                )
            ]
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
