"""Where a channel account may send its calls (and so its credentials): the channel's own
API host, or — where this deployment runs the sandbox — the sandbox on this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from channels.adapters import adapter_class
from channels.models import Channel


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == (urlsplit(settings.SITE_URL).hostname or "")


def api_base_url_problem(channel: str, url: str) -> str:
    """Why `url` may not be the account's API base URL, or "" when it may."""
    adapter = adapter_class(channel)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a URL.")
    host = (parts.hostname or "").lower()
    if parts.username or parts.password or parts.query or parts.fragment:
        return _("Give the address without user name, password, query or fragment.")
    if not adapter.api_host:
        return _("%(channel)s fetches our feed; it has no API address.") % {"channel": Channel(channel).label}
    official = urlsplit(adapter.api_host)
    if parts.scheme == "https" and host == official.hostname and port in (None, 443):
        return ""
    # The sandbox of this deployment, where it runs (development, tests, the demo).
    sandbox = parts.scheme in ("http", "https") and parts.path.startswith("/sandbox/") and _is_local(host)
    if settings.SANDBOX_ENABLED and sandbox:
        return ""
    # Strictest reading: the channel's own host only; anything else would receive the
    # merchant's credentials.
    return _("Use %(host)s (leave the field empty), the channel's own API; credentials are sent to this address.") % {
        "host": adapter.api_host
    }
