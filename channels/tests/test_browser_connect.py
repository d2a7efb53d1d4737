"""Connecting channels in a real browser, as a merchant does: Connect → the channel's consent
page (the sandbox's) → back through our callback → the connect task in a real worker →
the shop to pick, if there are several → the account page, connected. Desktop and phone,
checked with axe; charlie sees none of it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from channels.models import ChannelAccount, ChannelConnection
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import PHONE, assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(live_server, settings, start_worker):
    # Our callback URL (registered with the channel's app) is on the live server, for the web
    # thread and for the worker alike.
    settings.SITE_URL = live_server.url
    return start_worker("connect", extra_env={"SITE_URL": live_server.url})


def connect_on_channel(page, live_server, channel_label: str, name: str, *, seller: str, how_many: tuple[str, str]):
    page.goto(f"{live_server.url}/app/alice/channels/")
    page.get_by_role("link", name=channel_label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Connect {channel_label}")
    assert_accessible(page)
    section = page.locator("#connect-authorize")
    section.get_by_label("Name").fill(name)
    section.get_by_role("button", name=f"Continue to {channel_label}").click()
    # The channel's own page (the sandbox's): who asks, for what; the seller allows.
    expect(page.get_by_role("heading", name=re.compile(r"^Authorise "))).to_be_visible()
    assert "/sandbox/" in page.url
    page.get_by_label("Signed in as (seller)").fill(seller)
    page.get_by_label(how_many[0]).select_option(how_many[1])
    page.get_by_role("button", name="Allow").click()


def test_alice_connects_tiktok_shop_pinterest_and_meta_by_approving_on_each_channel(
    page, live_server, worker, alice, charlie, shop_a, shop_b, screenshot
):
    sign_in(page, live_server, alice)

    # TikTok Shop: a seller with two shops picks one after coming back.
    connect_on_channel(
        page, live_server, "TikTok Shop", "TikTok US", seller="tt-browser", how_many=("Shops of this seller", "2")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Connecting TikTok Shop")
    expect(page.get_by_role("radio")).to_have_count(2)  # the page reloads itself until the task has read them
    assert_accessible(page)
    screenshot(page, "tiktok-choose")
    page.get_by_role("radio").nth(1).check()
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TikTok US")
    expect(page.locator("#account-health")).to_contain_text("Connected")
    expect(page.locator("#token-expiry")).to_contain_text("renewed automatically")
    assert_accessible(page)
    screenshot(page, "tiktok-connected")

    # Pinterest: one ad account, connected as soon as the worker has exchanged the code.
    connect_on_channel(page, live_server, "Pinterest", "Pins US", seller="pin-browser", how_many=("Ad accounts", "1"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pins US")
    expect(page.locator("#account-health")).to_contain_text("Connected")

    # Meta: Facebook Login for Business, one catalog.
    connect_on_channel(
        page, live_server, "Facebook & Instagram (Meta)", "FB US", seller="meta-browser", how_many=("Catalogs", "1")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("FB US")
    expect(page.locator("#account-health")).to_contain_text("Connected")

    with shop_context(shop_a):
        accounts = dict(ChannelAccount.objects.values_list("name", "channel"))
        assert set(ChannelConnection.objects.values_list("status", flat=True)) == {"connected"}
    assert accounts == {"TikTok US": "tiktok_shop", "Pins US": "pinterest", "FB US": "meta"}

    # On a phone the connect page and the account page read without sideways scrolling.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/app/alice/channels/connect/pinterest/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_accessible(page)
    screenshot(page, "connect-phone")

    # Charlie, in his own shop, sees none of alice's connections or accounts.
    page.context.clear_cookies()
    sign_in(page, live_server, charlie)
    page.goto(f"{live_server.url}/app/charlie/channels/")
    expect(page.get_by_text("No channel connected yet.")).to_be_visible()
    with shop_context(shop_a):
        alices = ChannelConnection.objects.values_list("pk", flat=True).first()
    response = page.goto(f"{live_server.url}/app/charlie/channels/connections/{alices}/")
    assert response.status == 404
    assert re.search(r"/app/charlie/", page.url)
