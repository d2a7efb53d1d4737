"""An account's publish method (API or feed), checkout method and connection status: the
form, the API (with its OpenAPI schema) and the pages, and tenant isolation."""

import pytest
from django.test import Client

from channels.account_methods import checkout_methods, publish_methods
from channels.forms import ChannelAccountForm
from channels.models import ChannelAccount, ChannelConnection
from channels.tests.factories import META_CREDENTIALS, PINTEREST_CREDENTIALS, TIKTOK_CREDENTIALS, make_account
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

CREDENTIALS = {"meta": META_CREDENTIALS, "pinterest": PINTEREST_CREDENTIALS, "tiktok_shop": TIKTOK_CREDENTIALS}


def stored(shop, pk) -> ChannelAccount:
    with shop_context(shop):
        return ChannelAccount.objects.get(pk=pk)


# --- Which channel offers what (read from the adapters' capabilities) ----------------------------


def test_choices_follow_the_adapters_capabilities():
    assert publish_methods("pinterest") == ("api", "feed")
    assert publish_methods("meta") == ("api", "feed")
    assert publish_methods("tiktok_shop") == ("api",)
    assert publish_methods("snapchat") == ("feed",)
    assert publish_methods("google_merchant") == ("feed",)
    assert checkout_methods("meta") == ("on_channel", "checkout_url")
    for channel in ("pinterest", "tiktok_shop", "snapchat", "google_merchant"):
        assert checkout_methods(channel) == ()


# --- Form ------------------------------------------------------------------------------------


def test_form_offers_only_the_channels_choices(in_shop_a):
    pinterest = ChannelAccountForm(channel="pinterest")
    assert [v for v, _label in pinterest.fields["publish_method"].choices] == ["api", "feed"]
    assert "feed data source" in str(pinterest.fields["publish_method"].help_text)
    assert "checkout_method" not in pinterest.fields
    meta = ChannelAccountForm(channel="meta")
    assert {"publish_method", "checkout_method"} <= set(meta.fields)
    for channel in ("tiktok_shop", "snapchat", "google_merchant"):
        form = ChannelAccountForm(channel=channel)
        assert "publish_method" not in form.fields and "checkout_method" not in form.fields


def test_form_refuses_a_method_it_does_not_offer(in_shop_a):
    data = {"name": "Pins", **{f"cred_{k}": v for k, v in PINTEREST_CREDENTIALS.items()}}
    form = ChannelAccountForm({**data, "publish_method": "carrier-pigeon"}, channel="pinterest")
    assert not form.is_valid() and "publish_method" in form.errors
    form = ChannelAccountForm({**data, "publish_method": "feed"}, channel="pinterest")
    assert form.is_valid(), form.errors
    assert form.methods() == {"publish_method": "feed"}
    # Left out: nothing is asked for (the default on connect, the stored value on edit).
    form = ChannelAccountForm(data, channel="pinterest")
    assert form.is_valid() and form.methods() == {}


# --- Merchant pages ----------------------------------------------------------------------------


def connect(client, channel, **fields):
    """Start connecting as a merchant does: "Continue to <channel>" (a feed channel is created at once)."""
    how = "feed" if channel in ("snapchat", "google_merchant") else "authorize"
    data = {"how": how, "name": f"{channel} shop", **fields}
    return client.post(f"/app/alice/channels/connect/{channel}/", data)


def accepted(shop, channel) -> ChannelAccount:
    """The channel accepted the newest attempt: the account is written as the connect task
    writes it (the channels' own flows are tested against their sandboxes elsewhere)."""
    from channels.connections import _finish
    from channels.crypto import SecretDict

    with shop_context(shop):
        connection = ChannelConnection.objects.filter(channel=channel).latest("pk")
        connection.secrets = SecretDict({"credentials": CREDENTIALS[channel]})
        connection.status = ChannelConnection.Status.CHECKING
        connection = _finish(connection, choice_id=None)
        assert connection.status == "connected", connection.message
        return connection.account


def test_ui_pinterest_fed_by_our_feed_shows_its_feed_urls(alice_client, shop_a):
    page = alice_client.get("/app/alice/channels/connect/pinterest/")
    assert page.status_code == 200
    assert 'name="publish_method"' in page.content.decode()
    response = connect(alice_client, "pinterest", publish_method="feed")
    assert response.status_code == 302, response.content.decode()[:2000]
    account = accepted(shop_a, "pinterest")
    assert stored(shop_a, account.pk).publish_method == "feed"
    body = alice_client.get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert "The channel fetches our feed" in body
    assert "/feeds/" in body and "pinterest-us-en.csv" in body


def test_ui_pinterest_through_the_api_says_why_it_has_no_feed(alice_client, shop_a):
    response = connect(alice_client, "pinterest")
    assert response.status_code == 302
    account = accepted(shop_a, "pinterest")
    assert stored(shop_a, account.pk).publish_method == "api"
    body = alice_client.get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert 'id="feed-urls-hidden"' in body and "pinterest-us-en.csv" not in body


def test_ui_feed_only_and_api_only_channels_get_their_one_method(alice_client, shop_a):
    refused = connect(alice_client, "snapchat", publish_method="api")
    assert refused.status_code == 400
    assert "Snapchat fetches our feed" in refused.content.decode()
    refused = connect(alice_client, "tiktok_shop", publish_method="feed")
    assert refused.status_code == 400
    assert "TikTok Shop takes listings through its API only" in refused.content.decode()
    refused = connect(alice_client, "pinterest", checkout_method="checkout_url")
    assert refused.status_code == 400 and "offers no choice of checkout" in refused.content.decode()
    assert connect(alice_client, "snapchat").status_code == 302
    assert connect(alice_client, "tiktok_shop", publish_method="api").status_code == 302
    accepted(shop_a, "tiktok_shop")
    with shop_context(shop_a):
        methods = dict(ChannelAccount.objects.values_list("channel", "publish_method"))
    assert methods == {"snapchat": "feed", "tiktok_shop": "api"}


def test_ui_meta_checkout_method(alice_client, shop_a):
    response = connect(alice_client, "meta", checkout_method="checkout_url")
    assert response.status_code == 302, response.content.decode()[:2000]
    account_id = accepted(shop_a, "meta").pk
    assert stored(shop_a, account_id).checkout_method == "checkout_url"
    body = alice_client.get(f"/app/alice/channels/{account_id}/").content.decode()
    assert 'id="checkout-method"' in body and "checkout URL" in body


def test_ui_bob_switches_pinterest_to_the_feed_and_it_is_audited(bob_client, shop_a):
    account = make_account(shop_a, "pinterest")
    response = bob_client.post(f"/app/alice/channels/{account.pk}/", {"name": account.name, "publish_method": "feed"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored(shop_a, account.pk).publish_method == "feed"
    with shop_context(shop_a):
        entry = AuditLogEntry.objects.filter(action="channel_account.update").order_by("-id").first()
    assert entry.changes["publish_method"] == ["api", "feed"]
    # Saving again without the field keeps the stored method.
    bob_client.post(f"/app/alice/channels/{account.pk}/", {"name": account.name})
    assert stored(shop_a, account.pk).publish_method == "feed"


def test_ui_account_needing_reconnection_says_so_with_the_message(alice_client, shop_a):
    account = make_account(shop_a, "tiktok_shop", name="TikTok US")
    with shop_context(shop_a):
        ChannelAccount.objects.filter(pk=account.pk).update(
            connection_status="needs_reconnect", connection_message="The seller revoked the app's authorisation."
        )
    detail = alice_client.get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert 'id="connection-notice"' in detail and "This account needs reconnecting." in detail
    assert "The seller revoked the app&#x27;s authorisation." in detail
    listing = alice_client.get("/app/alice/channels/").content.decode()
    assert "TikTok US needs reconnecting." in listing and "The seller revoked the app&#x27;s authorisation." in listing


def test_ui_connected_account_shows_no_notice(alice_client, shop_a):
    account = make_account(shop_a, "pinterest")
    assert 'id="connection-notice"' not in alice_client.get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert "needs reconnecting" not in alice_client.get("/app/alice/channels/").content.decode()


def test_ui_charlie_cannot_change_alices_methods(charlie_client, shop_a):
    account = make_account(shop_a, "pinterest")
    response = charlie_client.post(f"/app/charlie/channels/{account.pk}/", {"name": "x", "publish_method": "feed"})
    assert response.status_code == 404
    assert stored(shop_a, account.pk).publish_method == "api"


# --- API ---------------------------------------------------------------------------------------


def create(api, channel, **fields):
    body = {"channel": channel, "name": f"{channel} API", "credentials": CREDENTIALS.get(channel, {}), **fields}
    return api.post("/api/v1/channel-accounts/", body, format="json")


def problem_fields(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return {e["field"]: e.get("detail") or e.get("message") or "" for e in response.json()["errors"]}


def test_api_create_with_methods_and_read_only_connection(api_a, shop_a):
    response = create(api_a, "pinterest", publish_method="feed", connection_status="needs_reconnect")
    assert response.status_code == 202, response.content
    data = api_a.get(f"/api/v1/channel-accounts/{accepted(shop_a, 'pinterest').pk}/").json()
    assert data["publish_method"] == "feed"
    assert data["connection_status"] == "connected" and data["connection_message"] == ""
    assert {f["format"] for f in data["feeds"]} == {"csv", "tsv"}
    meta = create(api_a, "meta", checkout_method="checkout_url")
    assert meta.status_code == 202, meta.content
    meta = api_a.get(f"/api/v1/channel-accounts/{accepted(shop_a, 'meta').pk}/").json()
    assert (meta["publish_method"], meta["checkout_method"]) == ("api", "checkout_url")
    snapchat = create(api_a, "snapchat")
    assert snapchat.status_code == 201 and snapchat.json()["publish_method"] == "feed"


def test_api_refuses_methods_the_channel_does_not_offer(api_a):
    fields = problem_fields(create(api_a, "tiktok_shop", publish_method="feed"))
    assert "publish_method" in fields
    fields = problem_fields(create(api_a, "snapchat", publish_method="api"))
    assert "publish_method" in fields
    fields = problem_fields(create(api_a, "pinterest", checkout_method="checkout_url"))
    assert "checkout_method" in fields
    fields = problem_fields(create(api_a, "pinterest", publish_method="carrier-pigeon"))
    assert "publish_method" in fields
    assert api_a.get("/api/v1/channel-accounts/").json()["results"] == []  # nothing was created


def test_api_patch_methods_and_connection_stays_read_only(api_a, shop_a):
    account_id = make_account(shop_a, "pinterest").pk
    url = f"/api/v1/channel-accounts/{account_id}/"
    response = api_a.patch(url, {"publish_method": "feed", "connection_status": "needs_reconnect"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["publish_method"] == "feed" and response.json()["connection_status"] == "connected"
    assert "checkout_method" in problem_fields(api_a.patch(url, {"checkout_method": "on_channel"}, format="json"))
    with shop_context(shop_a):
        ChannelAccount.objects.filter(pk=account_id).update(
            connection_status="needs_reconnect", connection_message="Token expired."
        )
    data = api_a.get(url).json()
    assert (data["connection_status"], data["connection_message"]) == ("needs_reconnect", "Token expired.")


def test_api_charlie_cannot_patch_alices_methods(api_a, api_b, shop_a):
    account_id = make_account(shop_a, "pinterest").pk
    response = api_b.patch(f"/api/v1/channel-accounts/{account_id}/", {"publish_method": "feed"}, format="json")
    assert response.status_code == 404
    assert stored(shop_a, account_id).publish_method == "api"


def test_openapi_schema_documents_the_account_fields(api_a):
    schema = Client().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    account = components["ChannelAccount"]["properties"]
    for name in ("publish_method", "checkout_method", "connection_status", "connection_message"):
        assert name in account, name
    assert account["connection_status"].get("readOnly") or "readOnly" in str(account["connection_status"])
    assert account["connection_message"].get("readOnly")
    assert "feed data source" in account["publish_method"].get("description", "")

    def enum_of(prop):
        if "enum" in prop:
            return prop["enum"]
        ref = (prop.get("allOf") or [prop])[0].get("$ref", "")
        return components[ref.rsplit("/", 1)[1]]["enum"] if ref else []

    assert set(enum_of(account["publish_method"])) == {"api", "feed"}
    assert set(enum_of(account["checkout_method"])) == {"on_channel", "checkout_url"}
    request = components.get("PatchedChannelAccountRequest", {}).get("properties") or components.get(
        "PatchedChannelAccount", {}
    ).get("properties", {})
    assert "connection_status" not in request or request["connection_status"].get("readOnly")


def needs_reconnect(shop, account_id):
    with shop_context(shop):
        ChannelAccount.objects.filter(pk=account_id).update(
            connection_status="needs_reconnect", connection_message="Token expired."
        )


def test_new_credentials_reconnect_the_account_once_the_channel_accepts_them(alice_client, api_a, shop_a):
    account = make_account(shop_a, "tiktok_shop", name="TikTok US")
    needs_reconnect(shop_a, account.pk)
    # Saving without new credentials leaves the notice.
    alice_client.post(f"/app/alice/channels/{account.pk}/", {"name": "TikTok US"})
    assert stored(shop_a, account.pk).connection_status == "needs_reconnect"
    response = alice_client.post(
        f"/app/alice/channels/{account.pk}/", {"name": "TikTok US", "cred_access_token": "ROW_renewed-token-0002"}
    )
    assert response.status_code == 302 and "/channels/connections/" in response["Location"]
    # Not before the channel has said yes.
    assert stored(shop_a, account.pk).connection_status == "needs_reconnect"
    with shop_context(shop_a):
        connection = ChannelConnection.objects.get(account=account)
    assert connection.secrets["pasted"] == {"access_token": "ROW_renewed-token-0002"}
    accepted(shop_a, "tiktok_shop")
    renewed = stored(shop_a, account.pk)
    assert (renewed.connection_status, renewed.connection_message) == ("connected", "")

    account_id = make_account(shop_a, "pinterest", name="Pins").pk
    needs_reconnect(shop_a, account_id)
    url = f"/api/v1/channel-accounts/{account_id}/"
    assert api_a.patch(url, {"name": "Pins"}, format="json").json()["connection_status"] == "needs_reconnect"
    response = api_a.patch(url, {"credentials": {"access_token": "pina_renewed-0002"}}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "checking"
    assert stored(shop_a, account_id).connection_status == "needs_reconnect"
