import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from channels.crypto import SecretDict
from channels.models import ChannelAccount
from channels.services import channel_account_update
from channels.tests.factories import META_CREDENTIALS, SECRET_VALUES, TIKTOK_CREDENTIALS, make_account
from conftest import api_client_for
from shopadmin.models import AuditLogEntry
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context


@pytest.fixture(autouse=True)
def canada(request):
    """Shop A sells to Canada too (in CAD), so an account can sell there; charlie's shop does not."""
    if "shop_a" not in request.fixturenames:
        return None
    from localization.services import market_create

    shop = request.getfixturevalue("shop_a")
    with shop_context(shop):
        return market_create(shop=shop, name="Canada", countries=["CA"], currency="CAD", languages=["en", "fr"])


pytestmark = pytest.mark.django_db


def _raw_credentials(account_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_channelaccount WHERE id = %s", [account_id])
        return cursor.fetchone()[0]


# --- Model and service ------------------------------------------------------------------


def test_credentials_encrypted_at_rest(in_shop_a):
    account = make_account(in_shop_a)
    raw = _raw_credentials(account.pk)
    for secret in SECRET_VALUES[:3]:
        assert secret not in raw
    assert ChannelAccount.objects.get(pk=account.pk).credentials == META_CREDENTIALS


def test_credentials_repr_and_audit_never_show_secrets(in_shop_a):
    account = make_account(in_shop_a)
    assert META_CREDENTIALS["access_token"] not in repr(account.credentials)
    assert META_CREDENTIALS["access_token"] not in str(account.credentials)
    for entry in AuditLogEntry.objects.all():
        for secret in SECRET_VALUES:
            assert secret not in str(entry.changes)


def test_rotate_secrets_reencrypts_with_newest_key(in_shop_a, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    account = make_account(in_shop_a)
    before = _raw_credentials(account.pk)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = _raw_credentials(account.pk)
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode())  # readable with the new key alone
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ChannelAccount.objects.get(pk=account.pk).credentials == META_CREDENTIALS


def test_credentials_validated_per_channel(in_shop_a):
    with pytest.raises(ValidationError) as exc:
        make_account(in_shop_a, "meta", credentials={"catalog_id": "abc", "access_token": "x", "bogus": "y"})
    errors = exc.value.message_dict
    assert "digits only" in errors["credentials.catalog_id"][0]
    assert "credentials.app_secret" not in errors  # the deployment's app secret stands in
    assert "expected: catalog_id" in errors["credentials.bogus"][0]
    with pytest.raises(ValidationError) as exc:
        make_account(in_shop_a, "snapchat", credentials={"token": "x"})
    assert "none" in exc.value.message_dict["credentials.token"][0]
    make_account(in_shop_a, "snapchat", credentials={})


def test_update_merges_credentials(in_shop_a):
    account = make_account(in_shop_a, "tiktok_shop")
    channel_account_update(account=account, credentials={"access_token": "ROW_new-token-0000000000"})
    stored = ChannelAccount.objects.get(pk=account.pk).credentials
    assert stored["access_token"] == "ROW_new-token-0000000000"
    assert stored["app_secret"] == TIKTOK_CREDENTIALS["app_secret"]
    assert isinstance(stored, SecretDict)


def test_default_api_base_url_and_home_market(in_shop_a):
    from channels.selectors import account_feeds, account_markets

    account = make_account(in_shop_a, "meta")
    from django.conf import settings

    assert account.api_base_url == f"https://graph.facebook.com/{settings.META_GRAPH_API_VERSION}"
    assert settings.META_GRAPH_API_VERSION == "v25.0"
    assert account_markets(account) == [{"market": "US", "country": "US", "language": "en", "currency": "USD"}]
    feeds = account_feeds(account)
    assert [f["format"] for f in feeds] == ["csv", "xml"]
    assert all(account.feed_token in f["url"] for f in feeds)


def test_plain_http_refused_without_sandbox(in_shop_a, settings):
    settings.SANDBOX_ENABLED = False
    settings.DEBUG = False
    with pytest.raises(ValidationError) as exc:
        make_account(in_shop_a, "pinterest", api_base_url="http://evil.example.com")
    assert "https" in exc.value.message_dict["api_base_url"][0]


# --- API --------------------------------------------------------------------------------


def _post(api, **overrides):
    body = {"channel": "meta", "name": "FB US", "credentials": META_CREDENTIALS, "markets": ["US", "CA"]}
    body.update(overrides)
    return api.post("/api/v1/channel-accounts/", body, format="json")


def _create(api, shop, **overrides):
    """An account as the API shows it once the channel accepted its credentials (the check
    itself is in test_connect_flows.py)."""
    account = make_account(shop, "meta", name=overrides.get("name", "FB US"), markets=["US", "CA"])
    return api.get(f"/api/v1/channel-accounts/{account.pk}/")


def test_api_create_checks_credentials_with_the_channel_first(api_a, shop_a):
    response = _post(api_a)
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "checking" and data["method"] == "pasted" and data["account"] is None
    body = response.content.decode()
    for secret in SECRET_VALUES:
        assert secret not in body
    with shop_context(shop_a):
        assert not ChannelAccount.objects.exists()


def test_api_account_contract(api_a, shop_a):
    response = _create(api_a, shop_a)
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) >= {"id", "webhook_url", "feeds", "token_expires_at", "last_success_at", "last_error"}
    assert data["webhook_url"].startswith("http") and "/webhooks/meta/" in data["webhook_url"]
    assert {(f["market"], f["format"]) for f in data["feeds"]} == {
        ("US", "csv"),
        ("US", "xml"),
        ("CA", "csv"),
        ("CA", "xml"),
    }
    assert set(data["feeds"][0]) == {"market", "language", "format", "url"}
    assert "credentials" not in data
    body = response.content.decode()
    for secret in SECRET_VALUES:
        assert secret not in body


@pytest.mark.parametrize("site_url", ["https://shop.example.com", ""])
def test_api_feed_urls_are_absolute(api_a, shop_a, settings, site_url):
    """The document says `format: uri`: a feed URL is absolute even without a SITE_URL."""
    from urllib.parse import urlsplit

    settings.SITE_URL = site_url
    created = _create(api_a, shop_a).json()
    listed = api_a.get("/api/v1/channel-accounts/").json()["results"][0]
    for feed in [*created["feeds"], *listed["feeds"]]:
        parts = urlsplit(feed["url"])
        assert parts.scheme in {"http", "https"} and parts.netloc and parts.path.startswith("/feeds/"), feed


def test_api_validation_errors_are_problems(api_a):
    response = _post(api_a, credentials={"catalog_id": "x"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert "credentials.catalog_id" in fields and "credentials.access_token" in fields


def test_api_list_get_patch_delete_never_show_secrets(api_a, shop_a):
    account_id = _create(api_a, shop_a).json()["id"]
    for response in (
        api_a.get("/api/v1/channel-accounts/"),
        api_a.get(f"/api/v1/channel-accounts/{account_id}/"),
        api_a.patch(f"/api/v1/channel-accounts/{account_id}/", {"name": "FB US+"}, format="json"),
    ):
        assert response.status_code == 200, response.content
        body = response.content.decode()
        for secret in SECRET_VALUES:
            assert secret not in body
    rotated = api_a.patch(
        f"/api/v1/channel-accounts/{account_id}/",
        {"credentials": {"access_token": "EAAB-rotated-token-99999999"}},
        format="json",
    )
    assert rotated.status_code == 202  # the channel checks the new token before it replaces the old
    assert "EAAB-rotated-token-99999999" not in rotated.content.decode()
    with shop_context(shop_a):
        assert ChannelAccount.objects.get(pk=account_id).credentials == META_CREDENTIALS
    assert api_a.get(f"/api/v1/channel-accounts/{account_id}/").json()["name"] == "FB US+"
    assert api_a.delete(f"/api/v1/channel-accounts/{account_id}/").status_code == 204


def test_api_rotate_feed_token(api_a, shop_a):
    created = _create(api_a, shop_a).json()
    rotated = api_a.post(f"/api/v1/channel-accounts/{created['id']}/rotate-feed-token/").json()
    assert rotated["feeds"][0]["url"] != created["feeds"][0]["url"]


def test_api_charlie_cannot_see_or_touch_alices_account(api_a, api_b, shop_a):
    account_id = _create(api_a, shop_a).json()["id"]
    assert api_b.get(f"/api/v1/channel-accounts/{account_id}/").status_code == 404
    assert api_b.patch(f"/api/v1/channel-accounts/{account_id}/", {"name": "x"}, format="json").status_code == 404
    assert api_b.delete(f"/api/v1/channel-accounts/{account_id}/").status_code == 404
    assert api_b.post(f"/api/v1/channel-accounts/{account_id}/rotate-feed-token/").status_code == 404
    assert api_b.get("/api/v1/channel-accounts/").json()["results"] == []


def test_api_key_without_channels_write_refused(shop_a):
    reader = api_client_for(shop_a, scopes=["channels:read"], name="reader")
    response = _post(reader)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert reader.get("/api/v1/channel-accounts/").status_code == 200
    nothing = api_client_for(shop_a, scopes=["catalog:read"], name="catalog only")
    assert nothing.get("/api/v1/channel-accounts/").status_code == 403


def test_api_idempotent_create(api_a):
    first = api_a.post(
        "/api/v1/channel-accounts/",
        {"channel": "snapchat", "name": "Snap"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    again = api_a.post(
        "/api/v1/channel-accounts/",
        {"channel": "snapchat", "name": "Snap"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


# --- Merchant UI ------------------------------------------------------------------------


def test_ui_alice_pastes_credentials_and_nothing_is_saved_before_the_check(alice_client, shop_a):
    response = alice_client.post(
        "/app/alice/channels/connect/meta/",
        {"how": "paste", "name": "FB", **{f"cred_{k}": v for k, v in META_CREDENTIALS.items()}},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "/channels/connections/" in response["Location"]
    page = alice_client.get(response["Location"]).content.decode()
    assert "Checking with" in page or "checking with" in page
    for secret in SECRET_VALUES[:3]:
        assert secret not in page
    with shop_context(shop_a):
        assert not ChannelAccount.objects.exists()


def test_ui_alice_sees_her_account(alice_client, shop_a):
    account = make_account(shop_a, "meta", name="FB", markets=["US"])
    page = alice_client.get(f"/app/alice/channels/{account.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "/webhooks/meta/" in body
    for secret in SECRET_VALUES[:3]:
        assert secret not in body
    listing = alice_client.get("/app/alice/channels/")
    assert "FB" in listing.content.decode() and 'aria-current="page"' in listing.content.decode()


def test_ui_connect_shows_field_errors(alice_client):
    fields = {f"cred_{k}": v for k, v in META_CREDENTIALS.items()} | {"cred_catalog_id": "abc"}
    response = alice_client.post("/app/alice/channels/connect/meta/", {"how": "paste", "name": "FB", **fields})
    assert response.status_code == 400
    assert "digits only" in response.content.decode()


def test_ui_bob_editor_can_edit_and_rotate(bob_client, shop_a):
    account = make_account(shop_a)
    old_token = account.feed_token
    response = bob_client.post(f"/app/alice/channels/{account.pk}/rotate-feed-token/")
    assert response.status_code == 302
    with shop_context(shop_a):
        assert ChannelAccount.objects.get(pk=account.pk).feed_token != old_token
    response = bob_client.post(f"/app/alice/channels/{account.pk}/", {"name": "Renamed", "markets": ""})
    assert response.status_code == 302
    with shop_context(shop_a):
        stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.name == "Renamed"
    assert stored.credentials == META_CREDENTIALS  # empty credential fields keep the stored values


def test_ui_viewer_cannot_write(client, bob, shop_a):
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.filter(user=bob).update(role=Role.VIEWER)
    client.force_login(bob)
    account = make_account(shop_a)
    assert client.get("/app/alice/channels/").status_code == 200
    assert client.get(f"/app/alice/channels/{account.pk}/").status_code == 200
    assert client.get("/app/alice/channels/connect/meta/").status_code == 403
    assert client.post(f"/app/alice/channels/{account.pk}/rotate-feed-token/").status_code == 403
    assert client.post(f"/app/alice/channels/{account.pk}/delete/").status_code == 403
    assert client.post(f"/app/alice/channels/{account.pk}/", {"name": "x"}).status_code == 403


def test_ui_charlie_gets_404_on_alices_account(charlie_client, shop_a, shop_b):
    account = make_account(shop_a)
    assert charlie_client.get(f"/app/charlie/channels/{account.pk}/").status_code == 404
    assert charlie_client.post(f"/app/charlie/channels/{account.pk}/delete/").status_code == 404
    assert charlie_client.get("/app/alice/channels/").status_code == 404
    with shop_context(shop_a):
        assert ChannelAccount.objects.filter(pk=account.pk).exists()
