"""The foundation's merchant UI in a real browser: sign-in, team, API keys, settings, roles,
tenant isolation, the shop switcher, the phone layout and accessibility (issue 2, DESIGN.md §10).
"""

import re

import pytest
from playwright.sync_api import expect

from shopadmin.audit import Actor, acting_as
from shopadmin.models import ApiKey, Door, Membership, Shop
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import (
    PHONE,
    accessibility_violations,
    assert_accessible,
    format_violations,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE_PAGES = [
    "/app/alice/",
    "/app/alice/members/",
    "/app/alice/settings/",
    "/app/alice/api-keys/",
    "/app/alice/audit-log/",
]


def nav(page):
    return page.get_by_role("navigation", name="Shop")


def row_of(page, text):
    return page.get_by_role("row").filter(has_text=text)


def test_sign_in_page_is_accessible_and_keeps_the_email_on_a_wrong_password(page, live_server, alice, screenshot):
    page.goto(f"{live_server.url}/app/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/app/$"))
    assert_accessible(page)
    screenshot(page, "login")

    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Please enter a correct email address and password")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("alice@example.com")
    assert_accessible(page)


def test_alice_signs_in_and_lands_on_her_shop(page, live_server, alice, shop_a, screenshot):
    sign_in(page, live_server, alice)

    # One shop: the picker sends her straight to it.
    expect(page).to_have_url(f"{live_server.url}/app/alice/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Apparel")
    expect(nav(page).get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    for item in ("Members", "Settings", "API keys", "Audit log"):
        expect(nav(page).get_by_role("link", name=item)).to_be_visible()
    screenshot(page, "home")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{live_server.url}/app/alice/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))


def test_alice_invites_a_teammate_and_changes_bobs_role(page, live_server, alice, bob, shop_a, screenshot):
    sign_in(page, live_server, alice)
    nav(page).get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")

    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Role:", exact=True).select_option(label="Viewer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to dana@example.com.")
    invitation = row_of(page, "dana@example.com")
    expect(invitation).to_contain_text("Viewer")
    expect(invitation.get_by_role("button", name="Revoke")).to_be_visible()

    bob_row = row_of(page, "bob@example.com")
    bob_row.get_by_label("Role of bob@example.com").select_option(label="Admin")
    bob_row.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_contain_text("bob@example.com is now")
    expect(row_of(page, "bob@example.com").get_by_label("Role of bob@example.com")).to_have_value(Role.ADMIN)
    with shop_context(shop_a):  # memberships are row-secured per shop
        assert Membership.objects.get(user=bob, shop=shop_a).role == Role.ADMIN

    assert_accessible(page)
    screenshot(page, "members")

    # An invalid address is refused at the field, and nothing is sent.
    page.get_by_label("Email").fill("not-an-address")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("not-an-address")
    assert_accessible(page)


def test_the_role_change_message_names_the_new_role(page, live_server, alice, bob, shop_a):
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/members/")
    bob_row = row_of(page, "bob@example.com")
    bob_row.get_by_label("Role of bob@example.com").select_option(label="Viewer")
    bob_row.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_contain_text("bob@example.com is now Viewer.", timeout=3000)


def test_alice_creates_an_api_key_sees_it_once_and_revokes_it(
    page, live_server, playwright_instance, alice, shop_a, screenshot
):
    sign_in(page, live_server, alice)
    nav(page).get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")

    page.get_by_label("Name").fill("ERP sync")
    page.get_by_label("catalog:read").check()
    page.get_by_label("orders:read").check()
    page.get_by_role("button", name="Create key").click()

    shown = page.locator("#new-key")
    expect(shown).to_be_visible()
    key = shown.inner_text().strip()
    assert key.startswith("sa_")
    expect(row_of(page, "ERP sync")).to_contain_text("active")
    assert_accessible(page)
    screenshot(page, "api-key-created")

    api = playwright_instance.request.new_context(base_url=live_server.url)
    try:
        response = api.get("/api/v1/shop/", headers={"Authorization": f"Bearer {key}"})
        assert response.status == 200, response.text()
        assert response.json()["slug"] == "alice"

        # Coming back to the page never shows the secret again.
        page.goto(f"{live_server.url}/app/alice/api-keys/")
        expect(row_of(page, "ERP sync")).to_be_visible()
        expect(page.locator("#new-key")).to_have_count(0)
        assert key not in page.content()

        page.once("dialog", lambda dialog: dialog.accept())
        row_of(page, "ERP sync").get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_contain_text("Key “ERP sync” revoked.")
        expect(row_of(page, "ERP sync")).to_contain_text("revoked")
        expect(row_of(page, "ERP sync").get_by_role("button", name="Revoke")).to_have_count(0)

        response = api.get("/api/v1/shop/", headers={"Authorization": f"Bearer {key}"})
        assert response.status == 401
    finally:
        api.dispose()
    with shop_context(shop_a):
        assert not ApiKey.objects.get(name="ERP sync").is_active


def test_dismissing_the_revoke_confirmation_keeps_the_key(page, live_server, alice, shop_a):
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/api-keys/")
    page.get_by_label("Name").fill("Warehouse")
    page.get_by_label("orders:read").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.dismiss())
    row_of(page, "Warehouse").get_by_role("button", name="Revoke").click()
    expect(row_of(page, "Warehouse")).to_contain_text("active")
    with shop_context(shop_a):
        assert ApiKey.objects.get(name="Warehouse").is_active


def test_alice_edits_settings_and_an_error_keeps_her_other_input(page, live_server, alice, shop_a, screenshot):
    sign_in(page, live_server, alice)
    nav(page).get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shop settings")

    # Currencies and countries are picked from lists: the shop's currency first, countries by name.
    currency = page.get_by_label("Default currency")
    expect(currency.locator("option").first).to_have_text("USD — US Dollar")
    page.get_by_label("Name").fill("")
    currency.select_option(label="EUR — Euro")
    page.get_by_label("Country").select_option(label="Germany")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()

    name = page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.get_by_label("Default currency")).to_have_value("EUR")
    expect(page.get_by_label("Country")).to_have_value("DE")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    assert Shop.objects.get(slug="alice").name == "Alice Apparel"
    assert_accessible(page)
    screenshot(page, "settings-error")

    name.fill("Alice Apparel Europe")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    expect(page.get_by_label("Default currency")).to_have_value("EUR")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shop settings")
    shop = Shop.objects.get(slug="alice")
    assert (shop.name, shop.default_currency, shop.country, shop.timezone) == (
        "Alice Apparel Europe",
        "EUR",
        "DE",
        "Europe/Berlin",
    )
    assert_accessible(page)
    screenshot(page, "settings")


def test_bob_the_editor_sees_no_management_controls_and_is_refused_settings(page, live_server, bob, shop_a, screenshot):
    sign_in(page, live_server, bob)
    expect(page).to_have_url(f"{live_server.url}/app/alice/")
    for hidden in ("Settings", "API keys", "Audit log"):
        expect(nav(page).get_by_role("link", name=hidden)).to_have_count(0)

    nav(page).get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")
    expect(page.get_by_role("combobox", name=re.compile("Role of"))).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(page.get_by_role("heading", name="Open invitations")).to_have_count(0)
    # He may still leave the shop himself.
    expect(row_of(page, "bob@example.com").get_by_role("button", name="Leave")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "members")

    for path in ("/app/alice/settings/", "/app/alice/api-keys/", "/app/alice/audit-log/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    assert_accessible(page)
    screenshot(page, "forbidden")


def test_charlie_gets_404_for_every_page_of_alices_shop(page, live_server, charlie, shop_a, shop_b, screenshot):
    sign_in(page, live_server, charlie)
    expect(page).to_have_url(f"{live_server.url}/app/charlie/")

    for path in ALICE_PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        assert "Alice Apparel" not in page.content(), path
        expect(page.locator("#shop-switcher option", has_text="Alice Apparel")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "not-found")


def test_the_shop_switcher_moves_between_two_shops(page, live_server, alice, shop_a, shop_b, screenshot):
    # Memberships are row-secured per shop.
    with acting_as(Actor(door=Door.CLI, label="fixture")), shop_context(shop_b):
        shop_b.memberships.create(user=alice, role=Role.VIEWER)
    sign_in(page, live_server, alice)

    # Two shops: she chooses on the picker.
    expect(page).to_have_url(f"{live_server.url}/app/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your shops")
    assert_accessible(page)
    screenshot(page, "picker")
    page.get_by_role("link", name=re.compile("Charlie Crafts")).click()
    expect(page).to_have_url(f"{live_server.url}/app/charlie/")

    switcher = page.get_by_role("combobox", name="Switch shop")
    expect(switcher).to_have_value("/app/charlie/")
    page.wait_for_load_state("load")  # the switcher navigates through app.js, attached on load
    switcher.select_option(label="Alice Apparel")
    expect(page).to_have_url(f"{live_server.url}/app/alice/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Apparel")
    expect(nav(page).get_by_role("link", name="Settings")).to_be_visible()

    page.wait_for_load_state("load")
    page.get_by_role("combobox", name="Switch shop").select_option(label="Charlie Crafts")
    expect(page).to_have_url(f"{live_server.url}/app/charlie/")
    # A viewer there: no management pages in the nav.
    expect(nav(page).get_by_role("link", name="Settings")).to_have_count(0)
    screenshot(page, "switched")


def test_the_layout_is_usable_on_a_phone(page, live_server, alice, shop_a, screenshot):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, alice)
    for path in ALICE_PAGES:
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {PHONE['width']}px wide"

        # The top bar takes two short lines at most (the shop switcher has the first to itself),
        # so the page starts near the top of the screen.
        header = page.get_by_role("banner").bounding_box()
        assert header is not None and header["height"] < 100, f"{path}: the top bar is too tall ({header})"

        shop_nav = nav(page)
        assert shop_nav.evaluate("el => getComputedStyle(el).overflowX") in ("auto", "scroll")
        # The current section is in view without scrolling the nav by hand.
        current = shop_nav.locator('[aria-current="page"]').bounding_box()
        assert current is not None and current["x"] >= 0 and current["x"] + current["width"] <= PHONE["width"], path
        label = path.strip("/").split("/")[-1]
        screenshot(page, "home" if label == "alice" else label)

        last = shop_nav.get_by_role("link").last
        last.scroll_into_view_if_needed()
        box = last.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, path

    # The nav really is the part that scrolls: every entry can be reached and followed.
    nav(page).get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(f"{live_server.url}/app/alice/audit-log/")


def test_every_main_page_passes_the_accessibility_check(page, live_server, alice, shop_a, screenshot):
    sign_in(page, live_server, alice)
    failures = []
    for path in ALICE_PAGES:
        page.goto(f"{live_server.url}{path}")
        violations = accessibility_violations(page)
        if violations:
            failures.append(format_violations(violations, path))
        label = path.strip("/").split("/")[-1]
        screenshot(page, "home" if label == "alice" else label)
    assert not failures, "\n\n".join(failures)

    # Keyboard users get the skip link first, and it is visible when focused.
    page.goto(f"{live_server.url}/app/alice/members/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
