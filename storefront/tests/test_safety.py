"""The storefront's safety: one shop per URL (charlie's pages show nothing of alice's), an
unpublished or inactive shop is not found, rate limits, no merchant session, no cookies but
CSRF's on the checkout, the settings page's permissions and audit, and random queries never
give a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door
from shopadmin.tenancy import shop_context
from storefront import services
from storefront.models import StorefrontSettings

pytestmark = pytest.mark.django_db

PAGES = ("/s/{slug}/", "/s/{slug}/p/{handle}/", "/s/{slug}/checkout/?products={sku}:1")


def test_charlies_shop_shows_nothing_of_alices(client, store_a, store_b):
    home = client.get("/s/charlie/").content.decode()
    assert "CH Tee" in home and "AL Tee" not in home and "Alice" not in home
    assert client.get("/s/charlie/p/al-tee/").status_code == 404
    cart = client.get("/s/charlie/checkout/?products=AL-TEE-S:1,CH-TEE-S:1").context["cart"]
    assert [(line.retailer_id, line.problem_code) for line in cart.lines] == [("AL-TEE-S", "unknown"), ("CH-TEE-S", "")]
    assert cart.currency == "EUR"
    # And the other way round.
    assert "CH Tee" not in client.get("/s/alice/").content.decode()


def test_charlie_cannot_place_an_order_of_alices_items_in_his_shop(client, shop_a, shop_b, store_a, store_b):
    from orders.models import Order

    response = client.post(
        "/s/charlie/checkout/?products=AL-TEE-S:1",
        {"name": "X", "phone": "+33 6 12 34 56 78", "country": "FR", "line1": "1 rue", "city": "Paris",
         "postcode": "75001", "payment_method": "cod"},
    )  # fmt: skip
    assert response.status_code == 400
    with shop_context(shop_a):
        assert not Order.objects.exists()
    with shop_context(shop_b):
        assert not Order.objects.exists()


def test_an_unpublished_or_inactive_shop_is_not_found(client, shop_a, store_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        services.storefront_settings_update(published=False)
    for page in PAGES:
        assert client.get(page.format(slug="alice", handle="al-tee", sku="AL-TEE-S")).status_code == 404
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        services.storefront_settings_update(published=True)
    assert client.get("/s/alice/").status_code == 200
    shop_a.is_active = False
    shop_a.save(update_fields=["is_active"])
    assert client.get("/s/alice/").status_code == 404


def test_public_pages_are_rate_limited_per_address(client, store_a, monkeypatch):
    monkeypatch.setattr("storefront.public._clock", lambda: 1_800_000_000.0)  # one minute throughout
    with override_settings(STOREFRONT_RATE_LIMIT_PER_MINUTE=3):
        assert [client.get("/s/alice/").status_code for _ in range(3)] == [200, 200, 200]
        response = client.get("/s/alice/p/al-tee/")
        assert response.status_code == 429 and response["Retry-After"] == "60"
        assert b"Too many requests" in response.content
        other = client.get("/s/alice/", REMOTE_ADDR="10.0.0.9")
        assert other.status_code == 200


def test_the_merchants_session_is_never_used(alice_client, store_a):
    """Signed in as alice, the public pages look the same and set no session cookie."""
    response = alice_client.get("/s/alice/checkout/?products=AL-TEE-S:1")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    html = response.content.decode()
    assert "alice@" not in html and "Sign out" not in html
    assert "/app/alice/" not in html


def test_checkout_posts_need_the_csrf_token(store_a):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/s/alice/checkout/?products=AL-TEE-S:1", {"name": "X"})
    assert response.status_code == 403


def test_each_page_stays_under_100_kb_before_images(client, store_a):
    """HTML plus the stylesheet it links and anything the stylesheet requests (fonts): the
    storefront uses the phone's own fonts, so it requests none."""
    import re

    urls = ("/s/alice/", "/s/alice/p/al-tee/", "/s/alice/checkout/?products=AL-TEE-S:2,AL:MUG:BLUE:1")
    for url in urls:
        for lang in ("en", "bn", "ur"):
            response = client.get(url, {"lang": lang})
            html = response.content
            total = len(html)
            for href in re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html):
                path = finders.find(href.decode().removeprefix("/static/"))
                css = Path(path).read_bytes()
                total += len(css)
                assert b"url(" not in css and b"@font-face" not in css
            assert b"<script src" not in html  # nothing to run to buy
            assert total < 100 * 1024, (url, lang, total)


SETTINGS_FORM = {
    "published": "on",
    "cod_enabled": "on",
    "cod_instructions": "Pay the courier.",
    "mobile_money_enabled": "on",
    "mobile_money_instructions": "bKash 01712-345678",
    "whatsapp_number": "+880 1712 345678",
    "messenger_page": "alice.apparel",
    "contact_email": "hello@alice.example",
    "contact_phone": "+1 415 555 0100",
}


def test_the_settings_page_saves_and_audits(alice_client, shop_a):
    page = alice_client.get("/app/alice/storefront/")
    assert page.status_code == 200 and "/s/alice/checkout/" in page.content.decode()
    assert "/app/alice/storefront/" in alice_client.get("/app/alice/").content.decode()  # in the app nav
    form = SETTINGS_FORM
    assert alice_client.post("/app/alice/storefront/", form).status_code == 302
    with shop_context(shop_a):
        saved = StorefrontSettings.objects.get()
        assert saved.mobile_money_enabled and saved.whatsapp_digits == "8801712345678"
        assert AuditLogEntry.objects.filter(action="storefront_settings.update").exists()
    bad = alice_client.post("/app/alice/storefront/", {**form, "whatsapp_number": "call me"})
    assert bad.status_code == 200 and "international form" in bad.content.decode()
    none = {
        k: v for k, v in form.items() if not k.endswith("_enabled") and k not in ("whatsapp_number", "messenger_page")
    }
    assert "Enable at least one way" in alice_client.post("/app/alice/storefront/", none).content.decode()


def test_an_editor_reads_the_settings_and_cannot_change_them(bob_client, shop_a):
    assert bob_client.get("/app/alice/storefront/").status_code == 200
    assert bob_client.post("/app/alice/storefront/", SETTINGS_FORM).status_code == 403


def test_charlie_gets_404_for_alices_settings(charlie_client, shop_a):
    assert charlie_client.get("/app/alice/storefront/").status_code == 404
    assert charlie_client.post("/app/alice/storefront/", SETTINGS_FORM).status_code == 404


def test_the_staff_admin_lists_storefront_settings_per_shop(client, staff, shop_a, shop_b):
    from conftest import login

    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        services.storefront_settings_update(contact_email="a@alice.example")
    login(client, staff)
    assert client.get("/admin/storefront/storefrontsettings/").status_code == 200
    assert client.get("/admin/storefront/checkoutreceipt/").status_code == 200


KEYS = [
    "products",
    "coupon",
    "market",
    "lang",
    "add",
    "set",
    "qty",
    "shipping",
    "variant",
    "page",
    "country",
    "utm_source",
    "cart_origin",
]
QUERY_KEYS = st.sampled_from(KEYS)
QUERY_VALUES = st.text(max_size=60) | st.sampled_from(
    ["AL-TEE-S:1", "AL:MUG:BLUE:2", "1", "-1", "bn", "ur", "0", "99999999999999999999"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=6),
    path=st.sampled_from(["", "p/al-tee/", "checkout/"]),
)
def test_random_query_strings_never_give_a_server_error(client, store_a, params, path):
    params = [(k, v.replace("\x00", "")) for k, v in params]
    response = client.get(f"/s/alice/{path}", params)
    assert response.status_code in (200, 302, 400, 404), response.status_code


def test_reading_the_settings_writes_nothing(shop_a):
    with shop_context(shop_a):
        assert services.settings_get().published is True  # the default, unsaved
        assert not StorefrontSettings.objects.exists()


def test_unpublishing_names_the_accounts_whose_buyers_now_land_nowhere(alice_client, charlie, shop_a, shop_b):
    from channels.listings import listing_settings_update
    from channels.tests.factories import make_account

    hosted = make_account(shop_a, name="Alice on Pinterest", channel="pinterest")
    own_site = make_account(shop_a, name="Alice on Meta")
    make_account(shop_b, name="Charlie on Pinterest", channel="pinterest")
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        listing_settings_update(account=own_site, storefront_url="https://alice.example")
    published = alice_client.get("/app/alice/storefront/").content.decode()
    assert "now land on" not in published

    unpublished = {k: v for k, v in SETTINGS_FORM.items() if k != "published"}
    assert alice_client.post("/app/alice/storefront/", unpublished).status_code == 302
    page = alice_client.get("/app/alice/storefront/").content.decode()
    assert "land on “not found”" in page
    assert f"/app/alice/channels/{hosted.pk}/listings/" in page and "Alice on Pinterest" in page
    assert "Alice on Meta" not in page  # its links go to the merchant's own site
    assert "Charlie on Pinterest" not in page
    # Charlie's own page does not list alice's accounts, nor warn about a storefront he publishes.
    from django.test import Client

    from conftest import login

    charlie_page = login(Client(), charlie).get("/app/charlie/storefront/")
    assert charlie_page.status_code == 200 and "Alice on" not in charlie_page.content.decode()
