"""The sandbox is mounted only where asked for, and its control endpoints — which show what a
shop listed and where its webhooks go, and can change them — answer only staff or a token."""

import importlib

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

from channels.sandbox.control import CONTROL_TOKEN_HEADER, control_headers

URL = "/sandbox/_control/meta/123456/"


@pytest.mark.django_db
def test_control_needs_the_token_or_a_staff_sign_in(client, alice, django_user_model):
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"webhook_url": "https://evil.example/"}, content_type="application/json").status_code == 403
    )
    assert client.get(URL, headers={CONTROL_TOKEN_HEADER: "not-the-token"}).status_code == 403
    client.force_login(alice)  # a merchant, not staff
    assert client.get(URL).status_code == 403
    assert client.post(URL, {}, content_type="application/json", headers=control_headers()).status_code == 200
    staff = django_user_model.objects.create_user(
        email="ops@shopadmin.test", password="x-long-password-1", is_staff=True
    )
    client.force_login(staff)
    assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_orders_cannot_be_placed_without_the_token(client):
    response = client.post(f"{URL}orders/", {}, content_type="application/json")
    assert response.status_code == 403


@pytest.mark.django_db
def test_without_a_token_only_staff_may_control(client):
    with override_settings(SANDBOX_CONTROL_TOKEN=""):
        assert client.get(URL, headers={CONTROL_TOKEN_HEADER: ""}).status_code == 403


def test_the_sandbox_is_not_mounted_unless_asked_for(client, settings):
    import shopadmin.urls

    try:
        with override_settings(SANDBOX_ENABLED=False, DEBUG=True):
            clear_url_caches()
            importlib.reload(shopadmin.urls)
            assert not any("sandbox" in str(p.pattern) for p in shopadmin.urls.urlpatterns)
    finally:
        clear_url_caches()
        importlib.reload(shopadmin.urls)
    assert any("sandbox" in str(p.pattern) for p in shopadmin.urls.urlpatterns)
