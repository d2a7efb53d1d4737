"""The README's tour pictures, taken from the seeded demo shop in a real browser.

On demand only (they overwrite docs/screenshots/*.png):
    SHOPADMIN_README_SCREENSHOTS=1 .venv/bin/pytest orders/tests/test_readme_screenshots.py
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from playwright.sync_api import expect

from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, sign_in
from shopadmin.testing.worker import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("SHOPADMIN_README_SCREENSHOTS"), reason="README pictures are taken on demand"
    ),
]

OUT = Path(settings.BASE_DIR) / "docs" / "screenshots"
# A viewport, not the full page: the README shows the top of each page at a readable size.
SHOT = {"width": 1280, "height": 860}
MAX_BYTES = 300_000


def shoot(page, name):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    page.screenshot(path=path)
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"


def test_readme_tour(page, live_server, live_worker):
    from channels.models import ChannelAccount, ChannelListing, ListingStatus
    from demo.management.commands.seed_demo import DEMO_PASSWORD
    from localization.models import Market
    from orders.models import Order
    from shopadmin.models import Shop

    call_command("seed_demo", base_url=live_server.url)
    shop = Shop.objects.get(slug="demo")
    with shop_context(shop):
        meta = ChannelAccount.objects.get(channel="meta")
        # The market with the most stored prices: without an exchange rate (the demo has no
        # network for the ECB feed) a market has none to show.
        market = Market.objects.annotate(n=Count("prices")).filter(n__gt=0).order_by("is_home", "-n", "pk").first()
        order = Order.objects.filter(status="awaiting_fulfillment").order_by("-placed_at").first()
        product = order.lines.exclude(variant=None).first().variant.product
        variant = product.variants.order_by("pk").first()
        new_price = str(getattr(variant.price, "amount", variant.price) + 5)

    def published():
        with shop_context(shop):
            return ChannelListing.objects.filter(account=meta, status=ListingStatus.PUBLISHED).count() > 100

    wait_for(published, timeout=180, message="the demo never published")
    base = f"{live_server.url}/app/demo"
    page.set_viewport_size(SHOT)
    with shop_context(shop):  # memberships are row-secured per shop
        owner = shop.memberships.get(role="owner").user
    sign_in(page, live_server, owner, password=DEMO_PASSWORD)

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shoot(page, "dashboard")
    page.goto(f"{base}/catalog/products/{product.pk}/")
    shoot(page, "product-editor")
    page.goto(f"{base}/localization/markets/{market.pk}/prices/")
    shoot(page, "market-prices")
    # A price change, so the plan has something to show.
    page.goto(f"{base}/catalog/variants/{variant.pk}/")
    page.get_by_label(re.compile(r"^Price")).fill(new_price)
    page.get_by_role("button", name="Save variant").click()
    expect(page.get_by_text("Variant saved.")).to_be_visible()

    def plan_with_updates():
        page.goto(f"{base}/channels/{meta.pk}/listings/")
        page.get_by_role("button", name="Review changes").click()
        return page.get_by_role("link", name="0 items to update").count() == 0

    wait_for(plan_with_updates, timeout=120, interval=2, message="the price change never reached a plan")
    shoot(page, "review-changes")
    page.goto(f"{base}/orders/{order.pk}/")
    shoot(page, "order-detail")
    page.goto(f"{base}/orders/reconciliation/")
    page.get_by_label("Account").select_option(label=meta.name)
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_role("cell", name="Succeeded").first).to_be_visible(timeout=60_000)
    shoot(page, "reconciliation")
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/")
    shoot(page, "dashboard-phone")

    # The same product in the merchants' own languages: the Dhaka shop in Bengali, and the
    # demo shop in Urdu, right to left, on a phone.
    with page.expect_navigation():
        page.locator("#language-switcher").select_option("bn")
    page.set_viewport_size(SHOT)
    page.goto(f"{live_server.url}/app/dhaka/")
    expect(page.locator("html")).to_have_attribute("lang", "bn")
    shoot(page, "dashboard-bn")
    with page.expect_navigation():
        page.locator("#language-switcher").select_option("ur")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/app/dhaka/localization/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shoot(page, "markets-ur-phone")
