"""TikTok Shop's authorisation over real HTTP against the sandbox: the consent page, the code
exchanged for tokens, Get Authorized Shops, refresh, expiry, revocation, pasted credentials
checked, and the seller webhooks (types 6 and 7) reaching our webhook endpoint."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from channels.adapters.auth import AuthorizationRefused, auth_for
from channels.adapters.base import ChannelItem
from channels.adapters.tiktok_shop import TikTokShopAdapter, sign
from channels.models import ChannelAccount, WebhookEvent
from channels.sandbox.control import control_headers
from channels.sandbox.models import SandboxAccount, SandboxGrant
from channels.tests.factories import TIKTOK_CREDENTIALS, make_account
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)

V = "202309"


@pytest.fixture
def auth(live_server, settings):
    # TikTok sends the browser to the redirect URL registered for the app: our callback.
    settings.SITE_URL = live_server.url
    tiktok = auth_for("tiktok_shop", max_attempts=1)
    assert tiktok.api_base_url == f"{live_server.url}/sandbox/tiktok"
    return tiktok


def consent(auth, *, seller="alice-seller", shops="1", decision="allow", state="state-1"):
    """The seller's browser: open the authorisation link, then press Allow or Deny."""
    url = auth.authorize_url(state=state)
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and 'name="decision"' in page.text and 'name="shops"' in page.text
    answer = httpx.post(
        url,
        data={"service_id": parse_qs(urlsplit(url).query)["service_id"][0], "state": state, "seller": seller,
              "shops": shops, "decision": decision},
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def connect(auth, **kwargs):
    location = consent(auth, **kwargs)
    code, refusal = auth.read_callback({k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})
    assert code and not refusal
    return auth.exchange_code(code)


def adapter(auth, credentials):
    return TikTokShopAdapter(base_url=auth.api_base_url, credentials=credentials, max_attempts=1)


def control(live_server, key, **body):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{key}/", headers=control_headers(), json=body, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def grants_control(live_server, key, action):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{key}/grants/",
        headers=control_headers(),
        json={"action": action},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_consent_code_tokens_and_shops(auth, live_server, settings):
    location = consent(auth, shops="2", state="opaque state/1")
    callback = urlsplit(location)
    assert (
        f"{callback.scheme}://{callback.netloc}{callback.path}"
        == f"{live_server.url}/channels/connect/tiktok_shop/callback/"
    )
    query = parse_qs(callback.query)
    assert query["state"] == ["opaque state/1"] and query["code"][0]

    grant = auth.exchange_code(query["code"][0])
    assert set(grant.credentials) == {"access_token", "refresh_token"}
    week = timezone.now() + dt.timedelta(days=7)
    assert abs((grant.access_expires_at - week).total_seconds()) < 60  # seven days, a timestamp
    assert grant.refresh_expires_at > grant.access_expires_at
    assert grant.details["seller_name"] == "alice-seller" and grant.details["seller_base_region"] == "US"
    assert grant.details["open_id"]

    choices = auth.choices(grant.credentials)
    shops = SandboxAccount.objects.filter(seller="alice-seller").order_by("id")
    assert [c.label for c in choices] == ["alice-seller shop 1", "alice-seller shop 2"]
    assert [c.detail for c in choices] == ["US", "GB"]
    assert [c.credentials["shop_cipher"] for c in choices] == [s.shop_cipher for s in shops]
    assert all(c.credentials["shop_id"] == c.id for c in choices)

    # The tokens and a cipher are all an account needs: the deployment's app signs.
    with adapter(auth, {**grant.credentials, "shop_cipher": choices[1].credentials["shop_cipher"]}) as tiktok:
        assert tiktok.credentials["app_key"] == settings.TIKTOK_SHOP_APP_KEY
        assert tiktok.fetch_warehouses()
    # The token opens the seller's shops only: another seller's cipher is refused.
    other = connect(auth, seller="bob-seller")
    bobs = auth.choices(other.credentials)[0].credentials["shop_cipher"]
    with (
        adapter(auth, {**grant.credentials, "shop_cipher": bobs}) as tiktok,
        pytest.raises(AuthorizationRefused) as exc,
    ):
        tiktok.fetch_warehouses()
    assert exc.value.code == "101000"


def test_the_consent_page_refuses_an_unknown_app_and_a_denial_comes_back_without_a_code(auth, live_server):
    refused = httpx.get(f"{auth.api_base_url}/open/authorize", params={"service_id": "123", "state": "s"}, timeout=10)
    assert refused.status_code == 400 and "service_id" in refused.text
    location = consent(auth, decision="deny", state="s-2")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query == {"code": "null", "error": "auth_denied", "state": "s-2"}
    assert auth.read_callback(query) == ("", "The seller declined to authorise the app on TikTok Shop.")
    assert not SandboxGrant.objects.exists()


def test_a_code_works_once_and_a_replay_revokes_its_tokens(auth):
    location = consent(auth)
    code = parse_qs(urlsplit(location).query)["code"][0]
    grant = auth.exchange_code(code)
    with pytest.raises(AuthorizationRefused) as exc:
        auth.exchange_code(code)
    assert "invalid auth code" in str(exc.value) and exc.value.code == "36004004"
    with pytest.raises(AuthorizationRefused):
        auth.choices(grant.credentials)
    with pytest.raises(AuthorizationRefused):
        auth.exchange_code("code-never-issued")


def test_token_calls_refuse_a_wrong_app_and_grant_type(auth, settings):
    code = parse_qs(urlsplit(consent(auth)).query)["code"][0]
    app = {"app_key": settings.TIKTOK_SHOP_APP_KEY, "app_secret": settings.TIKTOK_SHOP_APP_SECRET}

    def token_get(**params):
        query = {**app, "auth_code": code, "grant_type": "authorized_code", **params}
        return httpx.get(f"{auth.api_base_url}/api/v2/token/get", params=query, timeout=10).json()

    assert token_get(app_secret="not-the-secret")["code"] == 36009004
    assert token_get(app_key="someone-else")["message"] == "Invalid credentials. Invalid `app_key` query parameter."
    assert token_get(grant_type="authorization_code")["code"] == 36009004
    assert set(token_get()) == {"code", "message", "request_id", "data"}  # the code was still unused
    assert token_get()["message"] == "invalid auth code"


def test_refresh_replaces_both_tokens_and_keeps_the_authorisation_expiry(auth):
    grant = connect(auth)
    cipher = auth.choices(grant.credentials)[0].credentials["shop_cipher"]
    renewed = auth.refresh(grant.credentials)
    assert renewed.credentials["access_token"] != grant.credentials["access_token"]
    assert renewed.credentials["refresh_token"] != grant.credentials["refresh_token"]
    assert renewed.refresh_expires_at == grant.refresh_expires_at
    with adapter(auth, {**renewed.credentials, "shop_cipher": cipher}) as tiktok:
        assert tiktok.fetch_warehouses()
    with (
        adapter(auth, {**grant.credentials, "shop_cipher": cipher}) as tiktok,
        pytest.raises(AuthorizationRefused) as exc,
    ):
        tiktok.fetch_warehouses()
    assert exc.value.code == "36009004" and "Reconnect the account" in str(exc.value)
    with pytest.raises(AuthorizationRefused) as exc:
        auth.refresh(grant.credentials)  # the old refresh token is spent
    assert "invalid refresh token" in str(exc.value)
    with pytest.raises(AuthorizationRefused):
        auth.refresh({"access_token": renewed.credentials["access_token"]})


def test_an_expired_token_is_refused_with_tiktoks_code_and_a_refresh_revives_it(auth, live_server):
    grant = connect(auth)
    cipher = auth.choices(grant.credentials)[0].credentials["shop_cipher"]
    assert grants_control(live_server, cipher, "expire")["grants"] == 1
    credentials = {**grant.credentials, "shop_cipher": cipher}
    with adapter(auth, credentials) as tiktok, pytest.raises(AuthorizationRefused) as exc:
        tiktok.fetch_warehouses()
    assert exc.value.code == "105002" and exc.value.status == 401
    assert str(exc.value) == (
        "TikTok Shop refused the access token: Expired credentials. The `access_token` or `x-tts-access-token` "
        "header has expired. Reconnect the account."
    )
    # Publishing fails the batch as a whole, not item by item.
    item = ChannelItem(
        id="SHIRT-M", title="Washed linen shirt", description="A shirt.", link="https://alice.example.com/p",
        image_link=f"{live_server.url}/sandbox/_images/600x600.png", price=Decimal("49.9"), currency="USD",
        quantity=5, weight_grams=350,
    )  # fmt: skip
    with adapter(auth, credentials) as tiktok, pytest.raises(AuthorizationRefused):
        tiktok.publish_batch([item])
    renewed = auth.refresh(grant.credentials)
    with adapter(auth, {**renewed.credentials, "shop_cipher": cipher}) as tiktok:
        assert tiktok.fetch_warehouses()


def test_the_token_ttl_knob_shortens_new_tokens(auth, live_server):
    grant = connect(auth)
    cipher = auth.choices(grant.credentials)[0].credentials["shop_cipher"]
    control(live_server, cipher, faults={"token_ttl": 0})
    renewed = auth.refresh(grant.credentials)
    assert renewed.access_expires_at <= timezone.now()
    with pytest.raises(AuthorizationRefused) as exc:
        auth.choices(renewed.credentials)
    assert exc.value.code == "105002"


def test_a_revoked_authorisation_refuses_the_token_and_the_refresh(auth, live_server):
    grant = connect(auth)
    cipher = auth.choices(grant.credentials)[0].credentials["shop_cipher"]
    grants_control(live_server, cipher, "revoke")
    with pytest.raises(AuthorizationRefused) as exc:
        auth.choices(grant.credentials)
    assert "x-tts-access-token" in str(exc.value)
    with pytest.raises(AuthorizationRefused):
        auth.refresh(grant.credentials)


def test_pasted_credentials_are_checked_against_the_authorised_shops(auth, live_server):
    grant = connect(auth, shops="2")
    cipher = auth.choices(grant.credentials)[1].credentials["shop_cipher"]
    checked = auth.check({**grant.credentials, "shop_cipher": cipher})
    assert checked.credentials["shop_cipher"] == cipher and checked.details == {
        "shop_name": "alice-seller shop 2",
        "region": "GB",
    }
    with pytest.raises(AuthorizationRefused) as exc:
        auth.check({"access_token": "not-a-token", "shop_cipher": cipher})
    assert str(exc.value) == (
        "TikTok Shop refused the credentials: Invalid credentials. The `x-tts-access-token` header is invalid."
    )
    foreign = auth.choices(connect(auth, seller="bob-seller").credentials)[0].credentials["shop_cipher"]
    with pytest.raises(AuthorizationRefused) as exc:
        auth.check({**grant.credentials, "shop_cipher": foreign})
    assert "does not list this shop cipher" in str(exc.value)
    # A partner bringing its own app: its key and secret sign the check.
    control(
        live_server,
        TIKTOK_CREDENTIALS["app_key"],
        secret=TIKTOK_CREDENTIALS["app_secret"],
        access_token=TIKTOK_CREDENTIALS["access_token"],
        shop_cipher=TIKTOK_CREDENTIALS["shop_cipher"],
    )
    assert auth.check(dict(TIKTOK_CREDENTIALS)).credentials == TIKTOK_CREDENTIALS
    with pytest.raises(AuthorizationRefused) as exc:
        auth.check({**TIKTOK_CREDENTIALS, "app_secret": "wrong"})
    assert "`sign`" in str(exc.value)


def test_get_authorized_shops_takes_no_shop_cipher(auth, live_server, settings):
    grant = connect(auth)
    path = f"/authorization/{V}/shops"
    params = {"app_key": settings.TIKTOK_SHOP_APP_KEY, "timestamp": str(int(time.time())), "shop_cipher": "x"}
    params["sign"] = sign(secret=settings.TIKTOK_SHOP_APP_SECRET, path=path, params=params)
    answer = httpx.get(
        auth.api_base_url + path, params=params, headers={"x-tts-access-token": grant.credentials["access_token"]}
    ).json()
    assert answer["code"] == 36009004 and "Unexpected identifier" in answer["message"]


def test_revoke_and_expiry_warning_reach_our_webhook_and_mark_the_account(auth, live_server, shop_a):
    from channels.services import webhook_event_process

    grant = connect(auth)
    [choice] = auth.choices(grant.credentials)
    cipher = choice.credentials["shop_cipher"]
    account = make_account(
        shop_a,
        "tiktok_shop",
        credentials={**grant.credentials, "shop_cipher": cipher},
        api_base_url=auth.api_base_url,
    )
    control(live_server, cipher, webhook_url=f"{live_server.url}/webhooks/tiktok_shop/{account.webhook_key}/")

    grants_control(live_server, cipher, "warn_expiry")
    grants_control(live_server, cipher, "revoke")
    with shop_context(shop_a):
        warning, revoked = WebhookEvent.objects.order_by("id")
        assert (warning.event_type, revoked.event_type) == ("7", "6")
        assert f"Shop_id {choice.id} is deauthorized" in revoked.raw_body
        expiry = int(grant.refresh_expires_at.timestamp())
        assert f'"expiration_time": "{expiry}"' in warning.raw_body
        for event in (warning, revoked):
            assert webhook_event_process(event=event).status == WebhookEvent.Status.PROCESSED
        account.refresh_from_db()
        assert account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
        assert "Authorise it again" in account.connection_message
    with pytest.raises(AuthorizationRefused):
        auth.choices(grant.credentials)
