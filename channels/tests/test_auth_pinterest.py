"""Pinterest's authorisation over real HTTP against the sandbox: the /oauth/ consent page, the
code and refresh exchanges at POST /v5/oauth/token, the ad accounts, pasted credentials, and
what the adapter does with a token Pinterest no longer takes.

The response schemas below are cut from github.com/pinterest/api-description (v5/openapi.json:
OauthAccessTokenResponseCode, OauthAccessTokenResponseRefresh, Error, AdAccount, the 200 of
ad_accounts/list).
"""

import base64
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone
from jsonschema import Draft7Validator

from channels.adapters.auth import AuthorizationRefused, auth_for
from channels.adapters.base import ChannelItem
from channels.adapters.pinterest import PinterestAdapter
from channels.adapters.pinterest_auth import PinterestAuth
from channels.sandbox.control import control_headers
from channels.tests.factories import PINTEREST_CREDENTIALS

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN_PROPERTIES = {
    "access_token": {"type": "string"},
    "expires_in": {"type": "integer"},
    "response_type": {"type": "string", "enum": ["authorization_code", "refresh_token", "client_credentials"]},
    "scope": {"type": "string"},
    "token_type": {"type": "string"},
    "refresh_token": {"type": "string"},
    "refresh_token_expires_at": {"type": "integer"},
    "refresh_token_expires_in": {"type": "integer"},
}
SCHEMAS = {
    "OauthAccessTokenResponseCode": {
        "type": "object",
        "properties": TOKEN_PROPERTIES,
        "required": ["access_token", "token_type", "expires_in", "scope"],
    },
    "OauthAccessTokenResponseRefresh": {
        "type": "object",
        "properties": TOKEN_PROPERTIES,
        "required": [
            "access_token",
            "token_type",
            "expires_in",
            "scope",
            "refresh_token",
            "refresh_token_expires_in",
            "refresh_token_expires_at",
        ],
    },
    "Error": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        "required": ["code", "message"],
    },
    "AdAccount": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "maxLength": 18, "pattern": r"^\d+$"},
            "name": {"type": "string", "maxLength": 256},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "currency": {"type": "string"},
            "owner": {"type": "object", "properties": {"id": {"type": "string"}, "username": {"type": "string"}}},
            "permissions": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id"],
    },
}
SCHEMAS["AdAccountList"] = {
    "type": "object",
    "properties": {"bookmark": {"type": ["string", "null"]}, "items": {"type": "array", "items": SCHEMAS["AdAccount"]}},
    "required": ["items"],
}


def assert_matches(name: str, instance) -> None:
    errors = [e.message for e in Draft7Validator(SCHEMAS[name]).iter_errors(instance)]
    assert not errors, errors


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def auth(site):
    return auth_for("pinterest", api_base_url=f"{site}/sandbox/pinterest", sleep=lambda seconds: None)


def sandbox(site, path: str) -> str:
    return f"{site}/sandbox/pinterest{path}"


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def app_headers(settings) -> dict:
    return basic(settings.PINTEREST_APP_ID, settings.PINTEREST_APP_SECRET)


def consent(url: str, *, decision="allow", seller="ivy", ad_accounts="2") -> dict:
    """Open the consent page as a browser would, submit its form; the redirect's query."""
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    hidden = {k: v.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"') for k, v in hidden.items()}
    answer = httpx.post(
        url, data={**hidden, "seller": seller, "ad_accounts": ad_accounts, "decision": decision}, timeout=10
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(PinterestAuth.redirect_uri() + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(auth, **kwargs):
    """Consent, then the code exchanged: (grant, the query our callback received)."""
    query = consent(auth.authorize_url(state="st-1"), **kwargs)
    code, refusal = auth.read_callback(query)
    assert code and not refusal and query["state"] == "st-1"
    return auth.exchange_code(code), query


def control(site, key: str, **config):
    response = httpx.post(
        f"{site}/sandbox/_control/pinterest/{key}/", headers=control_headers(), json=config, timeout=10
    )
    assert response.status_code == 200, response.text


def expire(site, key: str, action: str):
    response = httpx.post(
        f"{site}/sandbox/_control/pinterest/{key}/grants/",
        headers=control_headers(),
        json={"action": action},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def item(n: int) -> ChannelItem:
    return ChannelItem(
        id=f"SKU-{n}",
        title=f"Linen shirt {n}",
        description="A shirt of washed linen.",
        link=f"https://alice.example.com/products/linen?variant={n}",
        image_link=f"https://alice.example.com/i/{n}.jpg",
        price=Decimal("49.90"),
        currency="USD",
    )


def adapter(site, credentials) -> PinterestAdapter:
    return PinterestAdapter(
        base_url=f"{site}/sandbox/pinterest",
        credentials=credentials,
        market={"country": "US", "language": "en", "currency": "USD"},
        sleep=lambda seconds: None,
    )


# --- The flow --------------------------------------------------------------------------------


def test_consent_code_token_and_ad_accounts(site, auth, settings):
    url = auth.authorize_url(state="st-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == sandbox(site, "/oauth/")
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params == {
        "client_id": settings.PINTEREST_APP_ID,
        "redirect_uri": f"{site}/channels/connect/pinterest/callback/",
        "response_type": "code",
        "scope": "ads:read,catalogs:read,catalogs:write",
        "state": "st-1",
    }
    assert PinterestAuth(api_base_url="").authorize_url(state="s").startswith("https://www.pinterest.com/oauth/?")
    page = httpx.get(url, timeout=10)
    assert "catalogs:write" in page.text and 'name="ad_accounts"' in page.text

    grant, _query = connect(auth, seller="ivy", ad_accounts="2")
    assert set(grant.credentials) == {"access_token", "refresh_token"}
    assert grant.details == {"scope": "ads:read,catalogs:read,catalogs:write"}
    now = timezone.now()
    assert abs(grant.access_expires_at - (now + timedelta(days=30))) < timedelta(minutes=1)
    assert abs(grant.refresh_expires_at - (now + timedelta(days=60))) < timedelta(minutes=1)

    choices = auth.choices(grant.credentials)
    assert len(choices) == 2
    for choice in choices:
        assert re.fullmatch(r"\d{1,18}", choice.id)
        assert choice.credentials == {"ad_account_id": choice.id}
        assert choice.label.startswith("ivy ads") and choice.detail == "US · USD"
    # Consenting again with more ad accounts keeps the first ones.
    again, _query = connect(auth, seller="ivy", ad_accounts="3")
    assert [c.id for c in auth.choices(again.credentials)][:2] == [c.id for c in choices]

    # The raw answers, page by page.
    bearer = {"Authorization": f"Bearer {again.credentials['access_token']}"}
    first = httpx.get(sandbox(site, "/v5/ad_accounts"), params={"page_size": 2}, headers=bearer, timeout=10)
    assert first.status_code == 200
    assert_matches("AdAccountList", first.json())
    assert len(first.json()["items"]) == 2 and first.json()["bookmark"]
    rest = httpx.get(
        sandbox(site, "/v5/ad_accounts"),
        params={"page_size": 2, "bookmark": first.json()["bookmark"]},
        headers=bearer,
        timeout=10,
    ).json()
    assert len(rest["items"]) == 1 and rest["bookmark"] is None
    one = httpx.get(sandbox(site, f"/v5/ad_accounts/{choices[0].id}"), headers=bearer, timeout=10)
    assert one.status_code == 200 and one.json()["id"] == choices[0].id
    assert_matches("AdAccount", one.json())


def test_token_answers_match_the_spec(site, auth, settings):
    query = consent(auth.authorize_url(state="raw"))
    response = httpx.post(
        sandbox(site, "/v5/oauth/token"),
        headers=app_headers(settings),
        data={"grant_type": "authorization_code", "code": query["code"], "redirect_uri": PinterestAuth.redirect_uri()},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert_matches("OauthAccessTokenResponseCode", response.json())
    assert response.json()["response_type"] == "authorization_code"
    refreshed = httpx.post(
        sandbox(site, "/v5/oauth/token"),
        headers=app_headers(settings),
        data={"grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]},
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert_matches("OauthAccessTokenResponseRefresh", refreshed.json())
    assert refreshed.json()["response_type"] == "refresh_token"
    assert refreshed.json()["refresh_token"] != response.json()["refresh_token"]  # continuous refresh


def test_deny_comes_back_with_the_error(auth):
    query = consent(auth.authorize_url(state="st-2"), decision="deny")
    assert query["error"] == "access_denied" and query["state"] == "st-2" and "code" not in query
    code, refusal = auth.read_callback(query)
    assert code == "" and refusal


# --- Refusals --------------------------------------------------------------------------------


def test_consent_page_refuses_an_unknown_app_a_foreign_redirect_uri_and_unknown_scopes(site, auth, settings):
    good = {k: v[0] for k, v in parse_qs(urlsplit(auth.authorize_url(state="s")).query).items()}
    unknown_app = httpx.get(sandbox(site, "/oauth/"), params={**good, "client_id": "999"}, timeout=10)
    assert unknown_app.status_code == 400
    assert unknown_app.json()["code"] == 283 and unknown_app.json()["data"] == "Invalid Application ID"
    for redirect_uri in (
        "https://evil.example.com/callback/",
        PinterestAuth.redirect_uri() + "?x=1",
        PinterestAuth.redirect_uri().rstrip("/"),
    ):
        foreign = httpx.get(sandbox(site, "/oauth/"), params={**good, "redirect_uri": redirect_uri}, timeout=10)
        assert foreign.status_code == 403
        assert foreign.json()["code"] == 7
        assert "does not match any of the registered redirect URIs" in foreign.json()["data"]
    for scope, error in (
        ("catalogs:read catalogs:write", "invalid_scope"),  # comma-separated, not spaces
        ("catalogs:read,catalogs:everything", "invalid_scope"),
    ):
        answer = httpx.get(sandbox(site, "/oauth/"), params={**good, "scope": scope}, timeout=10)
        assert answer.status_code == 302
        assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == [error]
    token = httpx.get(sandbox(site, "/oauth/"), params={**good, "response_type": "token"}, timeout=10)
    assert parse_qs(urlsplit(token.headers["Location"]).query)["error"] == ["unsupported_response_type"]


def test_token_endpoint_refuses_in_pinterests_shape(site, auth, settings):
    query = consent(auth.authorize_url(state="s"))
    form = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": PinterestAuth.redirect_uri()}
    url = sandbox(site, "/v5/oauth/token")

    wrong_secret = httpx.post(url, headers=basic(settings.PINTEREST_APP_ID, "not-the-secret"), data=form, timeout=10)
    no_auth = httpx.post(url, data=form, timeout=10)
    for response in (wrong_secret, no_auth):
        assert response.status_code == 401
        assert response.json() == {"code": 2, "message": "Authentication failed."}

    missing = httpx.post(url, headers=app_headers(settings), data={"grant_type": "authorization_code"}, timeout=10)
    assert missing.status_code == 400
    assert_matches("Error", missing.json())

    # The redirect URI must be the one the code was issued for; the code is spent either way.
    other_redirect = httpx.post(
        url, headers=app_headers(settings), data={**form, "redirect_uri": f"{site}/elsewhere/"}, timeout=10
    )
    assert other_redirect.status_code == 401
    assert other_redirect.json() == {"code": 283, "message": "The authorization grant is invalid"}
    with pytest.raises(AuthorizationRefused) as exc:
        auth.exchange_code(query["code"])
    assert "The authorization grant is invalid" in str(exc.value)


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(auth):
    query = consent(auth.authorize_url(state="s"))
    grant = auth.exchange_code(query["code"])
    assert auth.choices(grant.credentials)
    with pytest.raises(AuthorizationRefused) as exc:
        auth.exchange_code(query["code"])
    assert exc.value.status == 401 and exc.value.code == "283"
    with pytest.raises(AuthorizationRefused) as exc:
        auth.choices(grant.credentials)
    assert "Authentication failed" in str(exc.value)


def test_an_expired_refresh_token_is_refused(site, auth, settings):
    grant, _query = connect(auth, seller="jo", ad_accounts="1")
    key = auth.choices(grant.credentials)[0].id
    expire(site, key, "expire_refresh")
    with pytest.raises(AuthorizationRefused) as exc:
        auth.refresh(grant.credentials)
    assert "The authorization grant is invalid" in str(exc.value)
    raw = httpx.post(
        sandbox(site, "/v5/oauth/token"),
        headers=app_headers(settings),
        data={"grant_type": "refresh_token", "refresh_token": grant.credentials["refresh_token"]},
        timeout=10,
    )
    assert raw.status_code == 401 and raw.json() == {"code": 283, "message": "The authorization grant is invalid"}


# --- Tokens at work ---------------------------------------------------------------------------


def test_refresh_then_publish_with_the_new_token(site, auth):
    grant, _query = connect(auth, seller="kai", ad_accounts="1")
    ad_account_id = auth.choices(grant.credentials)[0].id
    renewed = auth.refresh(grant.credentials)
    assert renewed.credentials["access_token"] != grant.credentials["access_token"]
    assert renewed.credentials["refresh_token"] != grant.credentials["refresh_token"]
    assert renewed.refresh_expires_at > timezone.now() + timedelta(days=59)

    with adapter(site, {**renewed.credentials, "ad_account_id": ad_account_id}) as pinterest:
        status = pinterest.batch_status(pinterest.publish_batch([item(1), item(2)]))
    assert status.done and [r.ok for r in status.results] == [True, True]

    # The old access token stopped working when the new one was issued.
    with (
        adapter(site, {**grant.credentials, "ad_account_id": ad_account_id}) as stale,
        pytest.raises(AuthorizationRefused),
    ):
        stale.publish_batch([item(3)])


def test_an_expired_access_token_fails_the_batch_as_a_whole(site, auth):
    grant, _query = connect(auth, seller="lou", ad_accounts="1")
    ad_account_id = auth.choices(grant.credentials)[0].id
    with adapter(site, {**grant.credentials, "ad_account_id": ad_account_id}) as pinterest:
        handle = pinterest.publish_batch([item(1)])
        expire(site, ad_account_id, "expire")
        for call in (lambda: pinterest.publish_batch([item(2)]), lambda: pinterest.batch_status(handle)):
            with pytest.raises(AuthorizationRefused) as exc:
                call()
            assert str(exc.value) == "Pinterest refused the access token: Authentication failed. Reconnect the account."
            assert exc.value.status == 401


def test_a_token_without_the_catalog_scopes_is_refused(site, auth, settings):
    url = auth.authorize_url(state="s").replace("ads%3Aread%2Ccatalogs%3Aread%2Ccatalogs%3Awrite", "ads%3Aread")
    query = consent(url, seller="mo", ad_accounts="1")
    grant = auth.exchange_code(query["code"])
    assert grant.details["scope"] == "ads:read"
    ad_account_id = auth.choices(grant.credentials)[0].id
    with (
        adapter(site, {**grant.credentials, "ad_account_id": ad_account_id}) as pinterest,
        pytest.raises(AuthorizationRefused) as exc,
    ):
        pinterest.publish_batch([item(1)])
    assert exc.value.status == 403 and exc.value.code == "3"
    assert "sufficient permissions" in str(exc.value) and "Reconnect the account" in str(exc.value)


# --- Pasted credentials ------------------------------------------------------------------------


def test_pasted_credentials_are_checked_with_the_ad_account(site, auth):
    ad_account_id = PINTEREST_CREDENTIALS["ad_account_id"]
    control(site, ad_account_id, access_token=PINTEREST_CREDENTIALS["access_token"], seller="", settings={})
    checked = auth.check({**PINTEREST_CREDENTIALS, "refresh_token": "rt-pasted"})
    assert checked.credentials == {**PINTEREST_CREDENTIALS, "refresh_token": "rt-pasted"}

    with pytest.raises(AuthorizationRefused) as exc:
        auth.check({**PINTEREST_CREDENTIALS, "access_token": "pina_wrong"})
    assert str(exc.value) == "Pinterest refused the access token or ad account: Authentication failed."

    # A token from the consent page sees its seller's ad accounts, not this one.
    grant, _query = connect(auth, seller="nia", ad_accounts="1")
    own = auth.choices(grant.credentials)[0].id
    assert auth.check({"access_token": grant.credentials["access_token"], "ad_account_id": own}).credentials
    with pytest.raises(AuthorizationRefused) as exc:
        auth.check({"access_token": grant.credentials["access_token"], "ad_account_id": ad_account_id})
    assert exc.value.status == 403 and "not permitted" in str(exc.value)
    with pytest.raises(AuthorizationRefused) as exc:
        auth.check({"access_token": grant.credentials["access_token"], "ad_account_id": "123456789"})
    assert exc.value.status == 404
    with pytest.raises(AuthorizationRefused):
        auth.check({"access_token": grant.credentials["access_token"], "ad_account_id": "12-34"})
