"""On a phone, in Bengali: bob (editor) adds a shipping rate typed in Bengali digits, sees it listed
in Bengali digits and taka, and the page fits the screen."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from localization import services
from localization.models import ShippingRate
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bob_adds_a_rate_in_bengali_digits_on_a_phone(page, live_server, bob, shop_a, screenshot):
    with acting_as(Actor(door=Door.CLI, label="fixture")), shop_context(shop_a):
        dhaka = services.market_create(
            shop=shop_a, name="Bangladesh", countries=["BD"], currency="BDT", languages=["bn"]
        )
    bob.language = "bn"
    bob.save(update_fields=["language"])
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, bob)
    page.goto(f"{live_server.url}/app/alice/localization/markets/{dhaka.pk}/shipping/")

    page.locator("#id_name").fill("কুরিয়ার, ঢাকার ভিতরে")
    page.locator("input[name=kind][value=weight]").check()
    page.locator("#id_amount").fill("৬০")
    page.locator("#id_per_kg_amount").fill("২০.৫০")
    page.locator("#id_max_weight_grams").fill("৫০০০")
    page.locator("form.panel button[type=submit]").click()

    row = page.locator("tbody tr").filter(has_text="কুরিয়ার, ঢাকার ভিতরে")
    expect(row).to_be_visible()
    expect(row).to_contain_text("৬০.০০")  # Bengali digits in the list, as typed
    with shop_context(shop_a):
        rate = ShippingRate.objects.get()
    assert (rate.amount, rate.per_kg_amount, rate.max_weight_grams, rate.currency) == (
        Decimal("60"),
        Decimal("20.50"),
        5000,
        "BDT",
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert_accessible(page)
    screenshot(page, "shipping-rates-bn-phone")
