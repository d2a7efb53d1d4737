"""An account that needs reconnecting stops its work: no publishing, polling or reconciliation
calls the channel (the sandbox counts every call), and the attention list says so once."""

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from channels.health import account_refused
from channels.models import ChannelAccount, PublishPlan
from channels.publishing import publish_plan_apply, publish_plan_create, replan_run
from channels.sandbox.control import control_headers
from channels.tests.factories import META_CREDENTIALS, make_account
from orders.attention import attention_items
from orders.models import Fulfillment, Order, OrderSyncCursor, PushState, ReconciliationIssue, ReconciliationRun
from orders.reconciliation import reconciliation_run, reconciliation_start
from orders.sync import orders_poll
from orders.tasks import poll_all_task, reconcile_all_task
from orders.tests.conftest import channel_order, meta_sandbox, sandbox_list, sandbox_order, stocked_variant
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.services import job_create, job_finish
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)
META_KEY = META_CREDENTIALS["catalog_id"]
REFUSED = "Facebook & Instagram (Meta) refused the access token: reconnect the account."


def control(live_server, **body):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/meta/{META_KEY}/", headers=control_headers(), json=body, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def calls(live_server) -> int:
    return control(live_server)["request_count"]


def meta_account_with_orders(live_server, shop, name="Alice on Meta"):
    """An account on the Meta sandbox, which holds two orders for it (no webhooks)."""
    stocked_variant(shop, sku="TEE-M", on_hand=10)
    account = make_account(shop, "meta", name=name, api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    control(live_server, webhook_url="")
    sandbox_list("meta", META_KEY, ["TEE-M"])
    for _ in range(2):
        sandbox_order(live_server, "meta", META_KEY, [{"item_id": "TEE-M"}])
    return account


def test_an_account_that_needs_reconnecting_is_left_alone_and_said_once(live_server, shop_a):
    account = meta_account_with_orders(live_server, shop_a)
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        run = reconciliation_start(account=account)  # queued before the channel refused the account
        plan = publish_plan_create(account=account)
        account = account_refused(account, REFUSED)
    before = calls(live_server)
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        # Polling and reconciliation do not call the channel, and find nothing wrong with orders.
        assert orders_poll(account=account) == {}
        assert not Order.objects.exists()
        assert not OrderSyncCursor.objects.exclude(last_error="").exists()
        run = reconciliation_run(run=ReconciliationRun.objects.select_related("account", "job").get(pk=run.pk))
        assert run.status == "failed" and "needs reconnecting" in run.error
        assert not ReconciliationIssue.objects.exists()
        with pytest.raises(ValidationError, match="needs reconnecting"):
            reconciliation_start(account=account)
        # Publishing is not applied, in words; the automatic re-plan skips the account.
        with pytest.raises(ValidationError, match="needs reconnecting"):
            publish_plan_apply(plan=plan)
        assert PublishPlan.objects.get(pk=plan.pk).status == "draft"
        assert replan_run(account_id=account.pk, token="any") is None
    # The beat's fan-outs leave it out.
    assert poll_all_task() == 0
    assert reconcile_all_task() == 0
    assert calls(live_server) == before

    # Failures that follow from it (a sync error, a failed push, a failed publish) are not
    # repeated: one item, linking to the account.
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        OrderSyncCursor.objects.update_or_create(account=account, defaults={"last_error": "HTTP 401"})
        from orders.services.ingest import order_import

        order, _outcome = order_import(account=account, data=channel_order("M1", lines=(("TEE-M", 1, "49.90"),)))
        Fulfillment.objects.create(order=order, push_state=PushState.FAILED, push_error="401 from the channel")
        job = job_create(kind="publish", label="Publish")
        job_finish(job=job, error=REFUSED)
        PublishPlan.objects.filter(pk=plan.pk).update(job=job)
        # Items failing the channel's rules before sending are the catalog's to fix: they stay.
        items = [i for i in attention_items(shop=shop_a) if i.kind != "feed_problems"]
    assert [(i.kind, i.title, i.count, i.detail, i.url, i.action, i.severity) for i in items] == [
        (
            "needs_reconnect",
            "Alice on Meta needs reconnecting",
            1,
            REFUSED,
            f"/app/{shop_a.slug}/channels/{account.pk}/",
            "Reconnect",
            "bad",
        )
    ]


def test_a_refused_poll_marks_the_account_instead_of_failing_order_by_order(live_server, shop_a):
    account = meta_account_with_orders(live_server, shop_a)
    control(live_server, access_token="EAAB-another-token-0002")  # the channel no longer takes ours
    with shop_context(shop_a):
        assert orders_poll(account=account) == {}
        account.refresh_from_db()
        assert account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
        assert "reconnect" in account.connection_message.lower()
        assert account.last_error == account.connection_message
        assert not Order.objects.exists()
        items = attention_items(shop=shop_a)
    assert [i.kind for i in items] == ["needs_reconnect"]
    before = calls(live_server)
    with shop_context(shop_a):
        assert orders_poll(account=account) == {}
    assert calls(live_server) == before


def test_a_successful_poll_is_recorded_on_the_account(live_server, shop_a):
    account = meta_account_with_orders(live_server, shop_a)
    with shop_context(shop_a):
        assert orders_poll(account=account) == {"created": 2}
        account.refresh_from_db()
    assert account.last_success_at is not None and account.connection_status == "connected"


def test_shop_b_never_sees_shop_a_account(live_server, shop_a, shop_b, alice, charlie):
    account_a = meta_account_with_orders(live_server, shop_a, name="Alice on Meta")
    account_b = make_account(shop_b, "meta", name="Charlie on Meta")
    with shop_context(shop_a):
        account_refused(account_a, REFUSED)
    with shop_context(shop_b):
        assert attention_items(shop=shop_b) == []
        account_refused(account_b, "Charlie's token was revoked.")
        assert [i.title for i in attention_items(shop=shop_b)] == ["Charlie on Meta needs reconnecting"]
    with shop_context(shop_a):
        assert [i.title for i in attention_items(shop=shop_a)] == ["Alice on Meta needs reconnecting"]
    charlie_client, alice_client = Client(), Client()
    charlie_client.force_login(charlie)
    alice_client.force_login(alice)
    body_b = charlie_client.get(f"/app/{shop_b.slug}/attention/").content.decode()
    assert "Charlie on Meta needs reconnecting" in body_b and "Alice on Meta" not in body_b
    assert charlie_client.get(f"/app/{shop_a.slug}/attention/").status_code == 404
    body_a = alice_client.get(f"/app/{shop_a.slug}/attention/").content.decode()
    assert "Alice on Meta needs reconnecting" in body_a and "Charlie" not in body_a


def test_an_order_webhook_waits_for_the_reconnection_without_calling_the_channel(live_server, shop_a):
    from channels.models import WebhookEvent
    from channels.services import webhook_event_process

    stocked_variant(shop_a, sku="TEE-M", on_hand=10)
    account = make_account(shop_a, "meta", name="Alice on Meta", api_base_url=f"{live_server.url}/sandbox/meta")
    meta_sandbox(live_server, account)
    sandbox_list("meta", META_KEY, ["TEE-M"])
    placed = sandbox_order(live_server, "meta", META_KEY, [{"item_id": "TEE-M"}])
    assert placed["webhook"] == {"status": 200}
    with shop_context(shop_a):
        account_refused(account, REFUSED)
    before = calls(live_server)
    with shop_context(shop_a):
        event = webhook_event_process(event=WebhookEvent.objects.get())
        assert event.status == "failed" and "needs reconnecting" in event.error
        assert event.processed_at is None  # retried once the account is connected again
        assert not Order.objects.exists()
    assert calls(live_server) == before


def test_fulfilments_wait_for_the_reconnection_and_go_out_after_it(live_server, shop_a):
    from channels.health import reconnected_handlers
    from orders.apps import _resume_pushes
    from orders.services.lifecycle import order_fulfill
    from orders.services.pushes import fulfillment_push, pushes_resume

    # The reaction is connected: reconnecting an account sends what waited for it.
    assert _resume_pushes in reconnected_handlers()
    account = meta_account_with_orders(live_server, shop_a)
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        orders_poll(account=account)
        order = Order.objects.filter(account=account).order_by("pk").first()
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z9")
        account = account_refused(account, REFUSED)
    before = calls(live_server)
    with shop_context(shop_a):
        assert fulfillment_push(fulfillment=fulfillment) == PushState.PENDING
        fulfillment.refresh_from_db()
        assert fulfillment.push_attempts == 0 and not ReconciliationIssue.objects.filter(kind="push_failed").exists()
    assert calls(live_server) == before
    with shop_context(shop_a):
        ChannelAccount.objects.filter(pk=account.pk).update(connection_status="connected", connection_message="")
        account.refresh_from_db()
        assert pushes_resume(account) == 1  # handed to the push task, which sends it as usual


def test_a_token_refused_during_a_push_marks_the_account_and_the_push_waits(live_server, shop_a):
    from orders.services.lifecycle import order_fulfill
    from orders.services.pushes import fulfillment_push

    account = meta_account_with_orders(live_server, shop_a)
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        orders_poll(account=account)
        order = Order.objects.filter(account=account).order_by("pk").first()
        fulfillment = order_fulfill(order=order, carrier="UPS", tracking_number="1Z8")
    control(live_server, access_token="EAAB-rotated-elsewhere")  # the token we hold is no longer good
    with shop_context(shop_a):
        assert fulfillment_push(fulfillment=fulfillment) == PushState.PENDING
        account.refresh_from_db()
        assert account.connection_status == "needs_reconnect"
        assert not ReconciliationIssue.objects.filter(kind="push_failed").exists()
