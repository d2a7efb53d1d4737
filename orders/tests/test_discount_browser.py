"""On a phone, in a real browser: alice opens Discount codes from the menu, adds a code with a
mistake, fixes it on the same form (nothing typed is lost), and sees it in the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.models import DiscountCode
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_adds_a_discount_code_on_a_phone(page, live_server, alice, shop_a, screenshot):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/orders/")
    page.locator(".shop-nav").get_by_role("link", name="Discount codes").click()
    expect(page.get_by_role("heading", name="Discount codes")).to_be_visible()
    page.get_by_role("link", name="Add discount code").click()

    page.get_by_label("Code").fill("EID-10")
    page.get_by_label("Fixed amount").check()
    page.get_by_label("Percentage or amount").fill("0")
    page.get_by_label("Minimum basket").fill("25")
    page.get_by_label("Usage limit").fill("100")
    page.get_by_role("button", name="Save discount code").click()
    # Refused on the same form, with what was typed kept.
    expect(page.get_by_text("Enter an amount above zero.")).to_be_visible()
    expect(page.get_by_label("Code")).to_have_value("EID-10")
    expect(page.get_by_label("Usage limit")).to_have_value("100")
    assert_accessible(page)

    page.get_by_label("Percentage or amount").fill("5")
    page.get_by_role("button", name="Save discount code").click()
    table = page.locator("#discount-codes")
    expect(table).to_contain_text("EID-10")
    expect(table).to_contain_text("$5.00")
    expect(table).to_contain_text("0 / 100")
    assert_accessible(page)
    screenshot(page, "discount-codes")
    with shop_context(shop_a):
        made = DiscountCode.objects.get()
    assert (made.kind, made.usage_limit, str(made.minimum_subtotal)) == ("fixed", 100, "25.000")
