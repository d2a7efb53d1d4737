"""Feeds parsed back (csv module; ElementTree with the g: namespace) and checked against each
channel's rules; freshness headers, gzip, and tenancy through the token."""

import csv
import gzip
import io
import re

import defusedxml.ElementTree as ET  # the stdlib parser, hardened
import pytest
from django.conf import settings

from catalog.models import ProductVariant
from channels.adapters.meta import FEED_COLUMNS as META_COLUMNS
from channels.feeds import feed_check
from channels.listings import listing_settings_update, listing_update, listings_sync
from channels.models import ChannelAccount, ChannelListing
from channels.selectors import account_feeds
from channels.tests.listing_fixtures import seeded_account
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

G = "{http://base.google.com/ns/1.0}"
PRICE = re.compile(r"^\d+(\.\d{1,3})? [A-Z]{3}$")


def body_of(response):
    raw = b"".join(response.streaming_content)
    if response.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    return raw.decode()


def feed_url(account, fmt, index=0):
    feeds = [f for f in account_feeds(account) if f["format"] == fmt]
    return feeds[index]["url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def get(client, account, fmt, **headers):
    return client.get(feed_url(account, fmt), **headers)


def test_meta_csv_parses_and_follows_meta_rules(client, shop_a):
    account = seeded_account(shop_a, variants=25)
    response = get(client, account, "csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    with shop_context(shop_a):
        skus = set(ProductVariant.objects.values_list("sku", flat=True))
    assert {r["id"] for r in rows} == skus
    assert list(rows[0].keys()) == list(META_COLUMNS)
    for row in rows:
        assert PRICE.match(row["price"]), row["price"]
        assert row["availability"] in ("in stock", "out of stock")
        assert row["condition"] in ("new", "refurbished", "used")
        assert len(row["title"]) <= 200
        assert "utm_source=meta" in row["link"] and "utm_medium=social" in row["link"]
        assert row["brand"] or row["gtin"] or row["mpn"]


def test_meta_xml_and_override_feeds(client, shop_a):
    # The CA account market publishes the prices of the shop's market selling to Canada.
    from localization.services import market_create

    with shop_context(shop_a):
        market_create(shop=shop_a, name="Canada (USD)", countries=["CA"], currency="USD", languages=["fr"])
    account = seeded_account(
        shop_a,
        variants=8,
        markets=[
            {"market": "US", "currency": "USD", "language": "en"},
            {"market": "CA", "country": "CA", "currency": "USD", "language": "fr"},
        ],
    )
    response = get(client, account, "xml")
    root = ET.fromstring(body_of(response))
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    assert len(items) == 8
    for item in items:
        assert item.find(f"{G}availability").text in ("in stock", "out of stock")
        assert PRICE.match(item.find(f"{G}price").text)
    token = account.feed_token
    country = client.get(f"/feeds/{token}/meta-overrides-country.csv")
    rows = list(csv.DictReader(io.StringIO(body_of(country))))
    assert len(rows) == 8 and {r["override"] for r in rows} == {"CA"}
    assert all("utm_campaign=" in r["link"] for r in rows)
    language = client.get(f"/feeds/{token}/meta-overrides-language.xml")
    overrides = ET.fromstring(body_of(language)).findall("./channel/item")
    assert {o.find(f"{G}override").text for o in overrides} == {"fr_XX"}
    assert all(o.find(f"{G}title").text for o in overrides)


def test_google_merchant_rss_uses_namespace_and_underscores(client, shop_a):
    account = seeded_account(shop_a, variants=10, channel="google_merchant")
    response = get(client, account, "xml")
    assert response["Content-Type"].startswith("application/xml")
    text = body_of(response)
    assert 'xmlns:g="http://base.google.com/ns/1.0"' in text
    items = ET.fromstring(text).findall("./channel/item")
    assert len(items) == 10
    for item in items:
        assert item.find(f"{G}availability").text in ("in_stock", "out_of_stock")
        assert item.find(f"{G}id").text and item.find(f"{G}link").text.startswith("https://alice.example.com/")


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_pinterest_csv_and_tsv(client, shop_a, fmt, delimiter):
    account = seeded_account(shop_a, variants=12, channel="pinterest")
    # A Pinterest catalog takes our feed or our API calls: this one is fed.
    account.publish_method = ChannelAccount.PublishMethod.FEED
    with shop_context(shop_a):
        account.save(update_fields=["publish_method"])
    rows = list(csv.DictReader(io.StringIO(body_of(get(client, account, fmt))), delimiter=delimiter))
    assert len(rows) == 12
    for row in rows:
        assert row["availability"] in ("in stock", "out of stock", "preorder")
        assert PRICE.match(row["price"]) and row["image_link"].startswith(f"{settings.SITE_URL}/media/demo/")


def test_snapchat_csv(client, shop_a):
    account = seeded_account(shop_a, variants=7, channel="snapchat")
    rows = list(csv.DictReader(io.StringIO(body_of(get(client, account, "csv")))))
    assert len(rows) == 7
    assert {"id", "title", "description", "link", "image_link", "availability", "price", "condition"} <= set(rows[0])


def test_invalid_items_are_left_out_and_listed(client, shop_a):
    account = seeded_account(shop_a, variants=6)
    with shop_context(shop_a):
        listings_sync(account=account)
        listing = ChannelListing.objects.order_by("id").first()
        listing_update(listing=listing, title_override="x" * 201)
        check = feed_check(account)
    assert check["total"] == 6 and check["invalid"] == 1
    assert check["items"][0]["id"] == listing.item_id
    assert check["items"][0]["problems"][0]["field"] == "title"
    rows = list(csv.DictReader(io.StringIO(body_of(get(client, account, "csv")))))
    assert len(rows) == 5 and listing.item_id not in {r["id"] for r in rows}
    # Without a storefront every item links to the shop's hosted page: no link problem.
    with shop_context(shop_a):
        listing_settings_update(account=account, storefront_url="")
        check = feed_check(account)
    assert check["valid"] == 5 and check["invalid"] == 1
    assert [p["field"] for p in check["items"][0]["problems"]] == ["title"]


def test_etag_last_modified_conditional_and_gzip(client, shop_a):
    account = seeded_account(shop_a, variants=5)
    first = get(client, account, "csv")
    etag = first["ETag"]
    assert etag and first["Last-Modified"]
    assert get(client, account, "csv", HTTP_IF_NONE_MATCH=etag).status_code == 304
    zipped = get(client, account, "csv", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip" and zipped["ETag"] != etag
    assert body_of(zipped) == body_of(get(client, account, "csv"))
    with shop_context(shop_a):
        from catalog.services import variant_update

        variant_update(variant=ProductVariant.objects.first(), mpn="CHANGED")
    changed = get(client, account, "csv", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_feed_token_of_one_shop_never_shows_another(client, shop_a, shop_b):
    account_a = seeded_account(shop_a, variants=9)
    account_b = seeded_account(shop_b, variants=14, seed=3)
    with shop_context(shop_b):
        listing_settings_update(account=account_b, storefront_url="https://charlie.example.com")
    rows_a = list(csv.DictReader(io.StringIO(body_of(get(client, account_a, "csv")))))
    rows_b = list(csv.DictReader(io.StringIO(body_of(get(client, account_b, "csv")))))
    assert len(rows_a) == 9 and len(rows_b) == 14
    assert all(r["link"].startswith("https://alice.example.com/") for r in rows_a)
    assert all(r["link"].startswith("https://charlie.example.com/") for r in rows_b)
    assert all(r["price"].endswith(" EUR") for r in rows_b)
    # A's token with B's feed name, a wrong token, a rotated token: nothing.
    name_b = feed_url(account_b, "csv").rsplit("/", 1)[1]
    assert client.get(f"/feeds/{account_a.feed_token}/{name_b}").status_code == 404
    assert client.get(f"/feeds/{'x' * 43}/{name_b}").status_code == 404
    old = feed_url(account_a, "csv")
    from channels.services import channel_account_rotate_feed_token

    with shop_context(shop_a):
        channel_account_rotate_feed_token(account=account_a)
    assert client.get(old).status_code == 404


def test_feed_needs_no_login_but_logged_in_users_get_the_same(alice_client, charlie_client, shop_a):
    account = seeded_account(shop_a, variants=3)
    assert get(alice_client, account, "csv").status_code == 200
    # charlie holding alice's feed URL reads what the channel reads: the token is the key.
    assert get(charlie_client, account, "csv").status_code == 200
