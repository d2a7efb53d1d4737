"""The Snapchat catalog feed, served by the feed view, against the strictest reading of Snap's
catalog field list (docs/channels.md, Snapchat)."""

import csv
import io
from decimal import Decimal

import pytest

from channels.adapters.base import ChannelItem
from channels.adapters.snapchat import SnapchatAdapter
from channels.tests.listing_fixtures import seeded_account

pytestmark = pytest.mark.django_db

REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price", "condition")
AVAILABILITY = ("in stock", "out of stock", "preorder", "discontinued", "available for order")


def test_feed_rows_follow_snaps_field_list(client, shop_a):
    account = seeded_account(shop_a, variants=8, channel="snapchat")
    response = client.get(f"/feeds/{account.feed_token}/snapchat-us-en.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 8
    for row in rows:
        for name in REQUIRED:
            assert row[name], (name, row)
        assert row["brand"] or row["gtin"] or row["mpn"]
        assert row["availability"] in AVAILABILITY
        assert row["condition"] in ("new", "refurbished", "used")
        assert len(row["id"]) <= 50 and len(row["title"]) <= 150 and len(row["brand"]) <= 70


def item(**overrides):
    values = {
        "id": "SKU-1",
        "title": "Linen shirt",
        "description": "A shirt of washed linen.",
        "link": "https://alice.example.com/products/linen",
        "image_link": "https://alice.example.com/i/1.jpg",
        "price": Decimal("49.90"),
        "currency": "USD",
        "brand": "Alice",
    }
    values.update(overrides)
    return ChannelItem(**values)


def test_adapter_spells_and_limits_as_snap_does():
    adapter = SnapchatAdapter()
    assert adapter.build_payload(item(availability="backorder"))["availability"] == "available for order"
    assert adapter.build_payload(item(availability="discontinued"))["availability"] == "discontinued"
    assert adapter.build_payload(item())["price"] == "49.90 USD"
    assert adapter.validate_item(item()) == []
    assert [e.field for e in adapter.validate_item(item(id="X" * 51))] == ["id"]
    assert [e.field for e in adapter.validate_item(item(mpn="1" * 51))] == ["mpn"]
    assert [e.field for e in adapter.validate_item(item(brand="", gtin="", mpn=""))] == ["brand"]
