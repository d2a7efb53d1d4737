"""A market shown without tax (the US, Canada) adds the sales tax of the delivery address's
state or province, and the buyer sees that total before the order is placed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from localization.landed_cost import tax_rate_lookup
from orders.models import Order
from shopadmin.tenancy import shop_context
from storefront.tests.test_checkout_place import BUYER

pytestmark = pytest.mark.django_db

URL = "/s/alice/checkout/?products=AL-TEE-S:2"  # 2 x 19.99 + 5.00 delivery, a US market without tax


def _quoted(page: str) -> str:
    return page.split('name="quoted_total" value="')[1].split('"')[0]


def test_the_state_picked_prices_the_tax_and_the_buyer_sees_it_before_ordering(client, shop_a, store_a):
    page = client.get(URL).content.decode()
    assert "Sales tax for your state or province" in page
    assert '<select name="region"' in page and '<option value="NY">New York</option>' in page
    shown = _quoted(page)
    assert Decimal(shown) == Decimal("44.98")  # no sales tax yet: the state is not known

    first = client.post(URL, {**BUYER, "region": "NY", "city": "New York", "postcode": "10001", "quoted_total": shown})
    assert first.status_code == 400
    body = first.content.decode()
    assert "different from the one shown" in body
    with shop_context(shop_a):
        rate, _rule = tax_rate_lookup(country="US", region="NY", on=store_a["home"].created_at.date(), shop_id=None)
        assert not Order.objects.exists()  # nothing placed at a total the buyer did not see
    assert rate > 0
    tax = (Decimal("39.98") * rate).quantize(Decimal("0.01"))
    assert Decimal(_quoted(body)) == Decimal("44.98") + tax
    assert "Sales tax for your state or province" not in body

    placed = client.post(
        URL, {**BUYER, "region": "NY", "city": "New York", "postcode": "10001", "quoted_total": _quoted(body)}
    )
    assert placed.status_code == 303, placed.content.decode()[:3000]
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.tax == tax and order.total == Decimal("44.98") + tax
        assert order.shipping_address["region"] == "NY"


def test_a_state_without_sales_tax_keeps_the_total_shown(client, shop_a, store_a):
    shown = _quoted(client.get(URL).content.decode())
    response = client.post(
        URL, {**BUYER, "region": "OR", "city": "Portland", "postcode": "97201", "quoted_total": shown}
    )
    assert response.status_code == 303
    with shop_context(shop_a):
        assert Order.objects.get().tax == Decimal("0.00")


def test_a_state_must_be_one_of_the_list(client, shop_a, store_a):
    shown = _quoted(client.get(URL).content.decode())
    response = client.post(URL, {**BUYER, "region": "Narnia", "quoted_total": shown})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    with shop_context(shop_a):
        assert not Order.objects.exists()


def test_a_malformed_quoted_total_is_no_promise_and_no_error(client, shop_a, store_a):
    for junk in ("", "abc", "NaN", "Infinity", "1e999999", "\u0661\u0662"):
        response = client.post(URL, {**BUYER, "region": "OR", "postcode": "97201", "quoted_total": junk})
        assert response.status_code in (303, 400), junk
    with shop_context(shop_a):
        assert Order.objects.count() >= 1


def test_a_market_with_tax_in_its_prices_is_not_taxed_by_region(client, shop_b, store_b):
    page = client.get("/s/charlie/checkout/?products=CH-TEE-S:1").content.decode()
    assert "Sales tax for your state or province" not in page
    assert '<select name="region"' not in page


def test_a_country_outside_the_market_does_not_pick_the_region_list(client, shop_a, store_a):
    # Ontario is a province of Canada; the US market's checkout reads the region by the US list.
    page = client.post(URL, {**BUYER, "country": "CA", "region": "ON", "quoted_total": "44.98"}).content.decode()
    assert "Select a valid choice" in page
    with shop_context(shop_a):
        assert not Order.objects.exists()
