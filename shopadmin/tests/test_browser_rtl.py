"""The merchant UI in Urdu turns right to left: every page a merchant reaches from the home page
says `dir="rtl"` and `lang="ur"`, nothing scrolls sideways, and axe finds nothing serious — on a
desktop and on a phone. Bengali reads left to right with its own digits."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest
from playwright.sync_api import expect

from orders.tests.conftest import stocked_variant
from orders.tests.test_dashboard import plant_orders
from shopadmin.testing.browser import DESKTOP, PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth + 1"
# Pages with an id in their path are visited once per kind (one product, one order…).
MAX_PAGES = 60
# Links that download, sign out or leave the merchant UI.
SKIP = re.compile(r"export|download|logout|/api/|/admin/")


def merchant_pages(page, start: str, prefix: str) -> list[str]:
    """The merchant pages reachable from `start` through the navigation and the page links."""
    seen: list[str] = []
    kinds: set[str] = set()
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.append(url)
        page.goto(url)
        for href in page.eval_on_selector_all("nav a[href], main a[href]", "els => els.map(e => e.href)"):
            parsed = urlparse(href)
            path = parsed.path + (f"?{parsed.query}" if parsed.query and "attention/rejections" in parsed.path else "")
            if not parsed.path.startswith(prefix) or SKIP.search(parsed.path):
                continue
            kind = re.sub(r"\d+", "N", parsed.path)
            if kind != parsed.path:
                if kind in kinds:
                    continue
                kinds.add(kind)
            full = urljoin(start, path)
            if full not in seen and full not in queue:
                queue.append(full)
    return seen


@pytest.fixture
def busy_shop(alice, shop_a):
    from catalog.models import ProductMedia
    from channels.tests.factories import make_account
    from shopadmin.tenancy import shop_context

    variant, _location = stocked_variant(shop_a, sku="TEE-A", on_hand=50, price="1234.50", title="Linen Tee")
    with shop_context(shop_a):
        ProductMedia.objects.create(product_id=variant.product_id, url="https://img.example.com/tee.jpg")
    account = make_account(shop_a, "meta", name="Alice on Meta")
    plant_orders(shop_a, account, variant, count=3, total="1234.50", prefix="U", days_ago=1)
    return shop_a


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_in_urdu_reads_right_to_left(page, live_server, alice, busy_shop, viewport, screenshot):
    alice.language = "ur"
    alice.save(update_fields=["language"])
    page.set_viewport_size(viewport)
    sign_in(page, live_server, alice)
    prefix = f"/app/{busy_shop.slug}/"
    pages = merchant_pages(page, f"{live_server.url}{prefix}", prefix)
    assert len(pages) >= 25, pages  # the crawl reached the whole UI, not just the home page
    for url in pages:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["rtl", "ur"], url
        assert page.evaluate(NO_SIDEWAYS_SCROLL), (
            url,
            page.evaluate("[document.documentElement.scrollWidth, innerWidth]"),
        )
        assert_accessible(page)
    page.goto(f"{live_server.url}{prefix}")
    screenshot(page, "home-ur")


def test_bengali_reads_left_to_right_with_bengali_digits(page, live_server, alice, busy_shop):
    alice.language = "bn"
    alice.save(update_fields=["language"])
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/{busy_shop.slug}/orders/")
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["ltr", "bn"]
    # 1,234.50 USD in Bengali: Bengali digits, lakh grouping from a lakh up.
    expect(page.locator("main")).to_contain_text("১,২৩৪.৫০")
    assert_accessible(page)
