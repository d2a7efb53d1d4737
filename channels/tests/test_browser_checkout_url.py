"""On a phone, a Meta account's page shows its checkout URL in a field that fits the screen and
selects whole, with the steps to paste it into Commerce Manager; accessible."""

import pytest
from playwright.sync_api import expect

from channels.tests.factories import make_account
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_checkout_url_is_copyable_on_a_phone(page, live_server, alice, shop_a, settings, screenshot):
    settings.SITE_URL = "https://shops.example.com"
    account = make_account(shop_a, "meta", name="Facebook & Instagram")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/channels/{account.pk}/")

    field = page.get_by_label("Your checkout URL")
    expect(field).to_be_visible()
    expect(field).to_have_value("https://shops.example.com/s/alice/checkout/")
    assert field.get_attribute("readonly") is not None
    box = field.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    # Focus and select: the whole address is selected, ready to copy.
    field.click()
    field.select_text()
    selected = field.evaluate("el => el.value.substring(el.selectionStart, el.selectionEnd)")
    assert selected == "https://shops.example.com/s/alice/checkout/"
    steps = page.locator("#checkout-url-steps li")
    expect(steps).to_have_count(5)
    expect(steps.nth(2)).to_contain_text("Checkout method")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert_accessible(page)
    page.locator("#checkout-url").scroll_into_view_if_needed()
    screenshot(page, "meta-checkout-url")
