"""API-key authentication: `Authorization: Bearer <key>` selects the shop and the scopes."""

import datetime as dt

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from shopadmin.audit import Actor, set_actor
from shopadmin.models import ApiKey, Door
from shopadmin.tenancy import TenantContext, all_shops_access, set_context

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiClient:
    """The principal of an API request: the key, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.pk = None

    def __str__(self):
        return f"API key {self.api_key.name}"


def _is_token(value: str) -> bool:
    """Keys are printable ASCII without spaces; anything else cannot be a key."""
    return bool(value) and all(33 <= ord(char) <= 126 for char in value)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        # The header as the server decoded it (latin-1 under WSGI and ASGI); never re-encoded,
        # so no character can make this fail.
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not isinstance(header, str):
            header = header.decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.strip().partition(" ")
        key = key.strip()
        # The scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are "Bearer".
        if scheme.lower() != self.keyword.lower() or not key:
            raise exceptions.AuthenticationFailed("Use the header `Authorization: Bearer <api key>`.")
        if not _is_token(key) or len(key) > 200:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        prefix = ApiKey.parse_prefix(key)
        api_key = None
        if prefix:
            # Platform lookup: the key itself says which shop it belongs to.
            with all_shops_access():
                candidates = ApiKey.all_shops.select_related("shop").filter(prefix=prefix)
                api_key = next((c for c in candidates if c.matches(key)), None)
        if api_key is None or not api_key.shop.is_active:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")

        set_context(TenantContext(shop_id=api_key.shop_id))
        set_actor(Actor(door=Door.API, api_key=api_key))
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        request.shop = api_key.shop
        return ApiClient(api_key), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "shopadmin.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key created in the merchant UI (Settings → API keys).",
        }
