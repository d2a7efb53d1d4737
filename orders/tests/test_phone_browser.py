"""The dashboard, an order page and reconciliation on a 375 px phone: nothing scrolls sideways,
every amount stays on one line, and each passes the accessibility check."""

from __future__ import annotations

import pytest
from django.db import transaction
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
        # A marketplace's relay address: one long word that must break inside its panel.
        Order.objects.filter(pk=order.pk).update(buyer_email=f"buyer-{'1' * 19}@marketplace.example")

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


def test_reconciliation_findings_fit_a_phone(page, live_server, alice, shop_a, screenshot):
    from channels.tests.factories import make_account
    from orders.models import IssueAction, IssueKind, Order
    from orders.reconciliation import amount_mismatch
    from orders.services.timeline import issue_raise
    from orders.tests.conftest import channel_order
    from shopadmin.tenancy import shop_context

    variant, _loc = stocked_variant(shop_a, sku="TEE-A", on_hand=50, price="154.87", title="Alice Tee")
    meta = make_account(shop_a, "meta", name="Alice on Meta")
    plant_orders(shop_a, meta, variant, count=1, total="154.87", prefix="R")
    with shop_context(shop_a), transaction.atomic():
        order = Order.objects.get()
        finding = amount_mismatch(order, channel_order(order.external_id, total="160.00"))
        issue_raise(
            account=meta,
            kind=finding.kind,
            key=finding.key,
            severity=finding.severity,
            ours=finding.ours,
            theirs=finding.theirs,
            detail=finding.detail,
            suggested_action=finding.suggested_action,
            order=order,
            data=finding.data,
        )
        issue_raise(
            account=meta,
            kind=IssueKind.LISTING_DRIFT,
            key="listings:quantity",
            ours="4 available",
            theirs="9 on sale",
            suggested_action=IssueAction.REPUBLISH,
            data={"group": "quantity", "count": 2, "items": ["TEE-A", "TEE-B"]},
        )

    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/{shop_a.slug}/orders/reconciliation/")
    mismatch = page.get_by_role("row").filter(has_text="Total differs")
    expect(mismatch).to_contain_text("$154.87")
    expect(mismatch).to_contain_text("$160.00")
    expect(mismatch.get_by_role("button", name="Refresh from the channel")).to_be_visible()
    listings = page.get_by_role("row").filter(has_text="Listing differs")
    expect(listings).to_contain_text("Publish again, so the channel sells the stock you have.")
    expect(listings.get_by_role("button", name="Publish again")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert page.evaluate(AMOUNTS_ON_MORE_THAN_ONE_LINE) == []
    assert_accessible(page)
    screenshot(page, "reconciliation-phone")
