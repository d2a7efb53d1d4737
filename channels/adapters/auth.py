"""How a shop authorises this deployment's app on a channel, and how its tokens are kept alive.

Each channel with an authorisation flow has a `ChannelAuth` subclass in its own module
(`meta_auth`, `tiktok_shop_auth`, `pinterest_auth`); the connect views, the tasks and the
services (channels/connections.py) speak only this interface. The app's own credentials
(app key and secret, client id and secret) are platform settings, never the merchant's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlencode

from django.conf import settings

from channels.adapters.base import AdapterError, HttpClient


@dataclass
class TokenGrant:
    """What the channel handed over: the credentials the account stores (access token,
    refresh token, …) and when they stop working (None: the channel gave no expiry)."""

    credentials: dict
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    # What else the channel said about the authorisation (seller name, granted scopes, …),
    # shown to the merchant; never secrets.
    details: dict = field(default_factory=dict)


@dataclass
class ConnectChoice:
    """One thing the authorisation gives access to that an account can be connected to:
    a TikTok shop, a Pinterest ad account, a Meta catalog."""

    id: str
    label: str
    # Merged into the account's credentials when the merchant picks this one (shop cipher,
    # ad account id, catalog id, …).
    credentials: dict
    detail: str = ""


class AuthorizationRefused(AdapterError):
    """The channel refused the credentials or the code (wrong, expired, revoked, missing a
    permission): only the merchant can fix it, by connecting again. The message is the
    channel's reason in words."""


class ChannelAuth(ABC):
    """One channel's authorisation flow and token lifecycle."""

    channel: ClassVar[str]
    # The sandbox's URL prefix for this channel (/sandbox/<prefix>/…).
    sandbox_prefix: ClassVar[str]
    # What the merchant picks after authorising, in words ("shop", "ad account", "catalog").
    choice_noun: ClassVar[str] = ""
    # The credential keys a merchant (or a partner's API call) may paste instead of
    # authorising, in the order the form shows them.
    pasted_keys: ClassVar[tuple[str, ...]] = ()
    # Access tokens can be renewed without the merchant (a refresh token, or an exchange).
    refreshes: ClassVar[bool] = True

    def __init__(self, *, api_base_url: str = "", redirect_uri: str = "", **client_options):
        # Tests and the demo pass the sandbox's host; by default the channel's own hosts.
        self.api_base_url = (api_base_url or "").rstrip("/")
        if redirect_uri:
            # The callback the flow started with (the code exchange must name the same one),
            # whichever process finishes it.
            self.redirect_uri = lambda: redirect_uri
        self.client_options = client_options

    # --- Where things are -------------------------------------------------------------------

    @classmethod
    def sandbox_base(cls) -> str:
        return f"{settings.SITE_URL}/sandbox/{cls.sandbox_prefix}"

    @classmethod
    def uses_sandbox(cls) -> bool:
        return bool(settings.CHANNEL_CONNECT_SANDBOX and settings.SANDBOX_ENABLED)

    @classmethod
    def redirect_uri(cls) -> str:
        """Our callback, registered in the app's settings on the channel."""
        from django.urls import reverse

        return settings.SITE_URL + reverse("channel-connect-callback", args=[cls.channel])

    @classmethod
    def configured(cls) -> bool:
        """The deployment has an app on this channel (its id and secret are set)."""
        return all(cls.app_credentials().values())

    @classmethod
    @abstractmethod
    def app_credentials(cls) -> dict[str, str]: ...

    def client(self, base_url: str, headers: dict | None = None) -> HttpClient:
        return HttpClient(base_url, headers=headers or {}, **self.client_options)

    @staticmethod
    def url(base: str, **params) -> str:
        return f"{base}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"

    # --- The flow ---------------------------------------------------------------------------

    @abstractmethod
    def authorize_url(self, *, state: str) -> str:
        """The channel's consent page, where the merchant approves our app."""
        ...

    @staticmethod
    def read_callback(params) -> tuple[str, str]:
        """(code, refusal) from the query our callback received: the code, or the channel's
        reason the merchant (or the channel) declined, in words."""
        error = params.get("error_description") or params.get("error_reason") or params.get("error") or ""
        return (params.get("code") or params.get("auth_code") or "").strip(), error.strip()

    @abstractmethod
    def exchange_code(self, code: str) -> TokenGrant:
        """The code our callback received, exchanged for tokens. Raises AuthorizationRefused."""
        ...

    @abstractmethod
    def refresh(self, credentials: dict) -> TokenGrant:
        """New tokens before the access token expires. Raises AuthorizationRefused when the
        channel will not (refresh token expired or revoked): the merchant must reconnect."""
        ...

    @abstractmethod
    def choices(self, credentials: dict) -> list[ConnectChoice]:
        """What the tokens give access to (shops, ad accounts, catalogs), read from the channel."""
        ...

    @abstractmethod
    def check(self, credentials: dict) -> TokenGrant:
        """Pasted credentials, tried with one harmless read (Meta: the catalog; TikTok: the
        authorised shops; Pinterest: the ad account). Returns them as a grant (with an expiry
        when the channel tells one); raises AuthorizationRefused with the channel's reason."""
        ...


AUTH_CLASSES: dict[str, type[ChannelAuth]] = {}


def register(cls: type[ChannelAuth]) -> type[ChannelAuth]:
    AUTH_CLASSES[cls.channel] = cls
    return cls


def auth_class(channel: str) -> type[ChannelAuth] | None:
    """The channel's authorisation flow; None for a feed-only channel (nothing to authorise)."""
    # The channel modules register themselves on import.
    from channels.adapters import meta_auth, pinterest_auth, tiktok_shop_auth  # noqa: F401

    return AUTH_CLASSES.get(channel)


def auth_for(channel: str, *, api_base_url: str = "", redirect_uri: str = "", **client_options) -> ChannelAuth:
    cls = auth_class(channel)
    if cls is None:
        raise AdapterError(f"{channel} has no authorisation flow")
    if not api_base_url and cls.uses_sandbox():
        api_base_url = cls.sandbox_base()
    return cls(api_base_url=api_base_url, redirect_uri=redirect_uri, **client_options)
