"""Connecting an account: the signed, single-use `state` of an authorisation, the connect
and connection pages, the API's connection resources, and feed fetch tracking. The flows
against each channel's sandbox are in test_connect_flows.py and test_auth_<channel>.py."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from channels.models import ChannelAccount, ChannelConnection, FeedFetch
from channels.tests.factories import make_account
from conftest import api_client_for
from shopadmin.models import ApiKey
from shopadmin.services import api_key_create
from shopadmin.tenancy import all_shops_access, shop_context

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client, channel="pinterest", name="Pins US", **fields) -> tuple[str, str]:
    """Press "Continue to <channel>" on the connect page; returns (consent page URL, state)."""
    response = client.post(
        f"/app/alice/channels/connect/{channel}/", {"how": "authorize", "name": name, "markets": "", **fields}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    location = response["Location"]
    return location, parse_qs(urlparse(location).query)["state"][0]


def callback(client, state, channel="pinterest", **params):
    return client.get(f"/channels/connect/{channel}/callback/", {"state": state, **params})


def any_account() -> bool:
    with all_shops_access():
        return ChannelAccount.all_shops.exists()


def connections(shop):
    with shop_context(shop):
        return list(ChannelConnection.objects.order_by("pk"))


def test_connect_sends_the_merchant_to_the_channel_with_a_signed_state(alice, shop_a):
    location, state = start(client_for(alice))
    assert location.startswith("http://testserver/sandbox/pinterest/oauth/") or "/sandbox/pinterest/" in location
    (connection,) = connections(shop_a)
    assert connection.status == ChannelConnection.Status.STARTED and connection.user_id == alice.pk
    assert connection.nonce and connection.nonce not in state  # the nonce travels signed and compressed
    assert connection.request["name"] == "Pins US"


def test_connect_form_refuses_a_taken_name_before_leaving(alice, shop_a):
    make_account(shop_a, "pinterest", name="Pins US")
    response = client_for(alice).post("/app/alice/channels/connect/pinterest/", {"how": "authorize", "name": "Pins US"})
    assert response.status_code == 400
    assert "exists already" in response.content.decode()
    assert connections(shop_a) == []


def test_callback_with_a_code_hands_the_exchange_to_a_task(alice, shop_a):
    client = client_for(alice)
    _, state = start(client)
    response = callback(client, state, code="code-123")
    (connection,) = connections(shop_a)
    assert response.status_code == 302
    assert response["Location"] == f"/app/alice/channels/connections/{connection.pk}/"
    assert connection.status == ChannelConnection.Status.CHECKING
    assert connection.nonce == ""  # single use
    assert connection.secrets["code"] == "code-123"
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.content.decode()


def test_forged_state_writes_nothing(alice, shop_a):
    client = client_for(alice)
    start(client)
    before = [(c.status, c.nonce) for c in connections(shop_a)]
    for forged in ("", "not-a-state", "eyJjIjoxfQ:1tX:forged"):
        response = callback(client, forged, code="code-123")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert [(c.status, c.nonce) for c in connections(shop_a)] == before
    assert not any_account()


def test_replayed_state_writes_nothing(alice, shop_a):
    client = client_for(alice)
    _, state = start(client)
    assert callback(client, state, code="first").status_code == 302
    response = callback(client, state, code="second")
    assert response.status_code == 400
    assert "used already" in response.content.decode()
    (connection,) = connections(shop_a)
    assert connection.secrets["code"] == "first"


def test_expired_state_writes_nothing(alice, shop_a, settings):
    client = client_for(alice)
    _, state = start(client)
    settings.CHANNEL_CONNECT_MAX_AGE_MINUTES = -1
    response = callback(client, state, code="late")
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert connections(shop_a)[0].status == ChannelConnection.Status.STARTED


def test_charlie_cannot_complete_an_authorisation_started_in_alices_shop(alice, charlie, shop_a, shop_b):
    _, state = start(client_for(alice))
    response = callback(client_for(charlie), state, code="stolen")
    assert response.status_code == 400
    assert "someone else" in response.content.decode()
    (connection,) = connections(shop_a)
    assert connection.status == ChannelConnection.Status.STARTED and connection.nonce
    assert connections(shop_b) == []


def test_another_member_of_the_shop_cannot_complete_it_either(alice, bob, shop_a):
    _, state = start(client_for(alice))
    assert callback(client_for(bob), state, code="borrowed").status_code == 400
    assert connections(shop_a)[0].status == ChannelConnection.Status.STARTED


def test_a_member_who_lost_the_right_to_connect_cannot_finish(alice, shop_a):
    from shopadmin.roles import Role

    client = client_for(alice)
    _, state = start(client)
    with shop_context(shop_a):
        shop_a.memberships.filter(user=alice).update(role=Role.VIEWER)
    assert callback(client, state, code="code").status_code == 400
    assert connections(shop_a)[0].status == ChannelConnection.Status.STARTED


def test_a_state_for_another_channel_writes_nothing(alice, shop_a):
    client = client_for(alice)
    _, state = start(client)
    assert callback(client, state, channel="tiktok_shop", code="code").status_code == 400
    assert connections(shop_a)[0].status == ChannelConnection.Status.STARTED


def test_the_merchant_declining_on_the_channel_ends_the_attempt(alice, shop_a):
    client = client_for(alice)
    _, state = start(client)
    response = callback(client, state, error="access_denied", error_description="The user denied access")
    (connection,) = connections(shop_a)
    assert connection.status == ChannelConnection.Status.FAILED
    assert "did not authorise" in connection.message
    page = client.get(response["Location"])
    assert "Try again" in page.content.decode()
    assert not any_account()


def test_callback_needs_a_signed_in_user(alice, shop_a, client):
    _, state = start(client_for(alice))
    response = callback(client, state, code="code")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert connections(shop_a)[0].status == ChannelConnection.Status.STARTED


def test_viewer_cannot_start_a_connection(bob, shop_a):
    from shopadmin.roles import Role

    with shop_context(shop_a):
        shop_a.memberships.filter(user=bob).update(role=Role.VIEWER)
    response = client_for(bob).post("/app/alice/channels/connect/pinterest/", {"how": "authorize", "name": "x"})
    assert response.status_code == 403
    assert connections(shop_a) == []


def test_connection_pages_are_per_shop(alice, charlie, shop_a, shop_b):
    client = client_for(alice)
    _, state = start(client)
    callback(client, state, code="code")
    (connection,) = connections(shop_a)
    assert client_for(charlie).get(f"/app/charlie/channels/connections/{connection.pk}/").status_code == 404
    assert client_for(charlie).get(f"/app/alice/channels/connections/{connection.pk}/").status_code == 404


def test_choosing_among_several_connects_the_pick(alice, bob, shop_a):
    """The choice page lists what the authorisation gives access to; only the starter picks."""
    from channels.connections import connection_choose
    from channels.crypto import SecretDict

    with shop_context(shop_a):
        connection = ChannelConnection.objects.create(
            shop=shop_a,
            channel="pinterest",
            method=ChannelConnection.Method.AUTHORIZE,
            status=ChannelConnection.Status.CHOOSE,
            user=alice,
            request={"name": "Pins", "markets": [], "methods": {}},
            secrets=SecretDict(
                {
                    "credentials": {"access_token": "pina_abc", "refresh_token": "pinr_abc"},
                    "access_expires_at": "2027-01-05T00:00:00+00:00",
                    "refresh_expires_at": "2027-12-01T00:00:00+00:00",
                    "choices": {"111": {"ad_account_id": "111"}, "222": {"ad_account_id": "222"}},
                }
            ),
            choices=[{"id": "111", "label": "Main", "detail": "US"}, {"id": "222", "label": "Other", "detail": ""}],
        )
    client = client_for(alice)
    page = client.get(f"/app/alice/channels/connections/{connection.pk}/")
    assert page.status_code == 200 and "Main" in page.content.decode() and "Other" in page.content.decode()
    assert client.post(f"/app/alice/channels/connections/{connection.pk}/", {"choice": "999"}).status_code == 400
    with shop_context(shop_a), pytest.raises(Exception, match="someone else"):
        connection_choose(connection=connection, choice_id="222", user=bob)
    response = client.post(f"/app/alice/channels/connections/{connection.pk}/", {"choice": "222"})
    assert response.status_code == 302
    with shop_context(shop_a):
        account = ChannelAccount.objects.get()
        connection.refresh_from_db()
    assert account.credentials["ad_account_id"] == "222" and account.credentials["refresh_token"] == "pinr_abc"
    assert account.token_expires_at.year == 2027 and account.connection_status == "connected"
    assert connection.status == "connected" and connection.account_id == account.pk
    assert dict(connection.secrets) == {}  # the tokens live on the account only
    assert response["Location"] == f"/app/alice/channels/{account.pk}/"


def test_feed_channel_connects_without_credentials(alice, shop_a):
    response = client_for(alice).post(
        "/app/alice/channels/connect/google_merchant/", {"how": "feed", "name": "Google US"}
    )
    assert response.status_code == 302
    with shop_context(shop_a):
        assert ChannelAccount.objects.get().channel == "google_merchant"


def test_connect_page_offers_the_channel_and_pasting(alice, shop_a):
    page = client_for(alice).get("/app/alice/channels/connect/tiktok_shop/").content.decode()
    assert "Continue to TikTok Shop" in page
    assert "Paste credentials instead" in page
    assert 'name="cred_app_secret"' not in page  # the deployment's app, never the merchant's


# --- Pasted credentials: shape first, then the channel (in a task) ------------------------------


def test_pasted_credentials_wait_for_the_channel(alice, shop_a):
    client = client_for(alice)
    response = client.post(
        "/app/alice/channels/connect/pinterest/",
        {"how": "paste", "name": "Pins", "cred_access_token": "pina_abc", "cred_ad_account_id": "549755885175"},
    )
    (connection,) = connections(shop_a)
    assert response.status_code == 302 and response["Location"].endswith(f"/connections/{connection.pk}/")
    assert connection.method == "pasted" and connection.status == "checking"
    with shop_context(shop_a):
        assert not ChannelAccount.objects.exists()  # nothing saved before the channel says yes


def test_pasted_credentials_of_the_wrong_shape_are_field_errors(alice, shop_a):
    response = client_for(alice).post(
        "/app/alice/channels/connect/pinterest/",
        {"how": "paste", "name": "Pins", "cred_access_token": "pina_abc", "cred_ad_account_id": "not-digits"},
    )
    assert response.status_code == 400 and "digits only" in response.content.decode()
    assert connections(shop_a) == []


# --- API ---------------------------------------------------------------------------------------------


def test_api_pasted_credentials_answer_202_with_the_check_to_poll(api_a, api_b, shop_a):
    response = api_a.post(
        "/api/v1/channel-accounts/",
        {
            "channel": "pinterest",
            "name": "Pins API",
            "credentials": {"access_token": "pina_abc", "ad_account_id": "549755885175"},
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "checking" and body["account"] is None
    assert response["Location"] == f"/api/v1/channel-connections/{body['id']}/"
    assert api_a.get(response["Location"]).json()["status"] == "checking"
    assert api_b.get(response["Location"]).status_code == 404
    assert api_a.get("/api/v1/channel-accounts/").json()["results"] == []


def test_api_feed_channel_is_created_at_once(api_a):
    response = api_a.post("/api/v1/channel-accounts/", {"channel": "snapchat", "name": "Snap"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["connection_status"] == "connected" and body["token_expires_at"] is None


def test_api_authorize_returns_the_consent_url_bound_to_the_keys_user(alice, shop_a):
    from rest_framework.test import APIClient

    _key, secret = api_key_create(
        shop=shop_a, name="partner", scopes=["channels:read", "channels:write"], created_by=alice
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.post("/api/v1/channel-connections/", {"channel": "tiktok_shop", "name": "TikTok US"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    state = parse_qs(urlparse(body["authorization_url"]).query)["state"][0]
    assert body["connection"]["status"] == "started"
    account = make_account(shop_a, "pinterest", name="Pins")
    again = api.post(f"/api/v1/channel-accounts/{account.pk}/authorize/")
    assert again.status_code == 200 and "authorization_url" in again.json()
    # The merchant comes back signed in as the key's user: the callback takes the code.
    assert callback(client_for(alice), state, channel="tiktok_shop", code="c").status_code == 302


def test_api_authorize_needs_a_key_that_belongs_to_a_member(api_a, shop_a):
    response = api_a.post("/api/v1/channel-connections/", {"channel": "pinterest", "name": "P"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert connections(shop_a) == []
    with all_shops_access():
        assert ApiKey.all_shops.filter(created_by__isnull=True).exists()


def test_api_feed_channels_have_nothing_to_authorise(alice, shop_a):
    api = api_client_for(shop_a)
    response = api.post("/api/v1/channel-connections/", {"channel": "snapchat", "name": "S"}, format="json")
    assert response.status_code == 400


def test_api_charlie_cannot_authorise_alices_account(api_b, shop_a):
    account = make_account(shop_a, "pinterest", name="Pins")
    assert api_b.post(f"/api/v1/channel-accounts/{account.pk}/authorize/").status_code == 404


# --- Feeds: when the channel last fetched them -------------------------------------------------------


def test_feed_fetches_are_recorded_per_feed_and_shown(alice, shop_a, client):
    account = make_account(shop_a, "google_merchant", name="Google", credentials={})
    with shop_context(shop_a):
        from channels.selectors import account_feeds

        url = account_feeds(account)[0]["url"]
    path = urlparse(url).path
    ua = "Googlebot/2.1 (+http://www.google.com/bot.html)"
    assert client.get(path, HTTP_USER_AGENT=ua).status_code == 200
    assert client.get(path, HTTP_USER_AGENT=ua).status_code == 200
    with shop_context(shop_a):
        fetch = FeedFetch.objects.get()
    assert fetch.fetches == 2 and fetch.user_agent == ua and fetch.feed == path.rsplit("/", 1)[-1]
    page = client_for(alice).get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert "Googlebot/2.1" in page
    with shop_context(shop_a):
        other = make_account(shop_a, "snapchat", name="Snap", credentials={})
    page = client_for(alice).get(f"/app/alice/channels/{other.pk}/").content.decode()
    assert "Not fetched yet" in page


def test_rotate_secrets_reencrypts_codes_and_tokens_of_connections_under_way(alice, shop_a, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command
    from django.db import connection as db

    client = client_for(alice)
    _, state = start(client)
    callback(client, state, code="code-to-keep")
    (pending,) = connections(shop_a)

    def raw():
        with shop_context(shop_a), db.cursor() as cursor:
            cursor.execute("SELECT secrets FROM channels_channelconnection WHERE id = %s", [pending.pk])
            return cursor.fetchone()[0]

    before = raw()
    assert "code-to-keep" not in before  # encrypted at rest
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert raw() != before and Fernet(new_key.encode()).decrypt(raw().encode())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert connections(shop_a)[0].secrets["code"] == "code-to-keep"


def test_reading_listing_settings_writes_nothing(alice, shop_a, client):
    """A feed GET (or any read) of a new account's settings stores no row; a change does."""
    from channels.listings import listing_settings_for, listing_settings_update
    from channels.models import ListingSettings
    from channels.selectors import account_feeds

    account = make_account(shop_a, "google_merchant", name="Google", credentials={})
    with shop_context(shop_a):
        url = account_feeds(account)[0]["url"]
        assert listing_settings_for(account).scope == ListingSettings.Scope.ALL_ACTIVE
    assert client.get(urlparse(url).path).status_code == 200
    with shop_context(shop_a):
        assert not ListingSettings.objects.exists()
        listing_settings_update(account=account, storefront_url="https://alice.example.com")
        assert ListingSettings.objects.get().storefront_url == "https://alice.example.com"
