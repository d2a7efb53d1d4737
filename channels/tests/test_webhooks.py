import hashlib
import hmac
import json

import httpx
import pytest

from channels.adapters.tiktok_shop import webhook_signature
from channels.models import WebhookEvent
from channels.sandbox.control import control_headers
from channels.services import webhook_event_process
from channels.tests.factories import META_CREDENTIALS, TIKTOK_CREDENTIALS, make_account
from channels.webhooks import register_order_handler, unregister_order_handler
from shopadmin.tenancy import all_shops_access, shop_context


@pytest.fixture
def no_installed_handlers(monkeypatch):
    """Only the handlers a test registers itself (the orders app registers its own in ready())."""
    import channels.webhooks

    monkeypatch.setattr(channels.webhooks, "_order_handlers", [])


def meta_body(order_id="111"):
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "5550001112",
                    "time": 1,
                    "changes": [
                        {"field": "commerce_orders", "value": {"order_id": order_id, "event": "ORDER_CREATED"}}
                    ],
                }
            ],
        }
    ).encode()


def meta_sig(body, secret=META_CREDENTIALS["app_secret"]):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def count_events():
    with all_shops_access():
        return WebhookEvent.all_shops.count()


def post(client, account, body, **headers):
    return client.post(
        f"/webhooks/{account.channel}/{account.webhook_key}/", body, content_type="application/json", **headers
    )


@pytest.mark.django_db
class TestMetaWebhook:
    def test_handshake(self, client, shop_a):
        account = make_account(shop_a)
        url = f"/webhooks/meta/{account.webhook_key}/"
        ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me-please", "hub.challenge": "42"})
        assert ok.status_code == 200 and ok.content == b"42"
        bad = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"})
        assert bad.status_code == 403

    def test_handshake_compares_a_mixed_case_token_exactly(self, client, shop_a):
        account = make_account(shop_a, credentials={**META_CREDENTIALS, "verify_token": "Mixed-Case-Token"})
        url = f"/webhooks/meta/{account.webhook_key}/"
        ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "Mixed-Case-Token", "hub.challenge": "7"})
        assert ok.status_code == 200 and ok.content == b"7"
        for wrong in ("mixed-case-token", "MIXED-CASE-TOKEN", " Mixed-Case-Token", ""):
            response = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": wrong, "hub.challenge": "7"})
            assert response.status_code == 403, wrong

    def test_wrong_signature_writes_nothing(self, client, shop_a):
        account = make_account(shop_a)
        body = meta_body()
        assert post(client, account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body, "not-the-secret")).status_code == 401
        assert post(client, account, body).status_code == 401
        assert post(client, account, b"not json", HTTP_X_HUB_SIGNATURE_256=meta_sig(b"x")).status_code == 401
        assert count_events() == 0

    def test_duplicate_creates_one_event(self, client, shop_a):
        account = make_account(shop_a)
        body = meta_body()
        first = post(client, account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body))
        second = post(client, account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body))
        assert first.status_code == second.status_code == 200
        assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
        with shop_context(shop_a):
            events = list(WebhookEvent.objects.all())
        assert len(events) == 1
        assert events[0].event_type == "commerce_orders.ORDER_CREATED"
        assert events[0].raw_body == body.decode()

    def test_unknown_key_and_channel_mismatch_are_404(self, client, shop_a):
        account = make_account(shop_a)
        body = meta_body()
        sig = meta_sig(body)
        assert client.post("/webhooks/meta/nope/", body, content_type="application/json").status_code == 404
        assert (
            client.post(
                f"/webhooks/tiktok_shop/{account.webhook_key}/",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=sig,
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/webhooks/pinterest/{account.webhook_key}/", body, content_type="application/json"
            ).status_code
            == 404
        )
        assert count_events() == 0

    def test_charlies_key_cannot_post_into_alices_shop(self, client, shop_a, shop_b):
        alice_account = make_account(shop_a)
        charlie_account = make_account(
            shop_b, credentials={**META_CREDENTIALS, "app_secret": "charlie-app-secret-000000"}
        )
        body = meta_body()
        # Signed with charlie's secret, sent to alice's URL: refused.
        assert (
            post(
                client, alice_account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body, "charlie-app-secret-000000")
            ).status_code
            == 401
        )
        # Charlie's URL: lands in charlie's shop only.
        assert (
            post(
                client, charlie_account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body, "charlie-app-secret-000000")
            ).status_code
            == 200
        )
        with shop_context(shop_a):
            assert WebhookEvent.objects.count() == 0
        with shop_context(shop_b):
            assert WebhookEvent.objects.get().account_id == charlie_account.pk


@pytest.mark.django_db
class TestTikTokWebhook:
    def body(self, notification="n-1"):
        return json.dumps(
            {
                "type": 1,
                "tts_notification_id": notification,
                "shop_id": "7",
                "timestamp": 1,
                "data": {"order_id": "576", "order_status": "AWAITING_SHIPMENT"},
            }
        ).encode()

    def test_signature_duplicate_and_wrong(self, client, shop_a):
        account = make_account(shop_a, "tiktok_shop")
        body = self.body()
        good = webhook_signature(
            app_key=TIKTOK_CREDENTIALS["app_key"], app_secret=TIKTOK_CREDENTIALS["app_secret"], raw_body=body
        )
        assert post(client, account, body, HTTP_AUTHORIZATION="0" * 64).status_code == 401
        assert count_events() == 0
        assert post(client, account, body, HTTP_AUTHORIZATION=good).status_code == 200
        assert post(client, account, body, HTTP_AUTHORIZATION=good).status_code == 200
        with shop_context(shop_a):
            event = WebhookEvent.objects.get()
        assert event.provider_event_id == "n-1" and event.event_type == "1"


@pytest.mark.django_db
def test_processing_without_handler_stores_and_with_handler_hands_over(client, shop_a, no_installed_handlers):
    account = make_account(shop_a)
    for order_id in ("1", "2"):
        body = meta_body(order_id)
        post(client, account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body))
    with shop_context(shop_a):
        first, second = WebhookEvent.objects.order_by("id")
        assert webhook_event_process(event=first).status == WebhookEvent.Status.STORED
        seen = []

        def handler(event, parsed):
            seen.append((event.pk, parsed.order_id))

        register_order_handler(handler)
        try:
            processed = webhook_event_process(event=second)
            again = webhook_event_process(event=second)
        finally:
            unregister_order_handler(handler)
    assert processed.status == WebhookEvent.Status.PROCESSED and processed.processed_at
    assert again.processed_at == processed.processed_at
    assert seen == [(second.pk, "2")]  # once: a redelivered task changes nothing


@pytest.mark.django_db
def test_failing_handler_records_error_and_leaves_event_retryable(client, shop_a, no_installed_handlers):
    account = make_account(shop_a)
    body = meta_body()
    post(client, account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body))

    def broken(event, parsed):
        raise RuntimeError("no such variant")

    register_order_handler(broken)
    try:
        with shop_context(shop_a):
            event = webhook_event_process(event=WebhookEvent.objects.get())
    finally:
        unregister_order_handler(broken)
    assert event.status == WebhookEvent.Status.FAILED and "no such variant" in event.error
    assert event.processed_at is None


@pytest.mark.django_db(transaction=True)
def test_sandbox_order_announced_by_signed_webhook(live_server, shop_a):
    account = make_account(shop_a, api_base_url=f"{live_server.url}/sandbox/meta")
    catalog = META_CREDENTIALS["catalog_id"]
    httpx.post(
        f"{live_server.url}/sandbox/_control/meta/{catalog}/",
        headers=control_headers(),
        json={
            "secret": META_CREDENTIALS["app_secret"],
            "access_token": META_CREDENTIALS["access_token"],
            "commerce_account_id": META_CREDENTIALS["commerce_account_id"],
            "webhook_url": f"{live_server.url}/webhooks/meta/{account.webhook_key}/",
        },
    ).raise_for_status()
    from channels.adapters import adapter_for
    from channels.tests.test_adapters import item

    with adapter_for(account) as adapter:
        adapter.batch_status(adapter.publish_batch([item(1)]))
    placed = httpx.post(
        f"{live_server.url}/sandbox/_control/meta/{catalog}/orders/", headers=control_headers(), json={}, timeout=20
    ).json()
    assert placed["webhook"] == {"status": 200}
    with shop_context(shop_a):
        event = WebhookEvent.objects.get()
    assert placed["order_id"] in event.raw_body


@pytest.mark.django_db
def test_ui_lists_events_for_alice_not_charlie(client, alice_client, shop_a, charlie):
    account = make_account(shop_a)
    body = meta_body()
    post(client, account, body, HTTP_X_HUB_SIGNATURE_256=meta_sig(body))
    page = alice_client.get(f"/app/alice/channels/{account.pk}/")
    assert "New order" in page.content.decode()


@pytest.mark.django_db
def test_the_pages_say_what_each_notification_was_about(alice_client, shop_a):
    account = make_account(shop_a, "tiktok_shop", credentials=TIKTOK_CREDENTIALS)
    with shop_context(shop_a):
        for number, event_type in enumerate(["1", "6", "99"]):
            WebhookEvent.objects.create(
                account=account, provider_event_id=f"n-{number}", event_type=event_type, raw_body="{}"
            )
    for url in (f"/app/{shop_a.slug}/channels/", f"/app/{shop_a.slug}/channels/{account.pk}/"):
        page = alice_client.get(url).content.decode()
        assert "Order status changed" in page and "The shop withdrew this app" in page
        assert "<td>99</td>" in page  # a type the adapter does not know is shown as the channel sent it
    alice_client.post("/i18n/setlang/", {"language": "fr", "next": f"/app/{shop_a.slug}/"})
    assert "Statut de la commande modifié" in alice_client.get(f"/app/{shop_a.slug}/channels/").content.decode()
