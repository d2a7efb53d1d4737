"""meta: authorisation flow and token lifecycle (see channels/adapters/auth.py).

Facebook Login for Business: the merchant approves the deployment's app on Facebook's login
dialog with the app's configuration (`config_id`: the permissions and the token type); the code
comes back to our callback and is exchanged at `GET /oauth/access_token`. A user access token
is short-lived and exchanged at once for a long-lived one (about 60 days); a business
integration system user token does not expire. Meta has no refresh token: when a token
expires or is revoked, the merchant connects again. Every Graph call that carries a token also
carries `appsecret_proof`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from channels.adapters.auth import AuthorizationRefused, ChannelAuth, ConnectChoice, TokenGrant, register
from channels.adapters.base import AdapterError, HttpClient
from channels.adapters.meta import appsecret_proof, graph_api_version

# What each catalog is read with: its name and the commerce account (shop) it sells through
# (ProductCatalog.commerce_merchant_settings, facebook-python-business-sdk productcatalog.py).
CATALOG_FIELDS = "id,name,commerce_merchant_settings{id}"
# Graph pages edges; a business with more catalogs than this is read page by page.
PAGE_SIZE = 100
MAX_PAGES = 50


@register
class MetaAuth(ChannelAuth):
    channel = "meta"
    sandbox_prefix = "meta"
    choice_noun = gettext_lazy("catalog")
    # An agency's system user token, pasted with the catalog it manages.
    pasted_keys = ("catalog_id", "commerce_account_id", "access_token")
    # No refresh token: an expired or revoked token means connecting again.
    refreshes = False

    @classmethod
    def app_credentials(cls) -> dict[str, str]:
        return {
            "app_id": settings.META_APP_ID,
            "app_secret": settings.META_APP_SECRET,
            "config_id": settings.META_LOGIN_CONFIG_ID,
        }

    # --- Where things are -------------------------------------------------------------------

    def dialog_url(self) -> str:
        if self.api_base_url:
            return f"{self.api_base_url}/dialog/oauth"
        return f"https://www.facebook.com/{graph_api_version()}/dialog/oauth"

    def graph_base(self) -> str:
        return self.api_base_url or f"https://graph.facebook.com/{graph_api_version()}"

    def graph(self, credentials: dict | None = None) -> HttpClient:
        """A Graph client; with `credentials`, every call carries their token and its proof,
        signed with the account's own app secret when it brings one, else the deployment's."""
        headers, params = {}, {}
        if credentials:
            # The token in a header rather than the query, which proxies and logs keep.
            token = credentials.get("access_token", "")
            secret = credentials.get("app_secret") or settings.META_APP_SECRET
            headers = {"Authorization": f"Bearer {token}"}
            params = {"appsecret_proof": appsecret_proof(secret, token)}
        return HttpClient(self.graph_base(), headers=headers, params=params, **self.client_options)

    # --- The flow ---------------------------------------------------------------------------

    def authorize_url(self, *, state: str) -> str:
        return self.url(
            self.dialog_url(),
            client_id=settings.META_APP_ID,
            redirect_uri=self.redirect_uri(),
            state=state,
            config_id=settings.META_LOGIN_CONFIG_ID,
            response_type="code",
        )

    @staticmethod
    def read_callback(params) -> tuple[str, str]:
        """Facebook sends `code`, or `error`, `error_reason` (user_denied) and `error_description`."""
        code = (params.get("code") or "").strip()
        if code:
            return code, ""
        description = (params.get("error_description") or "").strip()
        reason = (params.get("error_reason") or params.get("error") or "").strip()
        if reason == "user_denied":
            return "", f"The request was declined on Facebook ({description or reason})."
        return "", description or reason or "Facebook sent no authorisation code."

    def exchange_code(self, code: str) -> TokenGrant:
        if not code:
            raise AuthorizationRefused("Facebook sent no authorisation code. Connect again.")
        client = self.graph()
        try:
            body = self._answer(
                client.request(
                    "GET",
                    "/oauth/access_token",
                    params={
                        "client_id": settings.META_APP_ID,
                        "redirect_uri": self.redirect_uri(),
                        "client_secret": settings.META_APP_SECRET,
                        "code": code,
                    },
                ),
                "Meta refused the authorisation code",
            )
            token, expires_in = body.get("access_token") or "", body.get("expires_in")
            if not token:
                raise AuthorizationRefused("Meta answered without an access token. Connect again.")
            if expires_in is not None:
                # A user access token from the login is short-lived (hours): exchanged now for
                # a long-lived one (about 60 days), since nothing can renew it later.
                body = self._answer(
                    client.request(
                        "GET",
                        "/oauth/access_token",
                        params={
                            "grant_type": "fb_exchange_token",
                            "client_id": settings.META_APP_ID,
                            "client_secret": settings.META_APP_SECRET,
                            "fb_exchange_token": token,
                            "appsecret_proof": appsecret_proof(settings.META_APP_SECRET, token),
                        },
                    ),
                    "Meta refused to extend the access token",
                )
                token, expires_in = body.get("access_token") or "", body.get("expires_in")
                if not token:
                    raise AuthorizationRefused("Meta answered without an access token. Connect again.")
        finally:
            client.close()
        return TokenGrant(
            credentials={"access_token": token},
            access_expires_at=_expiry(expires_in),
            details={"token_type": "user" if expires_in is not None else "system user"},
        )

    def refresh(self, credentials: dict) -> TokenGrant:
        raise AuthorizationRefused(
            "Meta gives no refresh token: connect the account again on Facebook to get a new access token."
        )

    def choices(self, credentials: dict) -> list[ConnectChoice]:
        """Every catalog of every business the token can use: the businesses' own catalogs and
        those of their client businesses (an agency), with the commerce account each sells through."""
        found: dict[str, ConnectChoice] = {}
        client = self.graph(credentials)
        try:
            for business in self._pages(client, "/me/businesses", {"fields": "id,name"}):
                business_id = str(business.get("id") or "")
                if not business_id:
                    continue
                for edge in ("owned_product_catalogs", "client_product_catalogs"):
                    for catalog in self._pages(client, f"/{business_id}/{edge}", {"fields": CATALOG_FIELDS}):
                        catalog_id = str(catalog.get("id") or "")
                        if not catalog_id or catalog_id in found:
                            continue
                        found[catalog_id] = ConnectChoice(
                            id=catalog_id,
                            label=catalog.get("name") or catalog_id,
                            detail=business.get("name") or business_id,
                            credentials=_catalog_credentials(catalog),
                        )
        finally:
            client.close()
        return list(found.values())

    def check(self, credentials: dict) -> TokenGrant:
        """Pasted catalog and token (a system user token from Business Settings): the catalog
        read with them, as its name and commerce account. The commerce account, when left out,
        is the catalog's own; when given, it must be the catalog's."""
        catalog_id = str(credentials.get("catalog_id") or "").strip()
        if not catalog_id or not credentials.get("access_token"):
            raise AuthorizationRefused("Meta needs a catalog ID and an access token.")
        client = self.graph(credentials)
        try:
            catalog = self._answer(
                client.request("GET", f"/{catalog_id}", params={"fields": CATALOG_FIELDS}),
                f"Meta refused reading catalog {catalog_id} with this access token",
            )
        finally:
            client.close()
        found = _catalog_credentials(catalog)
        given = str(credentials.get("commerce_account_id") or "").strip()
        known = found.get("commerce_account_id", "")
        if given and known and given != known:
            raise AuthorizationRefused(
                f"Catalog {catalog_id} sells through commerce account {known}, not {given}. "
                "Leave the commerce account empty or enter the catalog's own."
            )
        return TokenGrant(
            credentials={"catalog_id": catalog_id, "commerce_account_id": given or known},
            details={"catalog": catalog.get("name") or catalog_id},
        )

    # --- Reading Graph's answers ------------------------------------------------------------

    @staticmethod
    def _answer(response, refused: str) -> dict:
        """The JSON of a Graph answer; AuthorizationRefused with Meta's message on an error."""
        try:
            body = response.json()
        except ValueError:
            status = response.status_code
            raise AdapterError(f"Meta answered {status} without JSON.", status=status) from None
        if not isinstance(body, dict):
            raise AdapterError(f"Meta answered {response.status_code} with something else than an object.")
        error = body.get("error")
        if response.status_code >= 400 or error:
            error = error if isinstance(error, dict) else {}
            message = str(error.get("message") or f"HTTP {response.status_code}").rstrip(".")
            raise AuthorizationRefused(
                f"{refused}: {message}.", status=response.status_code, code=str(error.get("code", "")), body=body
            )
        return body

    def _pages(self, client: HttpClient, path: str, params: dict):
        """The nodes of an edge, following its `paging.cursors.after` while `paging.next` is given."""
        query = {**params, "limit": PAGE_SIZE}
        for _page in range(MAX_PAGES):
            body = self._answer(client.request("GET", path, params=query), "Meta refused the access token")
            yield from (node for node in body.get("data") or [] if isinstance(node, dict))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            query = {**query, "after": after}


def _catalog_credentials(catalog: dict) -> dict:
    credentials = {"catalog_id": str(catalog.get("id") or "")}
    settings_node = catalog.get("commerce_merchant_settings")
    if isinstance(settings_node, dict) and settings_node.get("id"):
        credentials["commerce_account_id"] = str(settings_node["id"])
    return credentials


def _expiry(expires_in):
    """When a token given `expires_in` seconds stops working; None for one that does not expire."""
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return timezone.now() + timedelta(seconds=seconds) if seconds > 0 else None
