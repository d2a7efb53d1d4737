"""Content-Security-Policy on merchant pages, and the pages still work under it in a real browser."""

import pytest
from playwright.sync_api import expect

from shopadmin.testing.browser import sign_in

PAGES = [
    "/app/alice/",
    "/app/alice/catalog/",
    "/app/alice/catalog/import/",
    "/app/alice/catalog/categories/",
    "/app/alice/localization/",
    "/app/alice/channels/",
    "/app/alice/orders/",
    "/app/alice/members/",
    "/app/alice/settings/",
    "/app/alice/api-keys/",
    "/app/alice/audit-log/",
]


@pytest.mark.django_db
def test_merchant_pages_send_a_strict_policy(alice_client):
    for url in ("/app/alice/", "/app/alice/catalog/", "/accounts/login/"):
        response = alice_client.get(url)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_policy(page, live_server, alice, shop_a):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    sign_in(page, live_server, alice)
    for url in PAGES:
        response = page.goto(live_server.url + url)
        assert response.status < 400, url
        assert response.headers.get("content-security-policy"), url
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_scripts_still_run_under_the_policy(page, live_server, alice, shop_a):
    sign_in(page, live_server, alice)
    page.goto(live_server.url + "/app/alice/members/")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Remove").first.click()
    # app.js asked for confirmation (and, dismissed, nothing was removed): the script ran.
    expect(page.get_by_role("button", name="Remove").first).to_be_visible()
    assert dialogs == ["Remove this member?"]
