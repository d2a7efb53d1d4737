import csv
import io

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import Location, Product, ProductMedia, ProductVariant, StockLevel
from catalog.tests.factories import make_location, make_product
from conftest import login, make_user
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_a(shop_a):
    with shop_context(shop_a):
        product = make_product(brand="Northwind", status="active")
        location = make_location()
        variant = product.variants.first()
        services.stock_set(variant=variant, location=location, on_hand=5)
        media = services.media_add(product=product, url="https://example.com/tee.jpg", alt_text="Tee")
    return {"product": product, "variant": variant, "location": location, "media": media}


def get_urls(slug, c):
    return [
        reverse("catalog:product-list", args=[slug]),
        reverse("catalog:product-create", args=[slug]),
        reverse("catalog:product-detail", args=[slug, c["product"].pk]),
        reverse("catalog:variant-edit", args=[slug, c["variant"].pk]),
        reverse("catalog:locations", args=[slug]),
        reverse("catalog:import", args=[slug]),
        reverse("catalog:export", args=[slug]),
    ]


def post_urls(slug, c):
    p, v = c["product"].pk, c["variant"].pk
    return [
        (reverse("catalog:product-create", args=[slug]), {"title": "X", "status": "draft", "condition": "new"}),
        (reverse("catalog:product-detail", args=[slug, p]), {"title": "X", "status": "draft", "condition": "new"}),
        (reverse("catalog:product-bulk", args=[slug]), {"action": "archive", "products": [p]}),
        (reverse("catalog:product-options", args=[slug, p]), {"name_0": "Size", "values_0": "S"}),
        (reverse("catalog:variant-create", args=[slug, p]), {"sku": "NEW", "price": "1"}),
        (reverse("catalog:variant-edit", args=[slug, v]), {"sku": "TEE-S", "price": "2"}),
        (reverse("catalog:media-add", args=[slug, p]), {"url": "https://example.com/a.jpg"}),
        (reverse("catalog:media-delete", args=[slug, c["media"].pk]), {}),
        (
            reverse("catalog:stock-adjust", args=[slug, p]),
            {"variant": v, "location": c["location"].pk, "mode": "delta", "quantity": -1, "reason": "sale"},
        ),
        (reverse("catalog:locations", args=[slug]), {"name": "Store", "code": "store", "country": "US"}),
        (reverse("catalog:variant-delete", args=[slug, v]), {}),
        (reverse("catalog:product-delete", args=[slug, p]), {}),
    ]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_see_every_page(request, client, who, catalog_a):
    login(client, request.getfixturevalue(who))
    for url in get_urls("alice", catalog_a):
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith("export.csv"):
            b"".join(response.streaming_content)


def test_charlie_gets_404_everywhere_in_shop_a(charlie_client, catalog_a):
    for url in get_urls("alice", catalog_a):
        assert charlie_client.get(url).status_code == 404, url
    for url, data in post_urls("alice", catalog_a):
        assert charlie_client.post(url, data).status_code == 404, url
    # Through his own shop's URLs, shop A's objects do not exist either.
    for url in get_urls("charlie", catalog_a)[2:4]:
        assert charlie_client.get(url).status_code == 404, url
    for url, data in post_urls("charlie", catalog_a)[1:]:
        if "bulk" in url or "locations" in url:
            continue
        assert charlie_client.post(url, data).status_code == 404, url
    response = charlie_client.post(
        reverse("catalog:product-bulk", args=["charlie"]), {"action": "archive", "products": [catalog_a["product"].pk]}
    )
    assert response.status_code == 302
    export = b"".join(charlie_client.get(reverse("catalog:export", args=["charlie"])).streaming_content)
    assert b"TEE-S" not in export


def test_viewer_can_look_but_not_write(client, shop_a, catalog_a):
    viewer = make_user("vera@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=viewer, role="viewer")
    login(client, viewer)
    for url in get_urls("alice", catalog_a):
        if "import" in url or "new" in url:
            assert client.get(url).status_code == 403, url
        else:
            assert client.get(url).status_code == 200, url
    for url, data in post_urls("alice", catalog_a):
        assert client.post(url, data).status_code == 403, url
    with shop_context(shop_a):
        assert Product.objects.filter(status="active").count() == 1


def test_bob_edits_a_product_end_to_end(bob_client, shop_a, catalog_a):
    slug, p = "alice", catalog_a["product"]
    url = reverse("catalog:product-detail", args=[slug, p.pk])
    response = bob_client.post(
        url, {"title": "Tee", "status": "active", "condition": "new", "hs_code": "12", "country_of_origin": "zz"}
    )
    assert response.status_code == 400
    # The country is picked from a list: a code that is none is the form's error, before the service's checks.
    assert "not an ISO 3166-1 country code" in response.content.decode()
    response = bob_client.post(url, {"title": "Tee", "status": "active", "condition": "new", "hs_code": "12"})
    assert response.status_code == 400 and "6 to 10 digits" in response.content.decode()
    response = bob_client.post(
        url, {"title": "Tee", "status": "active", "condition": "new", "hs_code": "6109.10", "tags": "a, b"}
    )
    assert response.status_code == 302
    with shop_context(shop_a):
        p.refresh_from_db()
        assert p.hs_code == "610910" and p.tags == ["a", "b"]

    response = bob_client.post(
        reverse("catalog:variant-create", args=[slug, p.pk]),
        {"sku": "TEE-S", "price": "abc", "gtin": "4006381333932"},
    )
    # An amount that is no number is the form's error (in the user's number format), before the service's checks.
    assert response.status_code == 400 and "Enter a number, e.g. 1,234.50" in response.content.decode()
    response = bob_client.post(
        reverse("catalog:variant-create", args=[slug, p.pk]), {"sku": "TEE-S", "price": "1", "gtin": "4006381333932"}
    )
    assert response.status_code == 400 and "already used" in response.content.decode()
    response = bob_client.post(
        reverse("catalog:variant-create", args=[slug, p.pk]),
        {"sku": "TEE-L", "price": "21.00", "gtin": "4006381333931", "option_Size": "S"},
    )
    assert response.status_code == 302

    adjust = reverse("catalog:stock-adjust", args=[slug, p.pk])
    v, loc = catalog_a["variant"], catalog_a["location"]
    response = bob_client.post(
        adjust, {"variant": v.pk, "location": loc.pk, "mode": "delta", "quantity": -9, "reason": "damage"}
    )
    assert response.status_code == 400 and "below zero" in response.content.decode()
    response = bob_client.post(
        adjust, {"variant": v.pk, "location": loc.pk, "mode": "set", "quantity": 12, "reason": "correction"}
    )
    assert response.status_code == 302
    with shop_context(shop_a):
        assert StockLevel.objects.get(variant=v, location=loc).on_hand == 12

    response = bob_client.post(reverse("catalog:media-add", args=[slug, p.pk]), {"alt_text": "nothing"})
    assert response.status_code == 400 and "Give an image URL" in response.content.decode()


def test_bulk_actions_from_the_list(alice_client, shop_a):
    with shop_context(shop_a):
        ids = [make_product(f"P{i}", skus=(f"P{i}-1",)).pk for i in range(3)]
    url = reverse("catalog:product-bulk", args=["alice"])
    alice_client.post(url, {"action": "activate", "products": ids, "next": "?status=draft"})
    alice_client.post(url, {"action": "tag", "tag": "summer", "products": ids[:2]})
    response = alice_client.post(url, {"action": "tag", "products": ids})
    assert response.status_code == 302
    with shop_context(shop_a):
        assert Product.objects.filter(status="active").count() == 3
        assert Product.objects.filter(tags__contains=["summer"]).count() == 2
    listed = alice_client.get(reverse("catalog:product-list", args=["alice"]) + "?q=P1").content.decode()
    assert "P1" in listed and ">P2<" not in listed


def test_list_filters_and_keyset_pages(alice_client, shop_a):
    with shop_context(shop_a):
        for i in range(120):
            services.product_create(title=f"Item {i:03d}", brand="Acme" if i % 2 else "Other", status="active")
    url = reverse("catalog:product-list", args=["alice"])
    seen, next_url, pages = [], "?sort=title", 0
    while next_url:
        response = alice_client.get(url + next_url)
        seen += [row.product.title for row in response.context["page"].rows]
        next_url, pages = response.context["next_url"], pages + 1
    assert pages == 3 and seen == sorted(seen) and len(set(seen)) == 120
    last = alice_client.get(url + "?sort=title&after=" + response.context["page"].rows[0].product.title)
    assert last.status_code == 200  # a garbled cursor is ignored, not a crash
    second = alice_client.get(url + "?sort=title").context["next_url"]
    page2 = alice_client.get(url + second)
    back = alice_client.get(url + page2.context["prev_url"])
    assert [r.product.title for r in back.context["page"].rows] == seen[:50]
    acme = alice_client.get(url + "?brand=Acme&stock=out").context["page"].rows
    assert len(acme) == 50 and all(r.product.brand == "Acme" for r in acme)


def test_product_list_query_count_is_constant(alice_client, shop_a, django_assert_max_num_queries):
    with shop_context(shop_a):
        location = make_location()
        for i in range(60):
            product = make_product(f"P{i}", skus=(f"P{i}-S", f"P{i}-M"))
            services.stock_set(variant=product.variants.first(), location=location, on_hand=i)
            services.media_add(product=product, url=f"https://example.com/{i}.jpg")
    url = reverse("catalog:product-list", args=["alice"])
    alice_client.get(url)
    with django_assert_max_num_queries(14) as few:
        alice_client.get(url + "?stock=in&brand=")  # P1-P59 in stock, first page of 50
    with django_assert_max_num_queries(14) as many:
        response = alice_client.get(url)
    assert len(response.context["page"].rows) == 50
    assert len(many.captured_queries) == len(few.captured_queries)
    # A search costs one more query (the exact SKU/GTIN/handle matches), whatever it finds.
    with django_assert_max_num_queries(15) as few:
        response = alice_client.get(url + "?q=P1-M")  # the exact SKU, then P10-M… by similarity
    assert response.context["page"].rows[0].product.title == "P1"
    with django_assert_max_num_queries(15) as many:
        response = alice_client.get(url + "?q=P")
    assert len(response.context["page"].rows) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


def test_export_streams_the_filtered_catalog(alice_client, shop_a, catalog_a):
    with shop_context(shop_a):
        make_product("Other", skus=("OTH-1",), status="draft")
    response = alice_client.get(reverse("catalog:export", args=["alice"]) + "?status=active")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["sku"] for r in rows] == ["TEE-S", "TEE-M"]
    assert rows[0]["price"] == "19.99" and rows[0]["stock:main"] == "5" and rows[0]["option1_name"] == "Size"
    assert rows[0]["image_url"] == "https://example.com/tee.jpg"


def test_locations_page_errors_inline(alice_client, shop_a):
    url = reverse("catalog:locations", args=["alice"])
    assert alice_client.post(url, {"name": "NYC", "code": "nyc", "country": "us"}).status_code == 302
    response = alice_client.post(url, {"name": "NYC 2", "code": "nyc", "country": "XX"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "already uses the code" in html or "not an ISO 3166-1" in html
    with shop_context(shop_a):
        assert Location.objects.get().country == "US"


def test_variant_page_and_delete(alice_client, shop_a, catalog_a):
    url = reverse("catalog:variant-edit", args=["alice", catalog_a["variant"].pk])
    response = alice_client.post(url, {"sku": "TEE-S", "price": "18", "compare_at_price": "10"})
    assert response.status_code == 400 and "compare-at price must be higher" in response.content.decode()
    assert alice_client.post(url, {"sku": "TEE-S", "price": "18", "compare_at_price": "25"}).status_code == 302
    alice_client.post(reverse("catalog:media-delete", args=["alice", catalog_a["media"].pk]))
    with shop_context(shop_a):
        assert ProductVariant.objects.get(sku="TEE-S").compare_at_price.amount == 25
        assert not ProductMedia.objects.exists()
