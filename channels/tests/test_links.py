"""Where listings link: the merchant's storefront when the account names one, else the shop's
hosted product page (`<SITE_URL>/s/<shop>/p/<handle>/?variant=<id>&utm_…`) — in items, both
feed writers, the RSS head, plans and their fingerprints; a brand-new account's feeds serve its
items at once; Meta's checkout URL on the account page and in the API; never another shop's."""

import csv
import io
import re
from urllib.parse import urlencode, urlsplit

import defusedxml.ElementTree as ET  # the stdlib parser, hardened
import pytest

from catalog.models import Product, ProductVariant
from catalog.seeding import seed_catalog
from channels.account_methods import channel_account_set_methods
from channels.feeds import account_feed_specs, feed_check, feed_stream, plain_feed_stream, sql_feed_supported
from channels.items import iter_items
from channels.links import (
    hosted_product_url,
    listing_home_url,
    listing_link_format,
    meta_checkout_url,
    shop_home_url,
)
from channels.listings import listing_settings_update
from channels.models import ChannelAccount, ChannelListing, ListingSettings, PublishPlan
from channels.publishing import plan_compute
from channels.services import channel_account_create
from channels.tests.factories import make_account
from channels.tests.listing_fixtures import STOREFRONT, price_markets, seeded_account
from channels.tests.test_feeds import body_of
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

SITE = "https://shops.example.com"
G = "{http://base.google.com/ns/1.0}"
FEED_CHANNELS = ("meta", "pinterest", "snapchat", "google_merchant")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def hosted(account):
    """A seeded account whose listing settings name no storefront (a feed-published Pinterest)."""
    with shop_context(account.shop):
        listing_settings_update(account=account, storefront_url="")
        if account.channel == "pinterest":
            channel_account_set_methods(account=account, publish_method=ChannelAccount.PublishMethod.FEED)
    return account


def feed_rows(client, account, spec_name):
    body = body_of(client.get(f"/feeds/{account.feed_token}/{spec_name}"))
    if spec_name.endswith(".xml"):
        root = ET.fromstring(body)
        return [
            {child.tag.removeprefix(G): child.text for child in item} for item in root.findall("./channel/item")
        ], root
    delimiter = "\t" if spec_name.endswith(".tsv") else ","
    return list(csv.DictReader(io.StringIO(body), delimiter=delimiter)), None


def expected_link(shop, variant_id, account):
    handle = ProductVariant.objects.select_related("product").get(pk=variant_id).product.handle
    utm = urlencode({"utm_source": account.channel, "utm_medium": "social", "utm_campaign": account.name})
    return f"{SITE}/s/{shop.slug}/p/{handle}/?variant={variant_id}&{utm}"


# --- The URLs ----------------------------------------------------------------------------------


def test_hosted_product_url_and_shop_home(shop_a, shop_b):
    assert hosted_product_url(shop_a, "linen-shirt") == f"{SITE}/s/alice/p/linen-shirt/"
    assert hosted_product_url(shop_a, "linen-shirt", 42) == f"{SITE}/s/alice/p/linen-shirt/?variant=42"
    assert hosted_product_url(shop_b, "linen-shirt", "7") == f"{SITE}/s/charlie/p/linen-shirt/?variant=7"
    assert shop_home_url(shop_b) == f"{SITE}/s/charlie/"


def test_meta_checkout_url_is_the_shops_and_only_metas(shop_a, shop_b):
    assert meta_checkout_url(make_account(shop_a, "meta")) == f"{SITE}/s/alice/checkout/"
    assert meta_checkout_url(make_account(shop_b, "meta")) == f"{SITE}/s/charlie/checkout/"
    for channel in ("tiktok_shop", "pinterest", "snapchat", "google_merchant"):
        assert meta_checkout_url(make_account(shop_a, channel)) is None, channel


def test_link_format_storefront_or_hosted(shop_a):
    account = make_account(shop_a, "snapchat", name="Snap & Co")
    with shop_context(shop_a):
        own = listing_link_format(account)
        assert own.hosted and own.link("tee", 9) == (
            f"{SITE}/s/alice/p/tee/?variant=9&utm_source=snapchat&utm_medium=social&utm_campaign=Snap+%26+Co"
        )
        assert own.link("tee", 9).startswith(hosted_product_url(shop_a, "tee", 9) + "&")
        assert listing_home_url(account) == f"{SITE}/s/alice/"
        listing_settings_update(account=account, storefront_url=STOREFRONT)
        theirs = listing_link_format(account)
        assert not theirs.hosted and theirs.link("tee", 9) == (
            f"{STOREFRONT}/products/tee?variant=9&utm_source=snapchat&utm_medium=social&utm_campaign=Snap+%26+Co"
        )
        assert listing_home_url(account) == STOREFRONT


# --- Items, checks and plans ----------------------------------------------------------------------


def test_items_without_a_storefront_link_to_the_hosted_page(shop_a):
    account = hosted(seeded_account(shop_a, variants=12))
    with shop_context(shop_a):
        items = list(iter_items(account))
        assert len(items) == 12
        for built in items:
            assert built.item.link == expected_link(shop_a, built.variant_id, account)
        # Every item passes: no "link is required" (or any other) problem.
        check = feed_check(account)
        assert check["total"] == check["valid"] == 12 and not check["items"]


def test_with_a_storefront_nothing_changes(shop_a):
    account = seeded_account(shop_a, variants=6)
    with shop_context(shop_a):
        for built in iter_items(account):
            assert built.item.link.startswith(f"{STOREFRONT}/products/")
            assert f"?variant={built.variant_id}&utm_source=meta&utm_medium=social&utm_campaign=" in built.item.link


def test_plans_carry_hosted_links_and_the_storefront_changes_every_payload(shop_a):
    account = hosted(seeded_account(shop_a, variants=10))
    with shop_context(shop_a):
        plan = plan_compute(account=account)
        assert not plan["invalid"] and plan["with_problems"] == 0 and len(plan["changes"]) == 10
        links = {change[2]["link"] for change in plan["changes"]}
        assert all(link.startswith(f"{SITE}/s/alice/p/") for link in links)
        # The links are part of the inputs every listing shares: naming a storefront rebuilds all.
        for listing_id, _action, _item, payload, digest in plan["changes"]:
            ChannelListing.objects.filter(pk=listing_id).update(
                accepted_hash=digest, accepted_payload=payload, status="published"
            )
        inputs = plan["inputs"]
        for listing_id, inputs_hash in inputs.items():
            ChannelListing.objects.filter(pk=listing_id).update(accepted_inputs_hash=inputs_hash)
        assert plan_compute(account=account)["built"] == 0
        listing_settings_update(account=account, storefront_url=STOREFRONT)
        again = plan_compute(account=account)
        assert again["built"] == 10 and len(again["changes"]) == 10
        assert all(change[2]["link"].startswith(f"{STOREFRONT}/products/") for change in again["changes"])


# --- Feeds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", FEED_CHANNELS)
def test_hosted_feeds_list_every_item_and_match_the_plain_writer(client, shop_a, channel):
    account = hosted(seeded_account(shop_a, variants=9, channel=channel, name=f"{channel} & <co>"))
    with shop_context(shop_a):
        specs = [spec for spec in account_feed_specs(account) if spec.kind == "main"]
        skus = set(ProductVariant.objects.values_list("sku", flat=True))
    assert specs
    for spec in specs:
        rows, root = feed_rows(client, account, spec.name)
        assert {row["id"] for row in rows} == skus, spec.name
        with shop_context(shop_a):
            assert sql_feed_supported(account, spec) is not None
            served = "".join(feed_stream(account, spec))
            assert served == "".join(plain_feed_stream(account, spec)), spec.name
            variants = dict(ProductVariant.objects.values_list("sku", "id"))
            for row in rows:
                assert row["link"] == expected_link(shop_a, variants[row["id"]], account), spec.name
        if root is not None:  # RSS: the channel's <link> is the shop's hosted home
            assert root.find("./channel/link").text == f"{SITE}/s/alice/"


def test_rss_head_links_the_storefront_when_there_is_one(client, shop_a):
    account = seeded_account(shop_a, variants=3, channel="google_merchant")
    _rows, root = feed_rows(client, account, "google_merchant-us-en.xml")
    assert root.find("./channel/link").text == STOREFRONT


@pytest.mark.parametrize("channel", FEED_CHANNELS)
def test_a_new_account_serves_its_items_at_once(client, shop_a, channel):
    """No storefront URL, no listing settings, no listings, no plan ever computed: the feed
    pasted into the channel right after connecting lists every selected item."""
    with shop_context(shop_a):
        seed_catalog(shop=shop_a, variants=7, seed=7)
        Product.objects.update(status=Product.Status.ACTIVE)
        price_markets(shop_a)
        account = channel_account_create(shop=shop_a, channel=channel, name="New", credentials=_credentials(channel))
        # As the connect page does; Pinterest is fed only when its publish method is feed.
        methods = {"publish_method": "feed"} if channel == "pinterest" else {}
        channel_account_set_methods(account=account, **methods)
        skus = set(ProductVariant.objects.values_list("sku", flat=True))
        names = [spec.name for spec in account_feed_specs(account) if spec.kind == "main"]
    assert names
    for name in names:
        response = client.get(f"/feeds/{account.feed_token}/{name}")
        assert response.status_code == 200, name
        rows, _root = feed_rows(client, account, name)
        assert {row["id"] for row in rows} == skus, name
        assert all(row["link"].startswith(f"{SITE}/s/alice/p/") for row in rows), name
        assert all(f"utm_source={channel}&utm_medium=social&utm_campaign=New" in row["link"] for row in rows)
    with shop_context(shop_a):
        # Serving wrote nothing the feed depends on: it reads the catalog and stored prices.
        assert not ChannelListing.objects.exists() and not PublishPlan.objects.exists()
        assert not ListingSettings.objects.exists()


def _credentials(channel):
    from channels.tests.factories import META_CREDENTIALS, PINTEREST_CREDENTIALS

    return {"meta": META_CREDENTIALS, "pinterest": PINTEREST_CREDENTIALS}.get(channel, {})


def test_charlies_feeds_and_links_never_name_alices_shop(client, shop_a, shop_b):
    alice = hosted(seeded_account(shop_a, variants=5, channel="snapchat"))
    charlie = hosted(seeded_account(shop_b, variants=8, channel="snapchat", seed=3))
    for account, shop, other in ((alice, shop_a, "charlie"), (charlie, shop_b, "alice")):
        with shop_context(shop):
            name = account_feed_specs(account)[0].name
            links = [built.item.link for built in iter_items(account)]
        body = body_of(client.get(f"/feeds/{account.feed_token}/{name}"))
        rows = list(csv.DictReader(io.StringIO(body)))
        assert len(rows) == len(links) and rows
        assert all(row["link"].startswith(f"{SITE}/s/{shop.slug}/p/") for row in rows)
        assert f"/s/{other}/" not in body and all(f"/s/{other}/" not in link for link in links)
    # Charlie's token with Alice's feed name answers nothing of Alice's.
    assert client.get(f"/feeds/{charlie.feed_token}/snapchat-us-en.csv").status_code == 404


# --- Meta's checkout URL: account page and API -------------------------------------------------


def test_alice_sees_her_meta_checkout_url_with_the_steps(alice_client, shop_a):
    meta = make_account(shop_a, "meta", name="FB")
    snap = make_account(shop_a, "snapchat", name="Snap")
    body = alice_client.get(f"/app/alice/channels/{meta.pk}/").content.decode()
    field = re.search(r'<input type="url" id="checkout-url-field" value="([^"]+)" readonly', body)
    assert field and field.group(1) == f"{SITE}/s/alice/checkout/"
    assert "Commerce Manager" in body and "Checkout method" in body and "reviews the checkout" in body
    other = alice_client.get(f"/app/alice/channels/{snap.pk}/").content.decode()
    assert "checkout-url-field" not in other and "/checkout/" not in other


def test_charlie_sees_only_his_checkout_url(charlie_client, shop_a, shop_b):
    alices = make_account(shop_a, "meta", name="FB")
    charlies = make_account(shop_b, "meta", name="FB")
    assert charlie_client.get(f"/app/charlie/channels/{alices.pk}/").status_code == 404
    body = charlie_client.get(f"/app/charlie/channels/{charlies.pk}/").content.decode()
    assert f"{SITE}/s/charlie/checkout/" in body and "/s/alice/" not in body


def test_api_checkout_url_is_the_accounts_shops_and_null_elsewhere(api_a, api_b, shop_a, shop_b):
    make_account(shop_a, "meta", name="FB")
    make_account(shop_a, "snapchat", name="Snap")
    charlies = make_account(shop_b, "meta", name="FB")
    listed = {a["channel"]: a for a in api_a.get("/api/v1/channel-accounts/").json()["results"]}
    assert listed["meta"]["checkout_url"] == f"{SITE}/s/alice/checkout/"
    assert listed["snapchat"]["checkout_url"] is None
    results = api_b.get("/api/v1/channel-accounts/").json()["results"]
    assert [a["checkout_url"] for a in results] == [f"{SITE}/s/charlie/checkout/"]
    detail = api_b.get(f"/api/v1/channel-accounts/{charlies.pk}/").json()
    assert detail["checkout_url"] == f"{SITE}/s/charlie/checkout/"
    assert "alice" not in api_b.get("/api/v1/channel-accounts/").content.decode()
    # Read-only: a PATCH naming it changes nothing and is not refused.
    patched = api_b.patch(
        f"/api/v1/channel-accounts/{charlies.pk}/", {"checkout_url": "https://evil.example/"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["checkout_url"] == f"{SITE}/s/charlie/checkout/"


def test_api_checkout_url_is_absolute_without_a_site_url(api_a, shop_a, settings):
    settings.SITE_URL = ""
    make_account(shop_a, "meta", name="FB")
    url = api_a.get("/api/v1/channel-accounts/").json()["results"][0]["checkout_url"]
    parts = urlsplit(url)
    assert parts.scheme in {"http", "https"} and parts.netloc and parts.path == "/s/alice/checkout/"


def test_api_schema_documents_checkout_url(client):
    schema = client.get("/api/schema/?format=json").json()
    field = schema["components"]["schemas"]["ChannelAccount"]["properties"]["checkout_url"]
    assert field["readOnly"] and field["nullable"] and field["format"] == "uri"
    assert "Commerce Manager" in field["description"]


def test_staff_admin_shows_each_accounts_own_checkout_url(client, staff, shop_a, shop_b):
    client.force_login(staff)
    alices = make_account(shop_a, "meta", name="FB")
    charlies = make_account(shop_b, "meta", name="FB")
    snap = make_account(shop_b, "snapchat", name="Snap")
    alice_page = client.get(f"/admin/channels/channelaccount/{alices.pk}/change/").content.decode()
    charlie_page = client.get(f"/admin/channels/channelaccount/{charlies.pk}/change/").content.decode()
    assert f"{SITE}/s/alice/checkout/" in alice_page and "/s/charlie/" not in alice_page
    assert f"{SITE}/s/charlie/checkout/" in charlie_page and "/s/alice/" not in charlie_page
    assert "/checkout/" not in client.get(f"/admin/channels/channelaccount/{snap.pk}/change/").content.decode()


def test_a_feeds_etag_follows_its_links(client, shop_a, settings):
    account = hosted(seeded_account(shop_a, variants=3, channel="snapchat"))
    url = f"/feeds/{account.feed_token}/snapchat-us-en.csv"
    first = client.get(url)
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    settings.SITE_URL = "https://moved.example.com"  # every hosted link changes
    moved = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert moved.status_code == 200 and moved["ETag"] != first["ETag"]
    assert "https://moved.example.com/s/alice/p/" in body_of(moved)
