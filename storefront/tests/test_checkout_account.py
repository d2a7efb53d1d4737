"""The shop's own checkout account (channel `checkout`): listed read-only by the API's
channel-accounts/, marked `internal`; the merchant UI's channel pages leave it out."""

from __future__ import annotations

import pytest

from channels.models import Channel, ChannelAccount
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context
from storefront.services import CHECKOUT_ACCOUNT_NAME, checkout_account_ensure

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/channel-accounts/"


def checkout_account(shop) -> ChannelAccount:
    with shop_context(shop), acting_as(Actor(door=Door.SYSTEM, label="storefront")):
        return checkout_account_ensure(shop=shop)


def test_the_checkout_account_is_listed_read_only_and_marked_internal(api_a, shop_a):
    from channels.tests.factories import make_account

    account = checkout_account(shop_a)
    meta = make_account(shop_a, "meta")
    listed = {a["id"]: a for a in api_a.get(ACCOUNTS).json()["results"]}
    own = listed[account.pk]
    assert own["channel"] == "checkout" and own["internal"] is True and own["name"] == CHECKOUT_ACCOUNT_NAME
    assert own["checkout_url"].endswith("/s/alice/checkout/")
    assert own["feeds"] == [] and own["webhook_url"] is None and own["credentials_masked"] == {}
    assert listed[meta.pk]["internal"] is False
    assert api_a.get(f"{ACCOUNTS}{account.pk}/").json()["internal"] is True


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"name": "Mine now"}),
        ("patch", "", {"is_active": False}),
        ("patch", "", {}),
        ("delete", "", None),
        ("post", "rotate-feed-token/", None),
    ],
)
def test_writes_to_the_checkout_account_are_refused(api_a, shop_a, method, suffix, body):
    account = checkout_account(shop_a)
    url = f"{ACCOUNTS}{account.pk}/{suffix}"
    response = getattr(api_a, method)(url, body, format="json") if body is not None else getattr(api_a, method)(url)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["code"] for e in response.json()["errors"]] == ["internal_account"]
    with shop_context(shop_a):
        fresh = ChannelAccount.objects.get(pk=account.pk)
        assert fresh.name == CHECKOUT_ACCOUNT_NAME and fresh.is_active and fresh.feed_token == account.feed_token


def test_a_checkout_account_cannot_be_created_through_the_api(api_a, shop_a):
    response = api_a.post(ACCOUNTS, {"channel": "checkout", "name": "Second checkout"}, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("channel", "unknown_channel")]
    with shop_context(shop_a):
        assert not ChannelAccount.objects.filter(channel=Channel.CHECKOUT).exists()


def test_charlie_never_sees_alices_checkout_account(api_a, api_b, shop_a, shop_b):
    alices = checkout_account(shop_a)
    assert api_b.get(ACCOUNTS).json()["results"] == []
    assert api_b.get(f"{ACCOUNTS}{alices.pk}/").status_code == 404
    assert api_b.patch(f"{ACCOUNTS}{alices.pk}/", {"name": "x"}, format="json").status_code == 404
    assert api_b.delete(f"{ACCOUNTS}{alices.pk}/").status_code == 404
    charlies = checkout_account(shop_b)
    assert [a["id"] for a in api_b.get(ACCOUNTS).json()["results"]] == [charlies.pk]
    assert api_b.get(ACCOUNTS).json()["results"][0]["checkout_url"].endswith("/s/charlie/checkout/")


def test_the_merchant_ui_leaves_the_checkout_account_out(alice_client, shop_a):
    account = checkout_account(shop_a)
    assert CHECKOUT_ACCOUNT_NAME not in alice_client.get("/app/alice/channels/").content.decode()
    assert alice_client.get(f"/app/alice/channels/{account.pk}/").status_code == 404
    assert alice_client.post(f"/app/alice/channels/{account.pk}/delete/").status_code == 404
    with shop_context(shop_a):
        assert ChannelAccount.objects.filter(pk=account.pk).exists()
