"""Title search (trigram on PostgreSQL, exact SKU/GTIN first) and the audit entry of stock posts."""

import pytest
from django.db import connection
from django.urls import reverse

from catalog import services
from catalog.services import StockChange
from catalog.tests.factories import make_location, make_product
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(shop_a):
    with shop_context(shop_a):
        organic = make_product("Organic Cotton Tee", skus=("ORG-S", "ORG-M"))
        services.variant_update(variant=organic.variants.get(sku="ORG-S"), gtin="4006381333931")
        # Its title does not mention the SKU another product is searched by.
        other = make_product("Linen Shirt", skus=("TEE-ORG",))
        for i in range(5):
            make_product(f"Organic Hoodie {i}", skus=(f"HOOD-{i}",))
    return {"organic": organic, "other": other}


def titles(rows):
    return [r.product.title for r in rows]


def test_list_search_pins_exact_sku_and_gtin_and_tolerates_typos(alice_client, shelf):
    url = reverse("catalog:product-list", args=["alice"])
    rows = alice_client.get(url, {"q": "TEE-ORG"}).context["page"].rows
    assert titles(rows)[0] == "Linen Shirt"
    rows = alice_client.get(url, {"q": "4006381333931"}).context["page"].rows
    assert titles(rows) == ["Organic Cotton Tee"]
    rows = alice_client.get(url, {"q": "organic", "sort": "title"}).context["page"].rows
    assert titles(rows) == ["Organic Cotton Tee"] + [f"Organic Hoodie {i}" for i in range(5)]
    if connection.vendor == "postgresql":
        rows = alice_client.get(url, {"q": "orgnic cotton"}).context["page"].rows
        assert titles(rows) == ["Organic Cotton Tee"]


def test_list_search_pages_never_repeat_the_pinned_product(alice_client, shop_a, shelf):
    url = reverse("catalog:product-list", args=["alice"])
    with shop_context(shop_a):
        for i in range(5, 60):
            make_product(f"Organic Hoodie {i}", skus=(f"HOOD-{i}",), handle=f"organic-{i}")
    first = alice_client.get(url, {"q": "organic-7"}).context["page"]
    assert first.rows[0].product.handle == "organic-7"
    second = alice_client.get(url, {"q": "organic-7", "after": first.next_cursor}).context["page"]
    seen = [r.product.pk for r in first.rows + second.rows]
    assert len(seen) == len(set(seen))


def test_api_search_exact_first_then_title(api_a, shelf):
    body = api_a.get("/api/v1/products/", {"search": "TEE-ORG"}).json()
    assert body["results"][0]["title"] == "Linen Shirt"
    body = api_a.get("/api/v1/products/", {"search": "organic", "limit": 4}).json()
    page = [p["title"] for p in body["results"]]
    body = api_a.get(body["next"]).json()
    page += [p["title"] for p in body["results"]]
    assert sorted(page) == sorted(["Organic Cotton Tee"] + [f"Organic Hoodie {i}" for i in range(5)])
    if connection.vendor == "postgresql":
        body = api_a.get("/api/v1/products/", {"search": "hodie"}).json()
        assert len(body["results"]) == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only")
def test_the_trigram_index_exists(shop_a):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'product_title_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "gin_trgm_ops" in definition and "upper" in definition.lower()


def test_one_audit_entry_per_stock_post_with_the_lines(shop_a, shelf):
    with shop_context(shop_a):
        main, store = make_location(), make_location("store", "Store")
        s, m = (shelf["organic"].variants.get(sku=sku) for sku in ("ORG-S", "ORG-M"))
        before = AuditLogEntry.objects.filter(action="stock.post_movements").count()
        services.stock_post_movements(
            movements=[
                StockChange(variant_id=s.pk, location_id=main.pk, quantity=24, reason="received", reference="PO-1"),
                StockChange(variant_id=m.pk, location_id=store.pk, quantity=3, reason="received", reference="PO-1"),
            ]
        )
        entries = AuditLogEntry.objects.filter(action="stock.post_movements").order_by("id")[before:]
        (entry,) = entries
    assert entry.changes == {
        "ORG-S @ main": [None, "+24 received · PO-1"],
        "ORG-M @ store": [None, "+3 received · PO-1"],
    }
    assert "2 stock movements" in entry.object_repr and "PO-1" in entry.object_repr
    assert entry.actor_label


def test_a_big_post_writes_one_short_entry(shop_a):
    with shop_context(shop_a):
        location = make_location()
        product = make_product("Many", skus=tuple(f"M-{i}" for i in range(120)))
        services.stock_post_movements(
            movements=[
                StockChange(variant_id=v.pk, location_id=location.pk, quantity=1, reason="import")
                for v in product.variants.all()
            ]
        )
        (entry,) = AuditLogEntry.objects.filter(action="stock.post_movements")
    assert len(entry.changes) == services.AUDIT_STOCK_LINES + 1
    assert entry.changes["more lines"] == [None, 120 - services.AUDIT_STOCK_LINES]
