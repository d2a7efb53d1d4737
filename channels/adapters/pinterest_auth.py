"""Pinterest: OAuth 2.0 authorization code flow and token lifecycle (see channels/adapters/auth.py).

The merchant approves our app on https://www.pinterest.com/oauth/; the code comes back to our
callback and is exchanged at POST /v5/oauth/token (HTTP Basic with the app id and secret,
form body; OauthAccessTokenRequestCode / …Refresh in github.com/pinterest/api-description,
v5/openapi.json). The ad account is picked from GET /v5/ad_accounts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from channels.adapters.auth import AuthorizationRefused, ChannelAuth, ConnectChoice, TokenGrant, register
from channels.adapters.base import AdapterError, HttpClient

OAUTH_PAGE = "https://www.pinterest.com/oauth/"
API_HOST = "https://api.pinterest.com"
# catalogs:read and catalogs:write: the security of POST /catalogs/items/batch (both) and
# GET /catalogs/items/batch/{batch_id}; ads:read: the security of GET /ad_accounts and
# GET /ad_accounts/{ad_account_id}, where the merchant's ad account is found.
SCOPES = ("ads:read", "catalogs:read", "catalogs:write")
# GET /ad_accounts page_size maximum.
PAGE_SIZE = 250
# The Error code of a token exchange refused for the client's own credentials (the 401
# of POST /oauth/token/revoke, same Basic scheme): the deployment's app settings are wrong.
CLIENT_AUTH_FAILED = 2


def _words(message: str) -> str:
    return (message or "").strip().rstrip(".")


@register
class PinterestAuth(ChannelAuth):
    channel = "pinterest"
    sandbox_prefix = "pinterest"
    choice_noun = gettext_lazy("ad account")
    pasted_keys = ("access_token", "ad_account_id", "refresh_token")

    @classmethod
    def app_credentials(cls) -> dict[str, str]:
        return {"client_id": settings.PINTEREST_APP_ID, "client_secret": settings.PINTEREST_APP_SECRET}

    def _api(self) -> str:
        return self.api_base_url or API_HOST

    # --- The flow ---------------------------------------------------------------------------

    def authorize_url(self, *, state: str) -> str:
        page = f"{self.api_base_url}/oauth/" if self.api_base_url else OAUTH_PAGE
        return self.url(
            page,
            client_id=self.app_credentials()["client_id"],
            redirect_uri=self.redirect_uri(),
            response_type="code",
            scope=",".join(SCOPES),  # Pinterest's scopes are comma-separated
            state=state,
        )

    @staticmethod
    def read_callback(params) -> tuple[str, str]:
        # Approved: ?code=…&state=…; declined: the OAuth 2.0 error parameters.
        code = (params.get("code") or "").strip()
        if code:
            return code, ""
        error = params.get("error_description") or params.get("error") or ""
        return "", error.strip() or "Pinterest sent no authorization code."

    def exchange_code(self, code: str) -> TokenGrant:
        body = self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri(),
                # Apps created before 25 September 2025 get the continuous refresh token
                # (60 days, refreshable indefinitely) only when they ask for it.
                "continuous_refresh": "true",
            },
            what="authorization code",
        )
        return self._grant(body, {})

    def refresh(self, credentials: dict) -> TokenGrant:
        refresh_token = credentials.get("refresh_token") or ""
        if not refresh_token:
            raise AuthorizationRefused("There is no Pinterest refresh token for this account. Reconnect the account.")
        body = self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, what="refresh token")
        return self._grant(body, credentials)

    def choices(self, credentials: dict) -> list[ConnectChoice]:
        found: list[ConnectChoice] = []
        bookmark = ""
        with self._client(credentials) as client:
            while True:
                params = {"page_size": PAGE_SIZE, **({"bookmark": bookmark} if bookmark else {})}
                response = client.request("GET", "/v5/ad_accounts", params=params)
                body = self._read(response, what="access token", refused=(401, 403))
                for account in body.get("items") or []:
                    account_id = str(account.get("id") or "")
                    if not account_id:
                        continue
                    detail = " · ".join(str(account[k]) for k in ("country", "currency") if account.get(k))
                    found.append(
                        ConnectChoice(
                            id=account_id,
                            label=str(account.get("name") or account_id),
                            detail=detail,
                            credentials={"ad_account_id": account_id},
                        )
                    )
                bookmark = body.get("bookmark") or ""
                if not bookmark:
                    return found

    def check(self, credentials: dict) -> TokenGrant:
        access_token = (credentials.get("access_token") or "").strip()
        ad_account_id = (credentials.get("ad_account_id") or "").strip()
        if not access_token or not ad_account_id:
            raise AuthorizationRefused("Pinterest needs an access token and an ad account ID.")
        with self._client({"access_token": access_token}) as client:
            response = client.request("GET", f"/v5/ad_accounts/{ad_account_id}")
            account = self._read(response, what="access token or ad account", refused=(400, 401, 403, 404))
        kept = {"access_token": access_token, "ad_account_id": ad_account_id}
        if credentials.get("refresh_token"):
            kept["refresh_token"] = credentials["refresh_token"]
        return TokenGrant(credentials=kept, details={"ad_account": str(account.get("name") or ad_account_id)})

    # --- Calls ------------------------------------------------------------------------------

    def _client(self, credentials: dict) -> _Closing:
        return _Closing(
            self.client(self._api(), headers={"Authorization": f"Bearer {credentials.get('access_token', '')}"})
        )

    def _token(self, form: dict, *, what: str) -> dict:
        app = self.app_credentials()
        # One attempt: codes are single use and refresh tokens rotate, so a retried request
        # could spend what the first one (whose answer was lost) already got.
        client = HttpClient(self._api(), **{**self.client_options, "max_attempts": 1})
        try:
            response = client.request(
                "POST", "/v5/oauth/token", data=form, auth=(app["client_id"], app["client_secret"])
            )
        finally:
            client.close()
        if response.status_code in (400, 401, 403):
            body = _json(response)
            if body.get("code") == CLIENT_AUTH_FAILED:
                raise AuthorizationRefused(
                    "Pinterest refused this deployment's app credentials (PINTEREST_APP_ID, PINTEREST_APP_SECRET): "
                    f"{_words(body.get('message', ''))}.",
                    status=response.status_code,
                    code=str(body.get("code", "")),
                )
        return self._read(response, what=what, refused=(400, 401, 403))

    def _read(self, response: httpx.Response, *, what: str, refused: tuple[int, ...]) -> dict:
        """The answer's JSON; AuthorizationRefused (Pinterest's message) for a `refused` status."""
        body = _json(response)
        if response.status_code in refused:
            message = _words(str(body.get("message") or f"HTTP {response.status_code}"))
            raise AuthorizationRefused(
                f"Pinterest refused the {what}: {message}.",
                status=response.status_code,
                code=str(body.get("code", "")),
            )
        if response.status_code >= 400:
            raise AdapterError(
                f"Pinterest refused the request: {_words(str(body.get('message', '')))}.",
                status=response.status_code,
                code=str(body.get("code", "")),
            )
        return body

    def _grant(self, body: dict, previous: dict) -> TokenGrant:
        access_token = body.get("access_token") or ""
        if not access_token:
            raise AdapterError("Pinterest answered without an access token.")
        now = timezone.now()
        refresh_token = body.get("refresh_token") or previous.get("refresh_token") or ""
        credentials = {"access_token": access_token, **({"refresh_token": refresh_token} if refresh_token else {})}
        access_expires_at = now + timedelta(seconds=int(body["expires_in"])) if body.get("expires_in") else None
        if body.get("refresh_token_expires_at"):
            refresh_expires_at = datetime.fromtimestamp(int(body["refresh_token_expires_at"]), tz=UTC)
        elif body.get("refresh_token_expires_in"):
            refresh_expires_at = now + timedelta(seconds=int(body["refresh_token_expires_in"]))
        else:
            refresh_expires_at = None
        return TokenGrant(
            credentials=credentials,
            access_expires_at=access_expires_at,
            refresh_expires_at=refresh_expires_at,
            details={"scope": body.get("scope", "")},
        )


class _Closing:
    """An HttpClient for a `with` block."""

    def __init__(self, client: HttpClient):
        self.client = client

    def __enter__(self) -> HttpClient:
        return self.client

    def __exit__(self, *exc) -> None:
        self.client.close()


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise AdapterError(
            f"Pinterest answered {response.status_code} without JSON.", status=response.status_code
        ) from None
    return body if isinstance(body, dict) else {}
