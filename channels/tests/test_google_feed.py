"""The Google Merchant Center feed, served by the real feed view, against Google's product data
specification: identifier_exists, availability_date, item_group_id, and every element's name,
value and format."""

import datetime as dt
import re
from decimal import Decimal

import defusedxml.ElementTree as ET
import pytest
from django.utils import timezone

from catalog.models import Product, ProductVariant
from channels import feeds
from channels.adapters.base import ChannelItem
from channels.adapters.google_merchant import FEED_COLUMNS, GoogleMerchantAdapter, google_interval
from channels.feeds import feed_check
from channels.tests.listing_fixtures import seeded_account
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

G = "{http://base.google.com/ns/1.0}"
# Price: number plus ISO 4217 currency, "15.00 USD" (answer/6324371).
PRICE = re.compile(r"^\d+(\.\d+)? [A-Z]{3}$")
# YYYY-MM-DDThh:mm[±hhmm] or YYYY-MM-DDThh:mmZ (answer/6324470, answer/6324460).
DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?:[+-]\d{4}|Z)"
AVAILABILITY_DATE = re.compile(f"^{DATETIME}$")
SALE_WINDOW = re.compile(f"^{DATETIME}/{DATETIME}$")
REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price", "condition")


def body_of(response) -> str:
    return b"".join(response.streaming_content).decode()


def feed_items(client, account) -> dict[str, dict[str, str]]:
    response = client.get(f"/feeds/{account.feed_token}/google_merchant-us-en.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(body_of(response))
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = {}
    for element in root.findall("./channel/item"):
        fields = {}
        for child in element:
            assert child.tag.startswith(G), child.tag  # every attribute in the g: namespace
            fields[child.tag.removeprefix(G)] = child.text or ""
        items[fields["id"]] = fields
    return items


def test_every_item_follows_the_specification(client, shop_a):
    account = seeded_account(shop_a, variants=20, channel="google_merchant")
    items = feed_items(client, account)
    assert len(items) == 20
    for fields in items.values():
        assert set(fields) <= set(FEED_COLUMNS), set(fields) - set(FEED_COLUMNS)
        for name in REQUIRED:
            assert fields.get(name), (name, fields)
        assert PRICE.match(fields["price"]), fields["price"]
        assert fields["availability"] in ("in_stock", "out_of_stock", "preorder", "backorder")
        assert fields["condition"] in ("new", "refurbished", "used")
        assert len(fields["id"]) <= 50 and len(fields["title"]) <= 150 and len(fields["description"]) <= 5000
        assert 1 <= len(fields.get("item_group_id", "x")) <= 50
        assert len(fields.get("brand", "")) <= 70
        if fields.get("gtin"):
            assert fields["gtin"].isdigit() and len(fields["gtin"]) in (8, 12, 13, 14)
        if "sale_price" in fields:
            assert PRICE.match(fields["sale_price"])
        if "sale_price_effective_date" in fields:
            assert SALE_WINDOW.match(fields["sale_price_effective_date"])
            assert len(fields["sale_price_effective_date"]) <= 51
        # Seeded variants carry a GTIN: identifier_exists is left out (it defaults to yes).
        assert "identifier_exists" not in fields


def test_identifier_exists_no_without_gtin_or_brand_and_mpn(client, shop_a):
    account = seeded_account(shop_a, variants=20, channel="google_merchant")
    with shop_context(shop_a):
        # One variant of each of three products (brand is the product's).
        products = list(Product.objects.order_by("id")[:3])
        no_ids, brand_mpn, brand_only = (ProductVariant.objects.filter(product=p).first() for p in products)
        ProductVariant.objects.filter(pk=no_ids.pk).update(gtin="", mpn="")
        Product.objects.filter(pk=no_ids.product_id).update(brand="")
        ProductVariant.objects.filter(pk=brand_mpn.pk).update(gtin="", mpn="BM-1")
        Product.objects.filter(pk=brand_mpn.product_id).update(brand="Alice")
        ProductVariant.objects.filter(pk=brand_only.pk).update(gtin="", mpn="")
        Product.objects.filter(pk=brand_only.product_id).update(brand="Alice")
    items = feed_items(client, account)
    # Without a GTIN or a brand with an MPN the item is still served, marked identifier_exists=no.
    assert items[no_ids.sku]["identifier_exists"] == "no"
    assert "gtin" not in items[no_ids.sku] and "brand" not in items[no_ids.sku]
    assert items[brand_only.sku]["identifier_exists"] == "no" and items[brand_only.sku]["brand"] == "Alice"
    assert "identifier_exists" not in items[brand_mpn.sku]
    assert items[brand_mpn.sku]["mpn"] == "BM-1"
    with shop_context(shop_a):
        assert feed_check(account)["invalid"] == 0


def test_item_group_id_at_most_50_characters(client, shop_a):
    account = seeded_account(shop_a, variants=30, channel="google_merchant")
    prefix = "an-exceptionally-long-product-handle-that-goes-on-and-on"
    with shop_context(shop_a):
        products = list(Product.objects.order_by("id")[:2])
        for index, product in enumerate(products):
            Product.objects.filter(pk=product.pk).update(handle=f"{prefix}-{index}")
        variants = {
            p.pk: list(ProductVariant.objects.filter(product=p).values_list("sku", flat=True)) for p in products
        }
    items = feed_items(client, account)
    groups = []
    for product in products:
        ids = {items[sku]["item_group_id"] for sku in variants[product.pk] if sku in items}
        assert len(ids) == 1  # every variant of a product shares its group
        (group,) = ids
        assert len(group) <= 50
        groups.append(group)
    assert groups[0] != groups[1]  # handles that differ only past 50 characters stay apart
    short = [f["item_group_id"] for f in items.values() if not f["item_group_id"].startswith(prefix[:20])]
    assert all(len(g) <= 50 for g in short)


@pytest.fixture
def availability_of(monkeypatch):
    """Give chosen SKUs an availability and an availability date, as the catalog will. The
    catalog has only in and out of stock today, which is all the SQL feed writes: these items
    go through the item-by-item writer."""
    wanted: dict[str, tuple[str, str]] = {}
    real = feeds.iter_items
    monkeypatch.setattr(feeds, "sql_feed_supported", lambda account, spec: None)

    def iter_items(*args, **kwargs):
        for built in real(*args, **kwargs):
            if built.item.id in wanted:
                built.item.availability, built.item.availability_date = wanted[built.item.id]
            yield built

    monkeypatch.setattr(feeds, "iter_items", iter_items)
    return wanted


def test_availability_date_for_preorder_and_backorder(client, shop_a, availability_of):
    account = seeded_account(shop_a, variants=6, channel="google_merchant")
    with shop_context(shop_a):
        skus = list(ProductVariant.objects.order_by("id").values_list("sku", flat=True))
    soon = timezone.now() + dt.timedelta(days=20)
    availability_of.update(
        {
            skus[0]: ("preorder", soon.isoformat()),
            skus[1]: ("backorder", "2026-12-24T09:30:00+01:00"),
            skus[2]: ("preorder", ""),  # required with preorder: left out
            skus[3]: ("backorder", (timezone.now() + dt.timedelta(days=400)).isoformat()),  # over a year
            skus[4]: ("in_stock", soon.isoformat()),  # no date with in_stock
        }
    )
    items = feed_items(client, account)
    preorder = items[skus[0]]
    assert preorder["availability"] == "preorder"
    assert AVAILABILITY_DATE.match(preorder["availability_date"])
    assert len(preorder["availability_date"]) <= 25
    assert dt.datetime.strptime(preorder["availability_date"], "%Y-%m-%dT%H:%M%z") == soon.replace(
        second=0, microsecond=0
    )
    assert (items[skus[1]]["availability"], items[skus[1]]["availability_date"]) == (
        "backorder",
        "2026-12-24T09:30+0100",
    )
    assert skus[2] not in items and skus[3] not in items
    assert "availability_date" not in items[skus[4]]
    with shop_context(shop_a):
        problems = {entry["id"]: entry["problems"] for entry in feed_check(account)["items"]}
    assert problems[skus[2]][0]["field"] == "availability_date"
    assert "one year" in problems[skus[3]][0]["message"]


# --- The adapter's formats ------------------------------------------------------------------


def item(**overrides):
    values = {
        "id": "SKU-1",
        "title": "Linen shirt",
        "description": "A shirt of washed linen.",
        "link": "https://alice.example.com/products/linen",
        "image_link": "https://alice.example.com/i/1.jpg",
        "price": Decimal("49.90"),
        "currency": "EUR",
        "gtin": "4006381333931",
    }
    values.update(overrides)
    return ChannelItem(**values)


def test_sale_window_written_in_the_specifications_format():
    assert google_interval("2025-11-01T00:00+00:00/2025-11-08T23:59+00:00") == (
        "2025-11-01T00:00+0000/2025-11-08T23:59+0000"
    )
    assert google_interval("1970-01-01T00:00+0000/2099-12-31T23:59+0000") == (
        "1970-01-01T00:00+0000/2099-12-31T23:59+0000"
    )
    assert google_interval("2025-11-01T00:00Z/2025-11-08") == "2025-11-01T00:00+0000/2025-11-08T00:00+0000"
    adapter = GoogleMerchantAdapter()
    on_sale = item(
        sale_price=Decimal("39.90"), sale_price_effective_date="2025-11-01T00:00+01:00/2025-11-08T00:00+01:00"
    )
    payload = adapter.build_payload(on_sale)
    assert payload["price"] == "49.90 EUR" and payload["sale_price"] == "39.90 EUR"
    assert payload["sale_price_effective_date"] == "2025-11-01T00:00+0100/2025-11-08T00:00+0100"
    broken = item(sale_price=Decimal("39.90"), sale_price_effective_date="from Monday")
    assert [e.field for e in adapter.validate_item(broken)] == ["sale_price_effective_date"]


def test_gtin_must_be_8_12_13_or_14_digits():
    adapter = GoogleMerchantAdapter()
    assert adapter.validate_item(item(gtin="4006381333931")) == []
    assert adapter.validate_item(item(gtin="12345")) != []
    assert adapter.validate_item(item(gtin="ABC4006381333")) != []
