"""tiktok_shop: authorisation flow and token lifecycle (see channels/adapters/auth.py).

The seller approves the app on TikTok's authorisation page (`service_id`, `state`); TikTok
sends the browser to the app's registered redirect URL with `code` and `state`; the code is
exchanged on TikTok's auth host (`/api/v2/token/get`) for an access token and a refresh token,
renewed with `/api/v2/token/refresh`; Get Authorized Shops names the shops and their ciphers.
Sources: docs/channels.md, "TikTok Shop (Open API 202309)".
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext_lazy

from channels.adapters.auth import AuthorizationRefused, ChannelAuth, ConnectChoice, TokenGrant, register
from channels.adapters.base import AdapterError, RateLimited, TransientError
from channels.adapters.tiktok_shop import TikTokShopAdapter

# The authorisation page of a non-US Partner Center app; US apps set
# TIKTOK_SHOP_AUTHORIZE_HOST=https://services.tiktokshops.us.
AUTHORIZE_HOST = "https://services.tiktokshop.com"
AUTHORIZE_PATH = "/open/authorize"
AUTH_HOST = "https://auth.tiktok-shops.com"
TOKEN_GET = "/api/v2/token/get"  # noqa: S105 (a path)
TOKEN_REFRESH = "/api/v2/token/refresh"  # noqa: S105 (a path)
# Envelope codes worth trying again later: too many requests, timeout, internal error.
TRANSIENT_CODES = {36009002, 36009003, 36009007}
# What TikTok's redirect says when the seller declined (`code=null&error=…`).
DECLINED = {
    "auth_denied": "The seller declined to authorise the app on TikTok Shop.",
    "access_denied": "The seller declined to authorise the app on TikTok Shop.",
}
# Details of the token answer shown to the merchant (never the tokens).
DETAIL_KEYS = ("seller_name", "seller_base_region", "open_id", "user_type", "granted_scopes")


def _when(value) -> dt.datetime | None:
    """`*_expire_in` is a Unix timestamp (TikTok's token docs), not a duration."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds > 0 else None


@register
class TikTokShopAuth(ChannelAuth):
    channel = "tiktok_shop"
    sandbox_prefix = "tiktok"
    choice_noun = gettext_lazy("shop")
    pasted_keys = ("access_token", "shop_cipher", "refresh_token")

    @classmethod
    def app_credentials(cls) -> dict[str, str]:
        return {
            "app_key": settings.TIKTOK_SHOP_APP_KEY,
            "app_secret": settings.TIKTOK_SHOP_APP_SECRET,
            "service_id": settings.TIKTOK_SHOP_SERVICE_ID,
        }

    # --- Hosts -------------------------------------------------------------------------------

    def _authorize_base(self) -> str:
        host = self.api_base_url or getattr(settings, "TIKTOK_SHOP_AUTHORIZE_HOST", "") or AUTHORIZE_HOST
        return host.rstrip("/") + AUTHORIZE_PATH

    def _auth_host(self) -> str:
        return self.api_base_url or AUTH_HOST

    def _api_host(self) -> str:
        return self.api_base_url or TikTokShopAdapter.api_host

    # --- The flow ----------------------------------------------------------------------------

    def authorize_url(self, *, state: str) -> str:
        return self.url(self._authorize_base(), service_id=self.app_credentials()["service_id"], state=state)

    @staticmethod
    def read_callback(params) -> tuple[str, str]:
        """`{redirect_url}?code=…&state=…`; a declined authorisation comes back as
        `code=null&error=auth_denied` (or `error=access_denied`)."""
        error = (params.get("error") or "").strip()
        code = (params.get("code") or params.get("auth_code") or "").strip()
        if error:
            return "", DECLINED.get(error, f"TikTok Shop did not authorise the app ({error}).")
        if code == "null":
            code = ""
        return code, ""

    def exchange_code(self, code: str) -> TokenGrant:
        return self._token_call(TOKEN_GET, auth_code=code, grant_type="authorized_code")

    def refresh(self, credentials: dict) -> TokenGrant:
        refresh_token = credentials.get("refresh_token") or ""
        if not refresh_token:
            raise AuthorizationRefused(
                "The account has no TikTok Shop refresh token, so its access token cannot be renewed. "
                "Reconnect the account."
            )
        app = self._app(credentials)
        return self._token_call(TOKEN_REFRESH, app=app, refresh_token=refresh_token, grant_type="refresh_token")

    def choices(self, credentials: dict) -> list[ConnectChoice]:
        return [
            ConnectChoice(
                id=str(shop.get("id") or shop.get("cipher")),
                label=str(shop.get("name") or shop.get("code") or shop.get("id")),
                detail=str(shop.get("region") or ""),
                credentials={"shop_cipher": str(shop.get("cipher") or ""), "shop_id": str(shop.get("id") or "")},
            )
            for shop in self._shops(credentials)
        ]

    def check(self, credentials: dict) -> TokenGrant:
        """Pasted {access_token, shop_cipher[, refresh_token]}: Get Authorized Shops must
        answer for the token and list the cipher among its shops."""
        cipher = (credentials.get("shop_cipher") or "").strip()
        if not (credentials.get("access_token") or "").strip() or not cipher:
            raise AuthorizationRefused("TikTok Shop needs an access token and a shop cipher.")
        shops = self._shops(credentials)
        shop = next((s for s in shops if str(s.get("cipher")) == cipher), None)
        if shop is None:
            raise AuthorizationRefused(
                "TikTok Shop does not list this shop cipher among the shops the access token is authorised for "
                f"({len(shops)} shop(s)). Copy the cipher of one of them from Get Authorized Shops, or connect "
                "the account instead."
            )
        kept = {k: str(v).strip() for k, v in credentials.items() if v not in (None, "")}
        return TokenGrant(
            credentials=kept,
            details={"shop_name": str(shop.get("name") or ""), "region": str(shop.get("region") or "")},
        )

    # --- Calls -------------------------------------------------------------------------------

    def _app(self, credentials: dict | None = None) -> dict[str, str]:
        """The account's own app (a partner's) when it brings one, else the deployment's."""
        credentials = credentials or {}
        if credentials.get("app_key") and credentials.get("app_secret"):
            return {"app_key": credentials["app_key"], "app_secret": credentials["app_secret"]}
        app = self.app_credentials()
        return {"app_key": app["app_key"], "app_secret": app["app_secret"]}

    def _token_call(self, path: str, *, app: dict | None = None, **params) -> TokenGrant:
        app = app or self._app()
        client = self.client(self._auth_host())
        try:
            response = client.request("GET", path, params={**app, **params})
        finally:
            client.close()
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(f"TikTok Shop's auth host answered {response.status_code} without JSON.") from exc
        code = body.get("code") if isinstance(body, dict) else None
        message = str((body or {}).get("message") or "").strip() if isinstance(body, dict) else ""
        if code != 0:
            if code in TRANSIENT_CODES:
                raise TransientError(f"TikTok Shop could not answer now: {message} (code {code}).", code=str(code))
            raise AuthorizationRefused(
                f"TikTok Shop refused: {message or 'no reason given'} (code {code}).",
                status=response.status_code,
                code=str(code),
                body={"code": code, "message": message, "request_id": body.get("request_id", "")},
            )
        data = body.get("data") or {}
        if not data.get("access_token"):
            raise AuthorizationRefused("TikTok Shop answered without an access token.")
        tokens = {"access_token": str(data["access_token"])}
        if data.get("refresh_token"):
            tokens["refresh_token"] = str(data["refresh_token"])
        return TokenGrant(
            credentials=tokens,
            access_expires_at=_when(data.get("access_token_expire_in")),
            refresh_expires_at=_when(data.get("refresh_token_expire_in")),
            details={k: data[k] for k in DETAIL_KEYS if data.get(k) not in (None, "", [])},
        )

    def _shops(self, credentials: dict) -> list[dict]:
        """Get Authorized Shops through the adapter (its signing and envelope), with the
        token's app; TikTok's refusals become AuthorizationRefused in TikTok's words."""
        app = self._app(credentials)
        adapter = TikTokShopAdapter(
            base_url=self._api_host(),
            credentials={**app, "access_token": credentials.get("access_token", "")},
            **self.client_options,
        )
        try:
            return adapter.authorized_shops()
        except (TransientError, RateLimited):
            raise
        except AdapterError as exc:
            if exc.body is None:
                raise
            message = str((exc.body or {}).get("message") or exc).strip()
            raise AuthorizationRefused(
                f"TikTok Shop refused the credentials: {message}", status=exc.status, code=exc.code, body=exc.body
            ) from exc
        finally:
            adapter.close()
