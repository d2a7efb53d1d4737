"""Meta's authorisation over real HTTP against the sandbox: Facebook Login for Business (the
login dialog with the app's configuration), the code and long-lived exchanges at
GET /oauth/access_token, the businesses and their catalogs, pasted system user tokens, the
appsecret_proof every Graph call carries, and what the adapter does with a token Meta no
longer takes.

Sources: facebook/facebook-python-business-sdk (session.py: appsecret_proof; adobjects
user.py, business.py, productcatalog.py: /me/businesses, owned_product_catalogs,
client_product_catalogs, ProductCatalog.commerce_merchant_settings); Meta's Facebook Login
for Business, Manually Build a Login Flow, Long-Lived Access Tokens and Handling Errors guides
(see /tmp/facts/meta.md, merged into docs/channels.md).
"""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from channels.adapters.auth import AuthorizationRefused, auth_for
from channels.adapters.base import ChannelItem
from channels.adapters.meta import MetaAdapter, appsecret_proof
from channels.adapters.meta_auth import MetaAuth
from channels.sandbox.control import control_headers
from channels.sandbox.models import SandboxAccount
from channels.tests.factories import META_CREDENTIALS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def auth(site):
    return auth_for("meta", api_base_url=f"{site}/sandbox/meta", sleep=lambda seconds: None)


def graph_url(site, path: str) -> str:
    return f"{site}/sandbox/meta{path}"


def consent_form(url: str) -> dict:
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    return {k: v.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"') for k, v in hidden.items()}


def consent(url: str, *, decision="allow", seller="ivy", catalogs="1") -> dict:
    """Open the login dialog as a browser would, submit its form; the redirect's query."""
    answer = httpx.post(
        url, data={**consent_form(url), "seller": seller, "catalogs": catalogs, "decision": decision}, timeout=10
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(MetaAuth.redirect_uri() + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def login_code(auth, **kwargs) -> str:
    query = consent(auth.authorize_url(state="st-1"), **kwargs)
    code, refusal = auth.read_callback(query)
    assert code and not refusal and query["state"] == "st-1"
    return code


def token_call(site, **params) -> httpx.Response:
    return httpx.get(graph_url(site, "/oauth/access_token"), params=params, timeout=10)


def app_params(settings, **extra) -> dict:
    return {"client_id": settings.META_APP_ID, "client_secret": settings.META_APP_SECRET, **extra}


def graph_get(site, path: str, token: str, *, secret: str | None, **params) -> httpx.Response:
    if secret is not None:
        params["appsecret_proof"] = appsecret_proof(secret, token)
    return httpx.get(graph_url(site, path), params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def graph_error(response: httpx.Response, code: int, kind: str = "OAuthException") -> dict:
    """Graph's error shape: {"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id"}}."""
    assert response.status_code in (400, 401), response.text
    error = response.json()["error"]
    assert error["code"] == code and error["type"] == kind and error["fbtrace_id"], error
    assert set(error) <= {"message", "type", "code", "error_subcode", "fbtrace_id"}
    return error


def control(site, key: str, **config):
    response = httpx.post(f"{site}/sandbox/_control/meta/{key}/", headers=control_headers(), json=config, timeout=10)
    assert response.status_code == 200, response.text


def expire(site, key: str, action: str = "expire"):
    response = httpx.post(
        f"{site}/sandbox/_control/meta/{key}/grants/", headers=control_headers(), json={"action": action}, timeout=10
    )
    assert response.status_code == 200, response.text


def item(n: int) -> ChannelItem:
    return ChannelItem(
        id=f"SKU-{n}",
        title=f"Linen shirt {n}",
        description="A shirt of washed linen.",
        link=f"https://alice.example.com/p/{n}",
        image_link=f"https://alice.example.com/i/{n}.jpg",
        price=Decimal("49.90"),
        currency="USD",
        brand="Alice",
        quantity=3,
    )


def adapter(site, credentials) -> MetaAdapter:
    return MetaAdapter(base_url=f"{site}/sandbox/meta", credentials=credentials, sleep=lambda s: None, timeout=5)


# --- The flow --------------------------------------------------------------------------------


def test_dialog_code_long_lived_token_and_catalog_choices(site, auth, settings):
    url = auth.authorize_url(state="st-1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == graph_url(site, "/dialog/oauth")
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": settings.META_APP_ID,
        "redirect_uri": f"{site}/channels/connect/meta/callback/",
        "state": "st-1",
        "config_id": settings.META_LOGIN_CONFIG_ID,
        "response_type": "code",
    }
    real = MetaAuth(api_base_url="").authorize_url(state="s")
    assert real.startswith(f"https://www.facebook.com/{settings.META_GRAPH_API_VERSION}/dialog/oauth?")
    page = httpx.get(url, timeout=10)
    assert "catalog_management" in page.text and 'name="catalogs"' in page.text

    grant = auth.exchange_code(login_code(auth, seller="ivy", catalogs="2"))
    assert set(grant.credentials) == {"access_token"}
    # The login's short-lived token was exchanged for a long-lived one (about 60 days).
    assert abs(grant.access_expires_at - (timezone.now() + timedelta(days=60))) < timedelta(minutes=1)
    assert grant.refresh_expires_at is None and grant.details == {"token_type": "user"}
    assert not MetaAuth.refreshes

    choices = auth.choices(grant.credentials)
    accounts = list(SandboxAccount.objects.filter(channel="meta", seller="ivy").order_by("id"))
    assert [c.id for c in choices] == [a.key for a in accounts] and len(choices) == 2
    for choice, account in zip(choices, accounts, strict=True):
        assert choice.label == f"ivy catalog {accounts.index(account) + 1}" and choice.detail == "ivy business"
        assert choice.credentials == {"catalog_id": account.key, "commerce_account_id": account.commerce_account_id}
        assert account.secret == settings.META_APP_SECRET and re.fullmatch(r"\d{15}", account.key)

    # The adapter works with the grant's token and the deployment's app secret.
    credentials = {**grant.credentials, **choices[0].credentials}
    with adapter(site, credentials) as meta:
        status = meta.batch_status(meta.publish_batch([item(1)]), sent_ids=["SKU-1"])
        assert status.done and all(r.ok for r in status.results)
        assert meta.fetch_orders().orders == []

    # Consenting again with more catalogs adds them; the first ones stay.
    again = auth.exchange_code(login_code(auth, seller="ivy", catalogs="3"))
    assert [c.id for c in auth.choices(again.credentials)][:2] == [c.id for c in choices]
    assert len(auth.choices(again.credentials)) == 3


def test_token_endpoint_short_and_long_lived_and_system_user_tokens(site, auth, settings):
    code = login_code(auth, seller="otto")
    redirect_uri = MetaAuth.redirect_uri()
    short = token_call(site, **app_params(settings, redirect_uri=redirect_uri, code=code)).json()
    assert set(short) == {"access_token", "token_type", "expires_in"} and short["token_type"] == "bearer"
    assert 3500 <= short["expires_in"] <= 3600
    long = token_call(
        site, **app_params(settings, grant_type="fb_exchange_token", fb_exchange_token=short["access_token"])
    ).json()
    assert set(long) == {"access_token", "token_type", "expires_in"}
    assert abs(long["expires_in"] - 60 * 86400) < 60
    # The client secret proves the app; a wrong one is refused (code 1), an unknown app too (101).
    wrong = token_call(site, **{**app_params(settings), "client_secret": "nope", "code": code})
    assert graph_error(wrong, 1)["message"] == "Error validating client secret."
    unknown_app = token_call(site, client_id="999", client_secret="x", code=code)
    assert graph_error(unknown_app, 101)["message"] == "Error validating application. Invalid application ID."

    # A login configuration that issues business integration system user tokens: no expiry,
    # nothing to extend.
    [account] = SandboxAccount.objects.filter(seller="otto")
    control(site, account.key, settings={"login_token": "system_user"})
    grant = auth.exchange_code(login_code(auth, seller="otto"))
    assert grant.access_expires_at is None and grant.details == {"token_type": "system user"}
    assert [c.id for c in auth.choices(grant.credentials)] == [account.key]


def test_declined_login_goes_back_with_metas_error(site, auth):
    query = consent(auth.authorize_url(state="st-2"), decision="deny")
    assert query["error"] == "access_denied" and query["error_reason"] == "user_denied"
    assert query["state"] == "st-2"
    assert auth.read_callback(query) == ("", "The request was declined on Facebook (Permissions error).")


def test_dialog_refuses_unknown_app_wrong_redirect_and_configuration(site, auth, settings):
    good = dict(parse_qs(urlsplit(auth.authorize_url(state="s")).query))
    for change, words in (
        ({"client_id": "123"}, "Invalid App ID"),
        ({"redirect_uri": f"{site}/channels/connect/meta/callback"}, "URL Blocked"),  # no trailing slash
        ({"redirect_uri": f"{site}/channels/connect/meta/callback/?x=1"}, "URL Blocked"),
        ({"config_id": "200000000000003"}, "Invalid configuration"),
        ({"config_id": ""}, "Invalid configuration"),
    ):
        response = httpx.get(graph_url(site, "/dialog/oauth"), params={**good, **change}, timeout=10)
        assert response.status_code == 400 and words in response.text, (change, response.text)
        # Submitting the form with the changed value is refused the same way.
        posted = httpx.post(
            graph_url(site, "/dialog/oauth"),
            data={**{k: v[0] for k, v in good.items()}, **change, "seller": "ivy", "decision": "allow"},
            timeout=10,
        )
        assert posted.status_code == 400 and words in posted.text
    assert not SandboxAccount.objects.filter(seller="ivy").exists()


def test_code_needs_the_dialogs_redirect_uri_and_works_once(site, auth, settings):
    code = login_code(auth)
    wrong = token_call(site, **app_params(settings, redirect_uri=f"{site}/elsewhere/", code=code))
    error = graph_error(wrong, 100)
    assert error["error_subcode"] == 36008 and "redirect_uri is identical" in error["message"]
    grant = auth.exchange_code(code)  # the code survived the refused attempt
    with pytest.raises(AuthorizationRefused, match="This authorization code has been used"):
        auth.exchange_code(code)
    # Replaying the code revoked what it gave.
    refused = graph_get(site, "/me/businesses", grant.credentials["access_token"], secret=settings.META_APP_SECRET)
    assert graph_error(refused, 190)["message"] == "Invalid OAuth access token."
    with pytest.raises(AuthorizationRefused, match="Invalid verification code"):
        auth.exchange_code("code-never-issued")


# --- appsecret_proof ------------------------------------------------------------------------


def test_every_graph_call_needs_a_valid_appsecret_proof(site, auth, settings):
    token = auth.exchange_code(login_code(auth, seller="ivy")).credentials["access_token"]
    missing = graph_error(graph_get(site, "/me/businesses", token, secret=None), 100, "GraphMethodException")
    assert missing["message"] == "API calls from the server require an appsecret_proof argument"
    assert "error_subcode" not in missing
    wrong = graph_error(graph_get(site, "/me/businesses", token, secret="another-secret"), 100, "GraphMethodException")
    assert wrong["message"] == "Invalid appsecret_proof provided in the API argument"
    ok = graph_get(site, "/me/businesses", token, secret=settings.META_APP_SECRET, fields="id,name")
    assert ok.status_code == 200
    [business] = ok.json()["data"]
    assert business == {"id": business["id"], "name": "ivy business"} and "paging" in ok.json()
    catalogs = graph_get(
        site,
        f"/{business['id']}/owned_product_catalogs",
        token,
        secret=settings.META_APP_SECRET,
        fields="id,name,commerce_merchant_settings{id}",
    ).json()["data"]
    [catalog] = catalogs
    assert set(catalog) == {"id", "name", "commerce_merchant_settings"}
    unknown_field = graph_get(site, f"/{catalog['id']}", token, secret=settings.META_APP_SECRET, fields="id,colour")
    assert "nonexisting field (colour)" in graph_error(unknown_field, 100)["message"]
    # The catalog's own calls too, and the token is checked before its proof.
    batch = graph_get(site, f"/{catalog['id']}/check_batch_request_status", token, secret=None, handle="h")
    assert "appsecret_proof" in graph_error(batch, 100, "GraphMethodException")["message"]
    assert graph_error(graph_get(site, "/me/businesses", "nope", secret=None), 190)


def test_the_adapter_signs_every_call_with_the_accounts_app_secret(site, settings):
    control(
        site,
        META_CREDENTIALS["catalog_id"],
        secret=META_CREDENTIALS["app_secret"],
        access_token=META_CREDENTIALS["access_token"],
        commerce_account_id=META_CREDENTIALS["commerce_account_id"],
        webhook_url="",
        faults={},
    )
    with adapter(site, META_CREDENTIALS) as meta:
        expected = appsecret_proof(META_CREDENTIALS["app_secret"], META_CREDENTIALS["access_token"])
        assert meta.client._client.params["appsecret_proof"] == expected
        handle = meta.publish_batch([item(1)])
        assert meta.batch_status(handle, sent_ids=["SKU-1"]).done
        assert meta.fetch_orders().orders == []
    # Without its own app secret the account's calls are signed with the deployment's, which
    # is not the app this token belongs to: refused as a whole, not item by item.
    own_app_missing = {k: v for k, v in META_CREDENTIALS.items() if k != "app_secret"}
    with adapter(site, own_app_missing) as meta:
        assert meta.credentials["app_secret"] == settings.META_APP_SECRET
        with pytest.raises(AuthorizationRefused, match=r"Invalid appsecret_proof.*Reconnect the account"):
            meta.publish_batch([item(2)])


def test_an_expired_or_revoked_token_stops_the_adapter(site, auth):
    grant = auth.exchange_code(login_code(auth, seller="ivy"))
    [choice] = auth.choices(grant.credentials)
    credentials = {**grant.credentials, **choice.credentials}
    expire(site, choice.id, "expire")
    raw = graph_get(site, f"/{choice.id}", grant.credentials["access_token"], secret=None)
    error = graph_error(raw, 190)
    assert error["error_subcode"] == 463 and error["message"].startswith(
        "Error validating access token: Session has expired on"
    )
    with adapter(site, credentials) as meta, pytest.raises(AuthorizationRefused) as refused:
        meta.publish_batch([item(1)])
    assert str(refused.value).startswith("Meta refused the access token: Error validating access token: Session")
    assert str(refused.value).endswith("Reconnect the account.") and refused.value.code == "190"
    with adapter(site, credentials) as meta, pytest.raises(AuthorizationRefused, match="Reconnect the account"):
        meta.fetch_orders()
    with pytest.raises(AuthorizationRefused, match="no refresh token"):
        auth.refresh(credentials)
    with pytest.raises(AuthorizationRefused, match="Session has expired"):
        auth.choices(grant.credentials)

    revoked = auth.exchange_code(login_code(auth, seller="ivy"))
    expire(site, choice.id, "revoke")
    with (
        adapter(site, {**revoked.credentials, **choice.credentials}) as meta,
        pytest.raises(AuthorizationRefused, match="Invalid OAuth access token"),
    ):
        meta.batch_status("any-handle")


# --- Pasted credentials ---------------------------------------------------------------------


def test_pasted_system_user_token_is_checked_on_its_catalog(site, auth, settings):
    agency = {"catalog_id": "777000000000001", "access_token": "EAAB-agency-system-user-token"}
    control(
        site,
        agency["catalog_id"],
        secret=settings.META_APP_SECRET,
        access_token=agency["access_token"],
        commerce_account_id="777000000000009",
        settings={"catalog_name": "Agency catalog"},
    )
    grant = auth.check(agency)
    assert grant.credentials == {"catalog_id": agency["catalog_id"], "commerce_account_id": "777000000000009"}
    assert grant.details == {"catalog": "Agency catalog"} and grant.access_expires_at is None
    assert auth.check({**agency, "commerce_account_id": "777000000000009"}).credentials == grant.credentials
    with pytest.raises(AuthorizationRefused, match="sells through commerce account 777000000000009, not 1"):
        auth.check({**agency, "commerce_account_id": "1"})

    with pytest.raises(AuthorizationRefused, match="Invalid OAuth access token"):
        auth.check({**agency, "access_token": "EAAB-wrong"})
    # A catalog the token may not use, and one that does not exist.
    control(site, "777000000000002", secret=settings.META_APP_SECRET, access_token="EAAB-someone-else")
    with pytest.raises(AuthorizationRefused, match="object does not exist or missing permissions"):
        auth.check({**agency, "catalog_id": "777000000000002"})
    with pytest.raises(AuthorizationRefused, match=r"(?i)object does not exist"):
        auth.check({**agency, "catalog_id": "777000000000404"})
    with pytest.raises(AuthorizationRefused, match="needs a catalog ID and an access token"):
        auth.check({"catalog_id": agency["catalog_id"]})

    # A partner's own Meta app: its secret signs the proof.
    control(
        site,
        META_CREDENTIALS["catalog_id"],
        secret=META_CREDENTIALS["app_secret"],
        **{
            "access_token": META_CREDENTIALS["access_token"],
            "commerce_account_id": META_CREDENTIALS["commerce_account_id"],
        },
    )
    assert auth.check(META_CREDENTIALS).credentials["commerce_account_id"] == META_CREDENTIALS["commerce_account_id"]
    without_secret = {k: v for k, v in META_CREDENTIALS.items() if k != "app_secret"}
    with pytest.raises(AuthorizationRefused, match="Invalid appsecret_proof"):
        auth.check(without_secret)


def test_a_login_token_sees_only_its_sellers_catalogs(site, auth, settings):
    ivy = auth.exchange_code(login_code(auth, seller="ivy")).credentials
    otto = auth.exchange_code(login_code(auth, seller="otto")).credentials
    [otto_catalog] = auth.choices(otto)
    with pytest.raises(AuthorizationRefused, match="object does not exist or missing permissions"):
        auth.check({**ivy, "catalog_id": otto_catalog.id})
    assert auth.check({**otto, "catalog_id": otto_catalog.id}).credentials["catalog_id"] == otto_catalog.id
    [ivy_business] = graph_get(site, "/me/businesses", ivy["access_token"], secret=settings.META_APP_SECRET).json()[
        "data"
    ]
    [otto_business] = graph_get(site, "/me/businesses", otto["access_token"], secret=settings.META_APP_SECRET).json()[
        "data"
    ]
    foreign = graph_get(
        site, f"/{otto_business['id']}/owned_product_catalogs", ivy["access_token"], secret=settings.META_APP_SECRET
    )
    assert graph_error(foreign, 100)["error_subcode"] == 33
    assert ivy_business["id"] != otto_business["id"]
