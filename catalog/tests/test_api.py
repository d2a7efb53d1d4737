import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Product, ProductVariant, StockLevel, StockMovement
from catalog.tests.factories import make_location, make_product
from conftest import api_client_for
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

PRODUCT = {
    "title": "Organic Tee",
    "hs_code": "6109.10",
    "country_of_origin": "PT",
    "status": "active",
    "tags": ["organic"],
    "options": [{"name": "Size", "values": ["S", "M"]}],
    "new_variants": [
        {"sku": "ORG-S", "price": "24.00", "option_values": {"Size": "S"}, "gtin": "4006381333931"},
        {"sku": "ORG-M", "price": "24.00", "option_values": {"Size": "M"}},
    ],
}


@pytest.fixture
def catalog_a(shop_a):
    with shop_context(shop_a):
        product = make_product()
        location = make_location()
        services.stock_set(variant=product.variants.first(), location=location, on_hand=5)
    return product


def test_create_list_get_update_delete_product(api_a, shop_a):
    response = api_a.post("/api/v1/products/", PRODUCT, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["hs_code"] == "610910" and body["handle"] == "organic-tee"
    assert [v["sku"] for v in body["variants"]] == ["ORG-S", "ORG-M"]
    assert body["variants"][0]["price"] == "24.00"
    product_id = body["id"]

    listed = api_a.get("/api/v1/products/?status=active").json()
    assert [p["id"] for p in listed["results"]] == [product_id]
    assert api_a.get("/api/v1/products/?sku=ORG-M").json()["results"][0]["id"] == product_id
    assert api_a.get("/api/v1/products/?tag=organic").json()["results"]

    response = api_a.patch(f"/api/v1/products/{product_id}/", {"status": "archived"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert api_a.delete(f"/api/v1/products/{product_id}/").status_code == 204
    with shop_context(shop_a):
        assert not Product.objects.exists()


def test_bad_input_is_problem_json_with_field_errors(api_a):
    bad = {**PRODUCT, "hs_code": "12", "new_variants": [{"sku": "X", "price": "1", "gtin": "4006381333932"}]}
    response = api_a.post("/api/v1/products/", bad, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "6 to 10 digits" in fields["hs_code"]
    response = api_a.post(
        "/api/v1/products/",
        {**PRODUCT, "new_variants": [{"sku": "X", "price": "1", "gtin": "4006381333932"}]},
        format="json",
    )
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "check digit" in fields["variants.0.gtin"]


def test_variants_crud_and_available(api_a, catalog_a):
    listed = api_a.get("/api/v1/variants/?limit=1").json()
    assert len(listed["results"]) == 1 and listed["next"]
    variant = api_a.get("/api/v1/variants/?sku=TEE-S").json()["results"][0]
    assert variant["available"] == 5 and variant["currency"] == "USD"
    response = api_a.post(
        "/api/v1/variants/", {"product": catalog_a.pk, "sku": "TEE-L", "price": "19.99"}, format="json"
    )
    assert response.status_code == 201, response.json()
    new_id = response.json()["id"]
    response = api_a.patch(f"/api/v1/variants/{new_id}/", {"price": "17.5"}, format="json")
    assert response.json()["price"] == "17.50"
    response = api_a.post("/api/v1/variants/", {"product": catalog_a.pk, "sku": "TEE-L", "price": "1"}, format="json")
    assert response.status_code == 400
    assert "already used" in response.json()["errors"][0]["message"]
    assert api_a.delete(f"/api/v1/variants/{new_id}/").status_code == 204


def test_bulk_upsert_all_or_nothing(api_a, shop_a, catalog_a):
    items = [{"sku": f"BULK-{i}", "product": catalog_a.pk, "price": "9.99"} for i in range(300)]
    items[150]["gtin"] = "123"
    items[200]["price"] = "-1"
    response = api_a.post("/api/v1/variants/bulk-upsert/", {"items": items}, format="json")
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"items.150.gtin", "items.200.price"}
    with shop_context(shop_a):
        assert not ProductVariant.objects.filter(sku__startswith="BULK-").exists()
    items[150]["gtin"] = ""
    items[200]["price"] = "1"
    items.append({"sku": "TEE-S", "price": "12.00"})
    response = api_a.post("/api/v1/variants/bulk-upsert/", {"items": items}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 300 and response.json()["updated"] == 1


def test_bulk_upsert_limit(api_a):
    items = [{"sku": f"S{i}", "price": "1"} for i in range(1001)]
    response = api_a.post("/api/v1/variants/bulk-upsert/", {"items": items}, format="json")
    assert response.status_code == 400


def test_stock_levels_and_movements(api_a, shop_a, catalog_a):
    levels = api_a.get("/api/v1/stock/?sku=TEE-S").json()["results"]
    assert levels[0]["on_hand"] == 5 and levels[0]["location"] == "main"
    body = {"movements": [{"sku": "TEE-S", "location": "main", "quantity": -2, "reason": "sale", "reference": "o-1"}]}
    response = api_a.post("/api/v1/stock/movements/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()[0]["on_hand_after"] == 3
    too_many = {"movements": [{"sku": "TEE-S", "location": "main", "quantity": -9, "reason": "sale"}]}
    response = api_a.post("/api/v1/stock/movements/", too_many, format="json")
    assert response.status_code == 400 and "below zero" in response.json()["errors"][0]["message"]
    unknown = {"movements": [{"sku": "NOPE", "location": "mars", "quantity": 1, "reason": "received"}]}
    fields = {e["field"] for e in api_a.post("/api/v1/stock/movements/", unknown, format="json").json()["errors"]}
    assert fields == {"movements.0.sku", "movements.0.location"}
    ledger = api_a.get("/api/v1/stock/movements/?reason=sale").json()["results"]
    assert [m["reference"] for m in ledger] == ["o-1"]


def test_idempotent_post_replays_without_a_second_write(api_a, shop_a, catalog_a):
    body = {"movements": [{"sku": "TEE-S", "location": "main", "quantity": 1, "reason": "received"}]}
    first = api_a.post("/api/v1/stock/movements/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api_a.post("/api/v1/stock/movements/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    with shop_context(shop_a):
        assert StockMovement.objects.filter(reason="received").count() == 1
        assert StockLevel.objects.get(variant__sku="TEE-S").on_hand == 6
    other = {"movements": [{"sku": "TEE-S", "location": "main", "quantity": 2, "reason": "received"}]}
    conflict = api_a.post("/api/v1/stock/movements/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert conflict.status_code == 409
    one = api_a.post("/api/v1/products/", PRODUCT, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    two = api_a.post("/api/v1/products/", PRODUCT, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert one.json()["id"] == two.json()["id"]


def test_locations(api_a):
    response = api_a.post("/api/v1/locations/", {"name": "Lisbon", "code": "lis", "country": "pt"}, format="json")
    assert response.status_code == 201 and response.json()["country"] == "PT"
    response = api_a.post("/api/v1/locations/", {"name": "Lisbon", "code": "lis", "country": "XX"}, format="json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert "country" in fields


def test_charlie_never_sees_shop_a(api_b, catalog_a, shop_a):
    with shop_context(shop_a):
        variant = catalog_a.variants.first()
        level = StockLevel.objects.first()
        movement = StockMovement.objects.first()
    for url in [
        f"/api/v1/products/{catalog_a.pk}/",
        f"/api/v1/variants/{variant.pk}/",
        f"/api/v1/stock/{level.pk}/",
        f"/api/v1/stock/movements/{movement.pk}/",
        f"/api/v1/locations/{level.location_id}/",
    ]:
        assert api_b.get(url).status_code == 404, url
        assert api_b.patch(url, {"title": "x"}, format="json").status_code in (404, 405), url
        assert api_b.delete(url).status_code in (404, 405), url
    for url in ["/api/v1/products/", "/api/v1/variants/", "/api/v1/stock/", "/api/v1/stock/movements/"]:
        assert api_b.get(url).json()["results"] == [], url
    body = {"movements": [{"variant": variant.pk, "location": "main", "quantity": -1, "reason": "sale"}]}
    assert api_b.post("/api/v1/stock/movements/", body, format="json").status_code == 400
    upsert = {"items": [{"sku": "X", "product": catalog_a.pk, "price": "1"}]}
    assert api_b.post("/api/v1/variants/bulk-upsert/", upsert, format="json").status_code == 400
    with shop_context(shop_a):
        assert StockLevel.objects.get(pk=level.pk).on_hand == 5


def test_read_only_key_cannot_write(shop_a, catalog_a):
    reader = api_client_for(shop_a, scopes=["catalog:read"], name="reader")
    assert reader.get("/api/v1/products/").status_code == 200
    for url, body in [
        ("/api/v1/products/", PRODUCT),
        ("/api/v1/variants/bulk-upsert/", {"items": [{"sku": "TEE-S", "price": "1"}]}),
        ("/api/v1/stock/movements/", {"movements": []}),
        ("/api/v1/locations/", {"name": "x", "code": "x", "country": "US"}),
    ]:
        response = reader.post(url, body, format="json")
        assert response.status_code == 403 and response.json()["code"] == "missing_scope", url
    assert reader.patch(f"/api/v1/products/{catalog_a.pk}/", {"title": "x"}, format="json").status_code == 403
    writer_only = api_client_for(shop_a, scopes=["orders:read"], name="other")
    assert writer_only.get("/api/v1/variants/").status_code == 403
    assert APIClient().get("/api/v1/products/").status_code == 401


def test_products_list_query_count_is_constant(api_a, shop_a, django_assert_max_num_queries):
    with shop_context(shop_a):
        for i in range(30):
            make_product(f"P{i}", skus=(f"P{i}-S", f"P{i}-M"))
    with django_assert_max_num_queries(12):
        small = api_a.get("/api/v1/products/?limit=2")
    with django_assert_max_num_queries(12):
        big = api_a.get("/api/v1/products/?limit=30")
    assert len(small.json()["results"]) == 2 and len(big.json()["results"]) == 30
    with django_assert_max_num_queries(12):
        api_a.get("/api/v1/variants/?limit=60")


def test_schema_documents_catalog_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in [
        "/api/v1/products/",
        "/api/v1/variants/",
        "/api/v1/variants/bulk-upsert/",
        "/api/v1/stock/",
        "/api/v1/stock/movements/",
        "/api/v1/locations/",
    ]:
        assert path in schema["paths"], path
    post = schema["paths"]["/api/v1/variants/bulk-upsert/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_the_api_reads_native_digits_and_answers_in_ascii(api_a, catalog_a):
    response = api_a.post(
        "/api/v1/variants/",
        {"product": catalog_a.pk, "sku": "TEE-XL", "price": "১২৫০.৫০", "weight_grams": "۴۲۰"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["price"] == "1250.50" and response.json()["weight_grams"] == 420
    response = api_a.patch(f"/api/v1/variants/{response.json()['id']}/", {"price": "۱۲۵۰٫۷۵"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["price"] == "1250.75"
