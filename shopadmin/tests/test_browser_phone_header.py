"""On a phone (375 x 740), in English and in French: the shop switcher shows the shop's name,
and the market prices page reads as product names and words."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, Shop
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How much of the switcher's text fits: its text against the room inside the box (the
# arrow takes about 20 px on the right).
SWITCHER_ROOM = """el => {
  const style = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = el.options[el.selectedIndex].text;
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return {text, textWidth: ctx.measureText(text).width, room};
}"""


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_shop_switcher_is_readable_on_a_phone(page, live_server, alice, shop_a, shop_b, language, screenshot):
    Shop.objects.filter(pk=shop_a.pk).update(name="Alice Apparel Europe")
    with acting_as(Actor(door=Door.CLI, label="fixture")), shop_context(shop_b):
        shop_b.memberships.create(user=alice, role="viewer")
    alice.language = language
    alice.save(update_fields=["language"])
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/")

    switcher = page.locator("#shop-switcher")
    expect(switcher).to_be_visible()
    box = switcher.bounding_box()
    assert box is not None and box["width"] >= 160, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    measured = switcher.evaluate(SWITCHER_ROOM)
    assert measured["text"] == "Alice Apparel Europe"
    assert measured["textWidth"] <= measured["room"], f"the shop name is cut: {measured}"

    # The rest of the bar is on screen and usable, in two short lines at most.
    sign_out = page.get_by_role("button", name="Sign out" if language == "en" else "Se déconnecter")
    out_box = sign_out.bounding_box()
    assert out_box is not None and out_box["x"] + out_box["width"] <= PHONE["width"]
    expect(page.locator("#language-switcher")).to_be_visible()
    header = page.get_by_role("banner").bounding_box()
    assert header is not None and header["height"] < 100, header
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert_accessible(page)
    screenshot(page, f"header-{language}")

    # It still switches shops.
    page.wait_for_load_state("load")
    switcher.select_option(label="Charlie Crafts")
    expect(page).to_have_url(f"{live_server.url}/app/charlie/")


def test_market_prices_on_a_phone(page, live_server, alice, shop_a, screenshot):
    from catalog.tests.factories import make_product
    from localization import services
    from localization.pricing import market_prices_recompute

    with acting_as(Actor(door=Door.CLI, label="fixture")), shop_context(shop_a):
        make_product("Linen shirt", skus=["LIN-S", "LIN-M"], price="19.99")
        services.exchange_rate_set_manual(shop=shop_a, base="USD", quote="JPY", rate=Decimal("150"))
        market = services.market_create(
            shop=shop_a,
            name="Japan",
            countries=["JP"],
            currency="JPY",
            languages=["ja"],
            rate_mode="manual",
            rounding="nearest_100",
            duty_mode="DAP",
        )
        market_prices_recompute(shop_id=shop_a.pk)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/localization/markets/{market.pk}/prices/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Prices in Japan")
    first = page.get_by_role("row").filter(has_text="LIN-M")
    expect(first).to_contain_text("Linen shirt")
    expect(first).to_contain_text("Size: M")
    expect(first).to_contain_text("¥3,000")
    content = page.content()
    assert "nearest_100" not in content and "Landed cost in" not in content and "¥0" not in content
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert_accessible(page)
    screenshot(page, "market-prices")

    # On a wide screen the rule reads in words.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("row").filter(has_text="LIN-M")).to_contain_text("Nearest 100")
    assert_accessible(page)


def test_a_french_merchant_makes_a_market_on_a_phone(page, live_server, alice, shop_a, screenshot):
    from localization.models import Market

    alice.language = "fr"
    alice.save(update_fields=["language"])
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/localization/markets/new/")

    page.locator("#id_name").fill("Europe")
    # Countries by their French names, ticked in a list that scrolls inside its box.
    countries = page.locator("div.choice-list")
    box = countries.bounding_box()
    assert box is not None and box["height"] <= 16 * 16 + 30 and box["x"] + box["width"] <= PHONE["width"]
    page.get_by_role("checkbox", name="Allemagne").check()
    page.get_by_role("checkbox", name="France", exact=True).check()
    currency = page.locator("#id_currency")
    expect(currency.locator("option").first).to_have_text("USD — dollar des États-Unis")
    currency.select_option("EUR")
    page.locator("#id_languages").fill("fr, de")
    page.locator("#id_adjustment_percent").fill("2,5")
    assert_accessible(page)
    screenshot(page, "market-form-fr")
    page.locator("form.panel button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/app/alice/localization/")
    with shop_context(shop_a):
        market = Market.objects.get(name="Europe")
    assert sorted(market.countries) == ["DE", "FR"] and market.adjustment_percent == Decimal("2.5")

    # Editing it: the ticked countries come first and the adjustment reads the French way.
    page.goto(f"{live_server.url}/app/alice/localization/markets/{market.pk}/")
    first_two = page.locator("div.choice-list input[type=checkbox]")
    assert {first_two.nth(0).get_attribute("value"), first_two.nth(1).get_attribute("value")} == {"DE", "FR"}
    expect(page.locator("#id_adjustment_percent")).to_have_value("2,50")
