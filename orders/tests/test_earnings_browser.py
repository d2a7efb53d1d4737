"""What each channel earns on a 375 px phone: the report and the ad spend form fit, pass the
accessibility check, and a month's spend entered in Bengali digits changes the ROAS."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.earnings import default_range, prorated_spend
from orders.tests.test_phone_browser import AMOUNTS_ON_MORE_THAN_ONE_LINE, NO_SIDEWAYS_SCROLL
from shopadmin.templatetags.formats import format_money
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_and_the_spend_form_on_a_phone(page, live_server, alice, shop_a, screenshot):
    from channels.tests.factories import make_account
    from orders.attribution import landing_from_params, traffic_count
    from orders.services.ingest import order_import
    from orders.tests.conftest import channel_order, stocked_variant
    from shopadmin.audit import Actor, acting_as
    from shopadmin.models import Door
    from shopadmin.tenancy import shop_context

    stocked_variant(shop_a, on_hand=100)
    meta = make_account(shop_a, "meta", name="Alice on Meta")
    eid = {"cart_origin": "instagram", "utm_campaign": "Eid"}
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        for _n in range(120):
            traffic_count(landing=landing_from_params(eid), kind="view")
        for n in range(3):
            data = channel_order(f"E{n}", lines=(("TEE-M", 1, "99999.99"),))
            data.attribution = landing_from_params(eid).as_attribution()
            order_import(account=meta, data=data)

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/{shop_a.slug}/")
    expect(page.locator('#earnings-panel tr[data-source="instagram"]')).to_be_visible()
    page.goto(f"{live_server.url}/app/{shop_a.slug}/orders/earnings/")
    row = page.locator('#earnings tr[data-source="instagram"]')
    expect(row).to_contain_text("$299,999.97")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert page.evaluate(AMOUNTS_ON_MORE_THAN_ONE_LINE) == []
    assert_accessible(page)
    screenshot(page, "earnings-phone")

    form = page.locator("#ad-spend-form")
    form.get_by_label("Source").fill("Instagram")
    form.get_by_label("Month").fill(default_range(shop_a.timezone)[1].strftime("%Y-%m"))
    form.get_by_label("Amount spent").fill("১০০০০০")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#ad-spend-list")).to_contain_text("$100,000.00")
    # The report's range is the last 30 days: the month counts for its days inside it.
    start, end = default_range(shop_a.timezone)
    month = end.replace(day=1)
    expected = format_money(prorated_spend(Decimal(100000), month, start, end), "USD", "en")
    expect(page.locator('#earnings tr[data-source="instagram"]')).to_contain_text(expected)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert_accessible(page)
