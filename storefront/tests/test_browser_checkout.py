"""A cash-on-delivery order placed end to end in a real browser at phone width (375 px), in
English and in Bengali (typed with Bengali digits)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from localization.services import shop_tax_rate_set
from orders.models import Order
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, assert_accessible
from storefront.tests.conftest import seed_store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = {
    "en": {"phone": "+1 415 555 0100", "postcode": "94105", "digits": "2"},
    "bn": {"phone": "+১ ৪১৫ ৫৫৫ ০১০০", "postcode": "৯৪১০৫", "digits": "২"},
}


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("lang", ["en", "bn"])
def test_a_cash_on_delivery_order_on_a_phone(page, live_server, shop_a, lang, screenshot):
    seed_store(shop_a, prefix="AL")
    # California's sales tax as the shop's own rate: a transactional test's flush empties the
    # reference dataset, and the test needs a state whose tax changes the total.
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        shop_tax_rate_set(shop=shop_a, country="US", region="CA", rate=Decimal("0.0725"))
    typed = TYPED[lang]
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/s/alice/?lang={lang}&utm_source=instagram&utm_campaign=diwali")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    _fits(page)
    page.get_by_role("link", name="AL Tee").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AL Tee")
    page.locator("input[name=add][value='AL-TEE-S']").check()
    page.locator("#qty").fill(typed["digits"])
    _fits(page)
    assert_accessible(page)
    screenshot(page, f"product-{lang}")
    page.locator("form[action$='/checkout/'] button[type=submit]").click()
    expect(page.locator("table")).to_contain_text("AL Tee")
    page.locator("#id_name").fill("Rahim Uddin")
    page.locator("#id_phone").fill(typed["phone"])
    page.locator("#id_line1").fill("1 Market St")
    page.locator("#id_city").fill("San Francisco")
    page.locator("#id_region").select_option("CA")
    page.locator("#id_postcode").fill(typed["postcode"])
    expect(page.locator("#pay-cod")).to_be_checked()
    expect(page.locator("#id_marketing_consent")).not_to_be_checked()
    _fits(page)
    assert_accessible(page)
    screenshot(page, f"checkout-{lang}")
    page.locator("button.big").click()
    # California's sales tax was not in the total shown: the page shows the new total first.
    expect(page.locator("form .errorlist[role=alert]")).to_be_visible()
    with shop_context(shop_a):
        assert not Order.objects.exists()
    expect(page.locator("#id_name")).to_have_value("Rahim Uddin")  # nothing typed is lost
    _fits(page)
    screenshot(page, f"checkout-tax-{lang}")
    page.locator("button.big").click()
    page.wait_for_url("**/s/alice/o/**")
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.tax > 0 and order.shipping_address["region"] == "CA"
        assert order.channel == "checkout" and order.buyer_phone == "+1 415 555 0100"
        assert order.shipping_address["postcode"] == "94105"
        assert [(ln.sku, ln.quantity) for ln in order.lines.all()] == [("AL-TEE-S", 2)]
        assert order.source == "instagram" and order.campaign == "diwali"
    expect(page.locator("main")).to_contain_text(order.external_id)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    _fits(page)
    screenshot(page, f"confirmation-{lang}")


def test_a_buyer_confirms_a_chat_draft_in_a_real_browser(page, live_server, shop_a):
    """The draft page keeps the token out of other sites' referrers without stripping the Origin
    of its own confirmation POST (with `no-referrer`, browsers send `Origin: null` and CSRF
    refuses it; a test client sends no Origin at all, so only a browser shows it)."""
    from shopadmin.audit import Actor, acting_as
    from shopadmin.models import Door
    from storefront.cart import CartItem
    from storefront.services import chat_draft_create

    store = seed_store(shop_a, prefix="AL")
    with shop_context(shop_a), acting_as(Actor(door=Door.UI, label="alice")):
        draft = chat_draft_create(
            shop=shop_a,
            market=store["home"],
            items=[CartItem("AL-TEE-S", 1)],
            name="Rahim Uddin",
            phone="+1 415 555 0100",
            address={"country": "US", "line1": "1 Market St", "city": "San Francisco", "region": "CA"},
            payment_method="cod",
            source="whatsapp",
        )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/s/alice/d/{draft.token}/?lang=bn")
    _fits(page)
    page.locator("form[method=post] button[type=submit]").click()
    page.wait_for_load_state()
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.source == "whatsapp" and [ln.sku for ln in order.lines.all()] == ["AL-TEE-S"]
    expect(page.locator("main")).to_contain_text(order.external_id)
