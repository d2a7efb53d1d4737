"""Inbound webhooks are served by a handler with only the middleware they need
(shopadmin/webhook_handler.py); everything else keeps Django's whole stack."""

import pytest
from django.test import Client
from django.test.client import ClientHandler

from channels.models import WebhookEvent
from channels.tests.factories import META_CREDENTIALS, make_account
from channels.tests.test_webhooks import meta_body, meta_sig
from shopadmin.tenancy import all_shops_access, current_context, shop_context
from shopadmin.webhook_handler import Application, WebhookHandler


class WebhookClientHandler(ClientHandler):
    """The test client's handler (signals, cookies, CSRF checks) with the webhook middleware."""

    load_middleware = WebhookHandler.load_middleware


@pytest.fixture
def webhook_client():
    client = Client()
    client.handler = WebhookClientHandler()
    return client


def post(client, account, body, secret=META_CREDENTIALS["app_secret"], **extra):
    return client.post(
        f"/webhooks/{account.channel}/{account.webhook_key}/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_sig(body, secret),
        **extra,
    )


def test_the_application_sends_only_webhooks_to_the_webhook_handler():
    seen = []

    def everything_else(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return []

    application = Application(everything_else)
    application.webhooks = lambda environ, start_response: seen.append(("webhook", environ["PATH_INFO"])) or []
    for path in ("/webhooks/meta/k/", "/webhooksx/", "/app/demo/", "/api/v1/products/", "/s/demo/", "/"):
        application({"PATH_INFO": path}, None)
    assert seen == [("webhook", "/webhooks/meta/k/"), "/webhooksx/", "/app/demo/", "/api/v1/products/", "/s/demo/", "/"]


def test_the_deployed_application_is_the_router():
    from shopadmin import wsgi

    assert isinstance(wsgi.application, Application)
    assert isinstance(wsgi.application.webhooks, WebhookHandler)
    assert wsgi.application.everything_else is wsgi.django_application


@pytest.mark.django_db
def test_a_signed_delivery_is_stored_once_without_session_or_page_headers(webhook_client, shop_a):
    account = make_account(shop_a)
    body = meta_body()
    first = post(webhook_client, account, body)
    again = post(webhook_client, account, body)
    assert first.status_code == again.status_code == 200
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    # No session cookie, no language negotiation, no page policy: a machine's POST.
    assert "Set-Cookie" not in first.headers and "Vary" not in first.headers
    assert "Content-Security-Policy" not in first.headers
    with shop_context(shop_a):
        assert WebhookEvent.objects.get().raw_body == body.decode()
    # The request's tenant context was reset when it ended.
    assert current_context() is None


@pytest.mark.django_db
def test_refusals_are_the_same_as_through_the_whole_stack(webhook_client, client, shop_a, settings):
    account = make_account(shop_a)
    body = meta_body()
    for each in (webhook_client, client):
        assert post(each, account, body, secret="not-the-secret").status_code == 401
        assert each.post("/webhooks/meta/nope/", body, content_type="application/json").status_code == 404
        assert each.post("/webhooks/meta/a\x00b/", body, content_type="application/json").status_code == 400
        assert each.put(f"/webhooks/meta/{account.webhook_key}/", body).status_code == 405
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert post(webhook_client, account, b"{" + b" " * 2000 + b"}").status_code == 413
    with all_shops_access():
        assert WebhookEvent.all_shops.count() == 0


@pytest.mark.django_db
def test_the_handshake_answers(webhook_client, shop_a):
    account = make_account(shop_a)
    url = f"/webhooks/meta/{account.webhook_key}/"
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me-please", "hub.challenge": "9"}
    ok = webhook_client.get(url, query)
    assert ok.status_code == 200 and ok.content == b"9"


@pytest.mark.django_db
def test_charlies_delivery_lands_in_charlies_shop_only(webhook_client, shop_a, shop_b):
    alice_account = make_account(shop_a)
    secret = "charlie-app-secret-000000"
    charlie_account = make_account(shop_b, credentials={**META_CREDENTIALS, "app_secret": secret})
    body = meta_body()
    assert post(webhook_client, alice_account, body, secret=secret).status_code == 401
    assert post(webhook_client, charlie_account, body, secret=secret).status_code == 200
    with shop_context(shop_a):
        assert not WebhookEvent.objects.exists()
    with shop_context(shop_b):
        assert WebhookEvent.objects.get().account_id == charlie_account.pk
