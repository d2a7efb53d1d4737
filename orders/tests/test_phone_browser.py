"""The dashboard and an order page on a 375 px phone: nothing scrolls sideways, every amount stays
on one line, and both pass the accessibility check."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.tests.conftest import stocked_variant
from orders.tests.test_dashboard import plant_orders
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Amounts that break across lines have more than one client rect; so does a page that overflows.
AMOUNTS_ON_MORE_THAN_ONE_LINE = """() => [...document.querySelectorAll('.amount')]
    .filter((el) => el.offsetParent !== null && el.getClientRects().length > 1)
    .map((el) => el.textContent)"""
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def test_the_dashboard_and_an_order_fit_a_phone(page, live_server, alice, shop_a, screenshot):
    from catalog.models import ProductMedia
    from channels.tests.factories import make_account
    from orders.models import Order
    from shopadmin.tenancy import shop_context

    variant, _loc = stocked_variant(shop_a, sku="TEE-A", on_hand=500, price="99999.99", title="Heavy Linen Tee")
    with shop_context(shop_a):
        ProductMedia.objects.create(product_id=variant.product_id, url="https://img.example.com/tee.jpg")
    meta = make_account(shop_a, "meta", name="Alice on Meta")
    # Seven-figure revenue: the longest amounts a KPI shows.
    plant_orders(shop_a, meta, variant, count=12, total="99999.99", prefix="M", days_ago=2)
    plant_orders(shop_a, meta, variant, count=3, total="99999.99", prefix="P", days_ago=35)
    with shop_context(shop_a):
        order = Order.objects.order_by("-placed_at").first()

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/{shop_a.slug}/")
    expect(page.locator(".kpi .stat .amount").first).to_have_text("$1,199,999.88")
    expect(page.get_by_role("link", name="30 days")).to_have_attribute("aria-current", "page")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert page.evaluate(AMOUNTS_ON_MORE_THAN_ONE_LINE) == []
    assert_accessible(page)
    screenshot(page, "dashboard-phone")

    page.goto(f"{live_server.url}/app/{shop_a.slug}/orders/{order.pk}/")
    expect(page.get_by_role("link", name="Heavy Linen Tee")).to_be_visible()
    expect(page.get_by_role("img", name="Heavy Linen Tee")).to_have_attribute("src", "https://img.example.com/tee.jpg")
    # One action at a time: closed until asked for.
    expect(page.get_by_label("Carrier")).to_be_hidden()
    page.get_by_text("Fulfil", exact=True).click()
    expect(page.get_by_label("Carrier")).to_be_visible()
    expect(page.get_by_role("button", name="Record refund")).to_be_hidden()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert page.evaluate(AMOUNTS_ON_MORE_THAN_ONE_LINE) == []
    assert_accessible(page)
    screenshot(page, "order-phone")
