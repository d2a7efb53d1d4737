"""Connecting accounts end to end against the sandbox over real HTTP: the merchant presses
Connect, approves on the channel's consent page, comes back through our callback, and the
connect task exchanges the code and reads what there is to pick; pasted credentials are
tried by the channel before anything is saved; tokens are refreshed by the scheduled task,
and a refresh the channel refuses stops the account's work with one attention item."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlparse

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from channels.connections import accounts_due_for_refresh
from channels.models import ChannelAccount, ChannelConnection
from channels.sandbox.control import control_headers
from channels.tasks import connection_complete_task, token_refresh_task, tokens_refresh_due_task
from shopadmin.tenancy import all_shops_access, shop_context

pytestmark = pytest.mark.django_db(transaction=True)

# The consent page's select that says how many shops / ad accounts / catalogs the seller has.
HOW_MANY = {"tiktok_shop": "shops", "pinterest": "ad_accounts", "meta": "catalogs"}


@pytest.fixture
def site(live_server, settings):
    """Links we hand out (the callback registered with the channel) point at the live server."""
    settings.SITE_URL = live_server.url
    return live_server.url


def merchant(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approve(consent_url: str, *, seller: str, count: int = 1, channel: str, decision: str = "allow") -> str:
    """The seller on the channel's consent page: signs in by name and allows (or denies).
    Returns where the channel sends the browser back to."""
    page = httpx.get(consent_url, timeout=10)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = {**{k: unescape(v) for k, v in hidden.items()}, "seller": seller, HOW_MANY[channel]: str(count)}
    answer = httpx.post(consent_url, data={**form, "decision": decision}, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def complete(shop, connection_id: int) -> ChannelConnection:
    """The connect task, run here (the worker runs it in the demo and in the browser tests)."""
    connection_complete_task.apply(args=[shop.pk, connection_id])
    with shop_context(shop):
        return ChannelConnection.objects.select_related("account").get(pk=connection_id)


def connect(client, shop, channel: str, *, name: str, seller: str, count: int = 1) -> ChannelConnection:
    response = client.post(f"/app/{shop.slug}/channels/connect/{channel}/", {"how": "authorize", "name": name})
    assert response.status_code == 302, response.content.decode()[:2000]
    back = approve(response["Location"], seller=seller, count=count, channel=channel)
    parts = urlparse(back)
    assert parts.path == f"/channels/connect/{channel}/callback/"
    landed = client.get(f"{parts.path}?{parts.query}")
    assert landed.status_code == 302, landed.content.decode()[:2000]
    connection_id = int(landed["Location"].rstrip("/").rsplit("/", 1)[1])
    return complete(shop, connection_id)


def test_tiktok_shop_seller_with_two_shops_picks_one(site, alice, shop_a, settings, caplog):
    caplog.set_level(logging.DEBUG)
    client = merchant(alice)
    connection = connect(client, shop_a, "tiktok_shop", name="TikTok US", seller="tt-two-shops", count=2)
    assert connection.status == "choose", connection.message
    assert len(connection.choices) == 2
    pick = connection.choices[1]
    response = client.post(f"/app/alice/channels/connections/{connection.pk}/", {"choice": pick["id"]})
    assert response.status_code == 302
    with shop_context(shop_a):
        account = ChannelAccount.objects.get(name="TikTok US")
    assert account.api_base_url == f"{site}/sandbox/tiktok"
    assert set(account.credentials) >= {"access_token", "refresh_token", "shop_cipher"}
    assert "app_secret" not in account.credentials  # the deployment's app signs its calls
    assert account.token_expires_at > timezone.now() and account.refresh_token_expires_at > account.token_expires_at
    assert account.connection_status == "connected" and account.last_success_at is not None
    page = client.get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert 'id="token-expiry"' in page and "renewed automatically" in page
    # TikTok's token calls carry the app secret and the tokens in the query: never logged.
    for secret in (settings.TIKTOK_SHOP_APP_SECRET, account.credentials["refresh_token"]):
        assert secret not in caplog.text


def test_pinterest_seller_with_one_ad_account_is_connected_at_once(site, alice, shop_a):
    connection = connect(merchant(alice), shop_a, "pinterest", name="Pins", seller="pin-one")
    assert connection.status == "connected", connection.message
    account = connection.account
    assert re.fullmatch(r"\d+", account.credentials["ad_account_id"])
    assert account.credentials["refresh_token"] and account.token_expires_at is not None


def test_meta_login_connects_the_catalog(site, alice, shop_a):
    connection = connect(merchant(alice), shop_a, "meta", name="FB", seller="meta-one")
    assert connection.status == "connected", connection.message
    credentials = connection.account.credentials
    assert credentials["catalog_id"] and credentials["access_token"]
    assert credentials["verify_token"]  # made for the account: the webhook subscription checks it


def test_a_merchant_who_denies_on_the_channel_connects_nothing(site, alice, shop_a):
    client = merchant(alice)
    response = client.post("/app/alice/channels/connect/pinterest/", {"how": "authorize", "name": "Pins"})
    back = approve(response["Location"], seller="pin-deny", channel="pinterest", decision="deny")
    parts = urlparse(back)
    landed = client.get(f"{parts.path}?{parts.query}")
    page = client.get(landed["Location"]).content.decode()
    assert "Not connected." in page
    with shop_context(shop_a):
        assert not ChannelAccount.objects.exists()


def test_reconnect_keeps_the_account_and_renews_its_tokens(site, alice, shop_a):
    client = merchant(alice)
    account = connect(client, shop_a, "pinterest", name="Pins", seller="pin-again").account
    old_token = account.credentials["access_token"]
    with shop_context(shop_a):
        ChannelAccount.objects.filter(pk=account.pk).update(
            connection_status="needs_reconnect", connection_message="Token revoked."
        )
    response = client.post(f"/app/alice/channels/{account.pk}/reconnect/")
    back = approve(response["Location"], seller="pin-again", channel="pinterest")
    parts = urlparse(back)
    landed = client.get(f"{parts.path}?{parts.query}")
    connection = complete(shop_a, int(landed["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert connection.status == "connected" and connection.account_id == account.pk
    with shop_context(shop_a):
        renewed = ChannelAccount.objects.get(pk=account.pk)
        assert ChannelAccount.objects.count() == 1
    assert renewed.connection_status == "connected" and renewed.credentials["access_token"] != old_token


# --- Pasted credentials --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel, credentials, reason",
    [
        ("tiktok_shop", {"access_token": "ROW_not-a-token", "shop_cipher": "GCP_nope"}, "TikTok"),
        ("pinterest", {"access_token": "pina_not-a-token", "ad_account_id": "5490001"}, "Pinterest"),
        ("meta", {"catalog_id": "99887766", "commerce_account_id": "5550001", "access_token": "EAAB-nope"}, "Meta"),
    ],
)
def test_bad_pasted_credentials_are_refused_and_nothing_is_saved(site, api_a, shop_a, channel, credentials, reason):
    response = api_a.post(
        "/api/v1/channel-accounts/",
        {"channel": channel, "name": f"{channel} pasted", "credentials": credentials},
        format="json",
    )
    assert response.status_code == 202, response.content
    connection = complete(shop_a, response.json()["id"])
    assert connection.status == "failed"
    assert reason in connection.message
    assert dict(connection.secrets) == {}  # the refused token is not kept either
    polled = api_a.get(response["Location"]).json()
    assert polled["status"] == "failed" and polled["message"] == connection.message
    with shop_context(shop_a):
        assert not ChannelAccount.objects.exists()


def test_good_pasted_credentials_connect(site, api_a, shop_a, live_server):
    httpx.post(
        f"{live_server.url}/sandbox/_control/pinterest/5490002/",
        headers=control_headers(),
        json={"access_token": "pina_pasted-good-0001"},
        timeout=10,
    ).raise_for_status()
    response = api_a.post(
        "/api/v1/channel-accounts/",
        {
            "channel": "pinterest",
            "name": "Pins pasted",
            "credentials": {"access_token": "pina_pasted-good-0001", "ad_account_id": "5490002"},
            "api_base_url": f"{live_server.url}/sandbox/pinterest",
        },
        format="json",
    )
    connection = complete(shop_a, response.json()["id"])
    assert connection.status == "connected", connection.message
    assert api_a.get(response["Location"]).json()["account"] == connection.account_id


# --- Token lifecycle ------------------------------------------------------------------------------


def _publish(shop, account):
    from channels.listings import listing_settings_update
    from channels.publishing import publish_batch_run, publish_plan_apply, publish_plan_create
    from channels.tests.listing_fixtures import STOREFRONT, price_markets

    with shop_context(shop):
        listing_settings_update(account=account, storefront_url=STOREFRONT)
        price_markets(shop)
        plan = publish_plan_create(account=ChannelAccount.objects.get(pk=account.pk))
        publish_plan_apply(plan=plan)
        for batch in plan.batches.order_by("number"):
            publish_batch_run(batch_id=batch.pk)
        plan.refresh_from_db()
        return plan


def _seed(shop):
    from catalog.models import Product
    from catalog.seeding import seed_catalog

    with shop_context(shop):
        seed_catalog(shop=shop, variants=6, seed=3)
        Product.objects.update(status=Product.Status.ACTIVE)


def _grants(live_server, key, action):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/pinterest/{key}/grants/",
        headers=control_headers(),
        json={"action": action},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_an_expiring_token_is_refreshed_by_the_schedule_and_publishing_goes_on(site, alice, shop_a, live_server):
    _seed(shop_a)
    account = connect(merchant(alice), shop_a, "pinterest", name="Pins", seller="pin-refresh").account
    old_token = account.credentials["access_token"]
    # The sandbox's token runs out, and our record says it is about to.
    _grants(live_server, account.credentials["ad_account_id"], "expire")
    with shop_context(shop_a):
        ChannelAccount.objects.filter(pk=account.pk).update(token_expires_at=timezone.now() + timedelta(hours=1))
    with all_shops_access():
        assert (shop_a.pk, account.pk) in list(accounts_due_for_refresh())
    assert tokens_refresh_due_task.apply().get() >= 1
    assert token_refresh_task.apply(args=[shop_a.pk, account.pk]).get() == "refreshed"
    with shop_context(shop_a):
        account = ChannelAccount.objects.get(pk=account.pk)
    assert account.credentials["access_token"] != old_token
    assert account.token_expires_at > timezone.now() + timedelta(days=1)
    plan = _publish(shop_a, account)
    assert plan.status == "applied", plan.status


def test_a_refused_refresh_stops_the_account_with_one_attention_item(site, alice, shop_a, live_server):
    from orders.attention import attention_items

    _seed(shop_a)
    account = connect(merchant(alice), shop_a, "pinterest", name="Pins", seller="pin-refused").account
    _grants(live_server, account.credentials["ad_account_id"], "expire_refresh")
    assert token_refresh_task.apply(args=[shop_a.pk, account.pk]).get() == "refused"
    with shop_context(shop_a):
        account = ChannelAccount.objects.get(pk=account.pk)
        assert account.connection_status == "needs_reconnect"
        assert "Pinterest" in account.connection_message and account.last_error
        items = [i for i in attention_items(shop=shop_a) if account.name in i.title]
    assert len(items) == 1, items
    count = httpx.get(
        f"{live_server.url}/sandbox/_control/pinterest/{account.credentials['ad_account_id']}/",
        headers=control_headers(),
        timeout=10,
    ).json()["request_count"]
    # Publishing stops: no call reaches the channel.
    with pytest.raises(Exception, match="reconnect"):
        _publish(shop_a, account)
    after = httpx.get(
        f"{live_server.url}/sandbox/_control/pinterest/{account.credentials['ad_account_id']}/",
        headers=control_headers(),
        timeout=10,
    ).json()["request_count"]
    assert after == count
    # The refresh is not tried again for an account that needs reconnecting.
    assert token_refresh_task.apply(args=[shop_a.pk, account.pk]).get() == "skipped"
