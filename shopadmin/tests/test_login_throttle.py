"""Sign-in throttling (django-axes): per account and per address, on both sign-in pages, audited."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from conftest import PASSWORD
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import all_shops_access

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def attempt(client, url, email, password, ip="10.0.0.1"):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_wrong_passwords_lock_the_account_then_the_right_one_is_refused(client, alice, shop_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, LOGIN, "alice@example.com", "wrong").status_code == 200
    locked = attempt(client, LOGIN, "alice@example.com", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # The right password no longer works, from another address too (per account)...
    response = attempt(client, LOGIN, "alice@example.com", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # ...nor with the address typed differently.
    assert attempt(client, LOGIN, " Alice@Example.COM", PASSWORD, ip="10.9.9.8").status_code == 429
    # Other people still sign in.
    assert attempt(client, LOGIN, "bob@example.com", PASSWORD, ip="10.9.9.7").status_code == 302


def test_one_address_trying_many_accounts_is_locked(client, alice, bob, shop_a, settings):
    for index in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, LOGIN, f"nobody{index}@example.com", "wrong", ip="10.0.0.66")
    assert attempt(client, LOGIN, "bob@example.com", PASSWORD, ip="10.0.0.66").status_code == 429
    assert attempt(client, LOGIN, "bob@example.com", PASSWORD, ip="10.0.0.67").status_code == 302


def test_the_admin_sign_in_is_throttled_too(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, ADMIN_LOGIN, "staff@example.com", "wrong", ip="10.0.0.5")
    response = attempt(client, ADMIN_LOGIN, "staff@example.com", PASSWORD, ip="10.0.0.6")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_the_lockout_is_audited_and_the_message_is_translated(client, alice, shop_a, shop_b, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, LOGIN, "alice@example.com", "wrong", ip="10.0.0.8")
    with all_shops_access():
        entry = AuditLogEntry.all_shops.get(action="auth.locked_out")
    # In alice's shop, where its owners read it; nothing in charlie's.
    assert entry.shop_id == shop_a.pk and entry.object_repr == "alice@example.com"
    assert entry.changes["ip_address"] == "10.0.0.8" and entry.changes["path"] == LOGIN
    assert "10.0.0.8" in entry.actor_label
    french = client.post(
        LOGIN, {"username": "alice@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.8", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert french.status_code == 429
    assert "Sign-in paused" in french.content.decode() or "connexion" in french.content.decode().lower()


def test_operators_unlock_with_axes_reset(client, alice, shop_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, LOGIN, "alice@example.com", "wrong", ip="10.0.0.9")
    assert AccessAttempt.objects.exists()
    call_command("axes_reset_username", "alice@example.com")
    call_command("axes_reset_ip", "10.0.0.9")
    assert attempt(client, LOGIN, "alice@example.com", PASSWORD, ip="10.0.0.9").status_code == 302


def test_a_success_resets_the_count(client, alice, shop_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, LOGIN, "alice@example.com", "wrong", ip="10.0.0.10")
    assert attempt(client, LOGIN, "alice@example.com", PASSWORD, ip="10.0.0.10").status_code == 302
    client.logout()
    assert attempt(client, LOGIN, "alice@example.com", "wrong", ip="10.0.0.10").status_code == 200


def test_api_keys_are_not_throttled_by_sign_in_failures(client, api_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        attempt(client, LOGIN, "alice@example.com", "wrong", ip="127.0.0.1")
    assert api_a.get("/api/v1/shop/", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_client_address_behind_proxies(rf, settings):
    from shopadmin.login_throttle import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "10.0.0.1"
    settings.LOGIN_TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.7"  # the address our proxy saw, not what the client claimed
