"""The orders app's domain error codes reach a partner in problem+json (`errors[].code`)."""

import pytest

from orders.services.ingest import order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_a(shop_a, meta_account):
    """Shop A's order of two tees at 10 each."""
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("A-1", lines=(("TEE-M", 2, "10"),)))
        return order, order.lines.get().pk


def _codes(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_refunding_more_than_was_ordered_is_refund_exceeds_ordered(api_a, order_a):
    order, line = order_a
    body = {"amount": "1", "lines": [{"line": line, "quantity": 3}]}
    response = api_a.post(f"/api/v1/orders/{order.pk}/refund/", body, format="json")
    assert _codes(response) == [("lines", "refund_exceeds_ordered")]
    assert response.json()["errors"][0]["message"] == "TEE-M: refunding more than was ordered."


def test_refund_amount_errors_carry_codes(api_a, order_a):
    order, line = order_a
    url = f"/api/v1/orders/{order.pk}/refund/"
    assert _codes(api_a.post(url, {"amount": "100000"}, format="json")) == [("amount", "refund_exceeds_total")]
    assert _codes(api_a.post(url, {"amount": "0"}, format="json")) == [("amount", "amount_not_positive")]
    body = {"amount": "1", "lines": [{"line": line + 1000, "quantity": 1}]}
    assert _codes(api_a.post(url, body, format="json")) == [("lines", "line_not_in_order")]


def test_fulfilling_more_than_is_open_and_cancelling_twice(api_a, order_a):
    order, line = order_a
    body = {"lines": [{"line": line, "quantity": 3}]}
    assert _codes(api_a.post(f"/api/v1/orders/{order.pk}/fulfil/", body, format="json")) == [
        ("lines", "fulfill_exceeds_open")
    ]
    assert api_a.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json").status_code == 200
    # An error without a field: `field` is null, the code is still the domain's.
    assert _codes(api_a.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")) == [(None, "order_closed")]
