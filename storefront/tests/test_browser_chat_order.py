"""The merchant's chat order page in a real browser at phone width: find an item, make a link for
the buyer, open it as the buyer, confirm, and see the order; and cancel one from the list of links
waiting for buyers, after which its page says so."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.models import Order
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in
from storefront.models import ChatDraft
from storefront.tests.conftest import seed_store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _make_link(page, live_server, name: str) -> str:
    """From the Storefront page: a draft for `name` with two AL-TEE-S; returns the buyer's link."""
    page.goto(f"{live_server.url}/app/alice/storefront/")
    page.get_by_role("link", name="New order from a chat").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New order from a chat")
    page.locator("#q").fill("tee")
    page.locator("button[name=action][value=search]").first.click()
    page.locator("input[name='qty:AL-TEE-S']").fill("2")
    page.get_by_role("button", name="Add to the items").click()
    expect(page.locator("#id_items")).to_have_value("AL-TEE-S:2")
    page.locator("#id_source").select_option("whatsapp")
    page.locator("#id_name").fill(name)
    page.locator("#id_phone").fill("+1 415 555 0100")
    page.locator("#id_line1").fill("1 Market St")
    page.locator("#id_city").fill("San Francisco")
    page.locator("#id_region").select_option("CA")
    page.locator("#id_postcode").fill("94105")
    _fits(page)
    page.get_by_role("button", name="Make a link for the buyer to confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Order link for the buyer")
    _fits(page)
    return page.locator("#link").input_value()


def test_a_draft_made_on_a_phone_is_confirmed_by_the_buyer(page, browser, live_server, alice, shop_a, screenshot):
    seed_store(shop_a, prefix="AL")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    link = _make_link(page, live_server, "Rahim Uddin")
    assert "/s/alice/d/" in link
    assert_accessible(page)
    screenshot(page, "merchant-draft")
    with shop_context(shop_a):
        assert not Order.objects.exists()

    # The buyer, on their own phone: no session, the link from the chat.
    buyer = browser.new_context(viewport=PHONE, locale="en-US")
    try:
        phone = buyer.new_page()
        phone.goto(link)
        expect(phone.locator("main")).to_contain_text("AL Tee")
        _fits(phone)
        phone.get_by_role("button", name="Confirm order").click()
        phone.wait_for_url("**/s/alice/o/**")
        with shop_context(shop_a):
            order = Order.objects.get()
            assert order.source == "whatsapp" and [(ln.sku, ln.quantity) for ln in order.lines.all()] == [
                ("AL-TEE-S", 2)
            ]
        expect(phone.locator("main")).to_contain_text(order.external_id)
        screenshot(phone, "buyer-confirmed")
    finally:
        buyer.close()

    # The merchant sees the draft confirmed, with its order.
    page.reload()
    expect(page.locator("main")).to_contain_text("Confirmed")
    page.get_by_role("link", name=f"#{order.external_id}").click()
    expect(page.locator("main")).to_contain_text(order.external_id)
    _fits(page)


def test_a_link_cancelled_from_the_list_tells_the_buyer(page, browser, live_server, alice, shop_a):
    seed_store(shop_a, prefix="AL")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    link = _make_link(page, live_server, "Karim Typed")
    page.get_by_role("link", name="Links waiting for buyers").click()
    row = page.locator("#open-drafts tbody tr", has_text="Karim Typed")
    expect(row).to_have_count(1)
    _fits(page)
    assert_accessible(page)
    row.get_by_role("button", name="Cancel the link for Karim Typed").click()
    expect(page.locator(".messages")).to_contain_text("Link cancelled")
    expect(page.locator("#open-drafts")).to_have_count(0)
    with shop_context(shop_a):
        assert ChatDraft.objects.get().status == ChatDraft.Status.CANCELLED

    buyer = browser.new_context(viewport=PHONE, locale="en-US")
    try:
        phone = buyer.new_page()
        phone.goto(link)
        expect(phone.get_by_role("heading", level=1)).to_have_text("This order was cancelled")
        expect(phone.get_by_role("button", name="Confirm order")).to_have_count(0)
    finally:
        buyer.close()
    with shop_context(shop_a):
        assert not Order.objects.exists()
