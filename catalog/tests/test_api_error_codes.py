"""The catalog's domain error codes reach a partner in problem+json (`errors[].code`)."""

import pytest

from catalog import services
from catalog.errors import CatalogErrorCode
from catalog.tests.factories import make_location, make_product
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_a(shop_a):
    with shop_context(shop_a):
        product = make_product()
        services.stock_set(variant=product.variants.first(), location=make_location(), on_hand=5)
    return product


def _codes(response) -> dict[str, str]:
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_a_taken_sku_is_sku_taken(api_a, catalog_a):
    response = api_a.post("/api/v1/variants/", {"product": catalog_a.pk, "sku": "TEE-S", "price": "1"}, format="json")
    assert response.json()["errors"][0] == {
        "field": "sku",
        "code": "sku_taken",
        "message": "The SKU “TEE-S” is already used by another variant.",
    }
    assert _codes(response) == {"sku": CatalogErrorCode.SKU_TAKEN}


def test_bulk_upsert_items_carry_their_codes(api_a, catalog_a):
    items = [
        {"sku": "NEW-1", "product": catalog_a.pk, "price": "-1"},
        {"sku": "NEW-1", "product": catalog_a.pk, "price": "1"},
        {"sku": "NEW-2", "product": 999999, "price": "1"},
        {"sku": "NEW-3", "product": catalog_a.pk, "price": "1", "gtin": "4006381333932"},
        {"sku": "NEW-4", "product": catalog_a.pk, "price": "1", "colour": "red"},
    ]
    codes = _codes(api_a.post("/api/v1/variants/bulk-upsert/", {"items": items}, format="json"))
    assert codes == {
        "items.0.price": "amount_negative",
        "items.1.sku": "sku_duplicate",
        "items.2.product": "product_not_found",
        "items.3.gtin": "invalid_gtin_check_digit",
        "items.4.colour": "invalid",  # the API's own shape check, not a domain error
    }


def test_stock_that_would_go_below_zero_is_insufficient_stock(api_a, catalog_a):
    body = {"movements": [{"sku": "TEE-S", "location": "main", "quantity": -9, "reason": "sale"}]}
    assert _codes(api_a.post("/api/v1/stock/movements/", body, format="json")) == {"movements": "insufficient_stock"}
    unknown = {"movements": [{"sku": "NOPE", "location": "mars", "quantity": 1, "reason": "received"}]}
    assert _codes(api_a.post("/api/v1/stock/movements/", unknown, format="json")) == {
        "movements.0.sku": "variant_not_found",
        "movements.0.location": "location_not_found",
    }


def test_a_taken_handle_and_a_category_model_check_carry_codes(api_a, catalog_a):
    response = api_a.post("/api/v1/products/", {"title": "Other", "handle": catalog_a.handle}, format="json")
    assert _codes(response) == {"handle": "handle_taken"}
    response = api_a.post("/api/v1/categories/", {"name": "Tops > Tees"}, format="json")
    assert _codes(response) == {"name": "category_name_invalid"}
