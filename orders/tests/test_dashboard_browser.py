"""The dashboard in a real browser: charts drawn, numbers reachable, accessible on desktop and phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.tests.conftest import stocked_variant
from orders.tests.test_dashboard import plant_orders
from shopadmin.testing.browser import DESKTOP, PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_renders_its_charts_and_is_accessible(page, live_server, alice, shop_a, screenshot):
    from channels.tests.factories import make_account

    variant, _loc = stocked_variant(shop_a, sku="TEE-A", on_hand=200, title="Alice Tee")
    meta = make_account(shop_a, "meta", name="Alice on Meta")
    tiktok = make_account(shop_a, "tiktok_shop", name="Alice on TikTok")
    plant_orders(shop_a, meta, variant, count=4, prefix="M", days_ago=2)
    plant_orders(shop_a, tiktok, variant, count=2, prefix="T", days_ago=5)
    plant_orders(shop_a, meta, variant, count=3, prefix="P", days_ago=35)

    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/{shop_a.slug}/")
    expect(page.get_by_role("heading", name="Sales")).to_be_visible()
    time_chart = page.get_by_role("img", name="Revenue day by day, in USD")
    expect(time_chart).to_be_visible()
    expect(page.get_by_role("img", name="Revenue by channel, in USD")).to_be_visible()
    assert time_chart.bounding_box()["height"] > 100
    # The numbers behind the chart are one click away, as a table.
    page.get_by_text("The numbers").first.click()
    expect(page.get_by_role("table").first).to_be_visible()
    expect(page.locator("#listing-health")).to_contain_text("Alice on Meta")
    assert_accessible(page)
    screenshot(page, "desktop")

    page.get_by_role("link", name="12 weeks").click()
    expect(page.get_by_role("img", name="Revenue week by week, in USD")).to_be_visible()

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/app/{shop_a.slug}/")
    box = page.get_by_role("img", name="Revenue day by day, in USD").bounding_box()
    assert box["width"] <= PHONE["width"] and box["height"] > 80
    # Nothing makes the page scroll sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    screenshot(page, "phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Needs attention").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Needs attention")
    assert_accessible(page)
