"""Publishing tells what happened: a refused token fails the plan as a whole with one message
and stops the account's work; rejections show as counts and grouped reasons, never as
"Succeeded" (the sandbox over real HTTP)."""

import httpx
import pytest
from django.db.models import Count

from channels.adapters.pinterest import PinterestAdapter
from channels.models import ChannelAccount, ChannelListing, PublishPlan, PublishPlanItem
from channels.publishing import publish_batch_run, publish_plan_apply, publish_plan_create, rejection_reasons
from channels.sandbox.control import control_headers
from channels.tests.factories import PINTEREST_CREDENTIALS
from channels.tests.listing_fixtures import seeded_account
from channels.tests.test_publish import meta_sandbox, pinterest_sandbox, run_all_batches, sandbox
from orders.attention import attention_items
from shopadmin.tenancy import shop_context


def request_count(live_server, channel, key) -> int:
    response = httpx.get(f"{live_server.url}/sandbox/_control/{channel}/{key}/", headers=control_headers(), timeout=60)
    return response.json()["request_count"]


@pytest.mark.django_db(transaction=True)
def test_wrong_token_fails_the_plan_as_a_whole_with_one_message(live_server, alice_client, shop_a, monkeypatch):
    base = pinterest_sandbox(live_server)
    # More items than one call takes: two batches, the second never sent. Batches of 10 show it
    # as well as Pinterest's 1,000.
    monkeypatch.setattr(PinterestAdapter, "max_batch", 10)
    variants = 15
    account = seeded_account(shop_a, variants=variants, channel="pinterest", api_base_url=base)
    # The channel stops taking the token the account holds (revoked on its side).
    sandbox(live_server, "pinterest", PINTEREST_CREDENTIALS["ad_account_id"], access_token="pina_another-token-0002")
    key = PINTEREST_CREDENTIALS["ad_account_id"]
    with shop_context(shop_a):
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        batches = list(plan.batches.order_by("number"))
    assert len(batches) == 2
    with shop_context(shop_a):
        assert publish_batch_run(batch_id=batches[0].pk) == "refused"
    calls = request_count(live_server, "pinterest", key)
    with shop_context(shop_a):
        assert publish_batch_run(batch_id=batches[1].pk) == "done"
        plan.refresh_from_db()
        account.refresh_from_db()
        outcomes = dict(PublishPlanItem.objects.filter(plan=plan).values_list("outcome").annotate(n=Count("id")))
        statuses = set(ChannelListing.objects.filter(account=account).values_list("status", flat=True))
        job = plan.job
    assert request_count(live_server, "pinterest", key) == calls  # the second batch never called the channel
    assert plan.status == "failed"
    assert outcomes == {"not_sent": variants}  # not sent, and not one item "rejected"
    assert statuses == {"draft"}
    assert job.status == "failed"
    message = job.error
    assert message.startswith("Pinterest") and "reconnect" in message.lower()
    assert account.connection_status == ChannelAccount.ConnectionStatus.NEEDS_RECONNECT
    assert account.connection_message == message and account.last_error == message

    # The plan page says it once, with the counts, and never "Succeeded".
    page = alice_client.get(f"/app/{shop_a.slug}/channels/plans/{plan.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Not applied:" in body and f"{variants} items not sent." in body
    assert body.count(message) == 1
    assert 'data-plan-outcome="failed"' in body and "Succeeded" not in body and "Applied:" not in body

    # The attention list: one item for the account, nothing else about it.
    with shop_context(shop_a):
        items = attention_items(shop=shop_a)
    about = [i for i in items if account.name in i.title]
    assert [(i.kind, i.title, i.detail, i.action, i.severity) for i in about] == [
        ("needs_reconnect", f"{account.name} needs reconnecting", message, "Reconnect", "bad")
    ]
    assert about[0].url == f"/app/{shop_a.slug}/channels/{account.pk}/"
    assert not [i for i in items if i.kind in ("failed_publishes", "rejected_listings", "order_sync")]

    # Applying again is refused in words, before any call.
    with shop_context(shop_a):
        again = publish_plan_create(account=account)
    response = alice_client.post(f"/app/{shop_a.slug}/channels/plans/{again.pk}/apply/", follow=True)
    assert "needs reconnecting" in response.content.decode()
    with shop_context(shop_a):
        assert PublishPlan.objects.get(pk=again.pk).status == "draft"
    assert request_count(live_server, "pinterest", key) == calls


@pytest.mark.django_db(transaction=True)
def test_rejections_show_as_counts_and_grouped_reasons(live_server, alice_client, api_a, shop_a):
    account = seeded_account(shop_a, variants=40, api_base_url=meta_sandbox(live_server, reject_fraction=0.3))
    with shop_context(shop_a):
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        run_all_batches(plan)
        plan.refresh_from_db()
        accepted = plan.items.filter(outcome="accepted").count()
        rejected = plan.items.filter(outcome="rejected").count()
        account.refresh_from_db()
    assert plan.status == "partial" and rejected >= 1 and accepted + rejected == 40
    assert account.last_success_at is not None  # the channel answered
    page = alice_client.get(f"/app/{shop_a.slug}/channels/plans/{plan.pk}/")
    body = page.content.decode()
    assert f"Finished: {accepted} accepted, {rejected} rejected" in body
    assert "Succeeded" not in body
    assert '<li class="warning" role="status"><span class="badge warn">Finished:' in body  # a warning, not success
    # The job says the same wherever it is shown (its progress bar, /jobs/<id>/).
    with shop_context(shop_a):
        assert plan.job.status_label == f"Finished: {accepted} accepted, {rejected} rejected"
    job = alice_client.get(f"/app/{shop_a.slug}/jobs/{plan.job_id}/").json()
    assert job["label"] == f"Finished: {accepted} accepted, {rejected} rejected"
    # One row for the reason, with its count, however many items it refused.
    reason = "Image could not be downloaded (sandbox rejection)"
    assert body.count(reason) == 1
    assert page.context["outcome"]["reasons"][0]["count"] == rejected
    assert len(page.context["outcome"]["reasons"][0]["examples"]) == min(3, rejected)
    # The API says the same.
    outcome = api_a.get(f"/api/v1/publish-plans/{plan.pk}/").json()["outcome"]
    assert (outcome["accepted"], outcome["rejected"], outcome["not_sent"]) == (accepted, rejected, 0)
    assert [(r["message"], r["count"]) for r in outcome["reasons"]] == [(reason, rejected)]


@pytest.mark.django_db
def test_reasons_that_differ_only_by_request_id_are_one_reason(in_shop_a):
    account = seeded_account(in_shop_a, variants=6, channel="snapchat")
    plan = publish_plan_create(account=account)
    publish_plan_apply(plan=plan)
    items = list(plan.items.select_related("listing").order_by("id"))
    for n, item in enumerate(items[:5]):
        message = f"TikTok Shop refused the request: product main image uri illegal (code 12052700, request 20240{n}9A)"
        ChannelListing.objects.filter(pk=item.listing_id).update(
            status="rejected", errors=[{"field": "", "code": "12052700", "message": message}]
        )
    PublishPlanItem.objects.filter(pk__in=[i.pk for i in items[:5]]).update(outcome="rejected")
    reasons = rejection_reasons(plan)
    assert [(r["message"], r["count"]) for r in reasons] == [
        ("TikTok Shop refused the request: product main image uri illegal (code 12052700)", 5)
    ]


@pytest.mark.django_db
def test_nothing_to_publish_is_not_said_over_problems(alice_client, shop_a):
    from channels.listings import listing_update

    account = seeded_account(shop_a, variants=10, channel="snapchat")
    with shop_context(shop_a):
        publish_plan_apply(plan=publish_plan_create(account=account))
        listing = ChannelListing.objects.order_by("id").first()
        listing_update(listing=listing, title_override="")
        ChannelListing.objects.filter(pk=listing.pk).update(title_override="t" * 151)  # over Snapchat's 150
        plan = publish_plan_create(account=account)
    assert (plan.creates, plan.updates, plan.deletes, plan.invalid) == (0, 0, 0, 1)
    body = alice_client.get(f"/app/{shop_a.slug}/channels/plans/{plan.pk}/").content.decode()
    assert "the channel has what the catalog says" not in body
    assert "1 item cannot be published" in body
    # Reviewing again: the problem is already on the listing, and still counted.
    with shop_context(shop_a):
        again = publish_plan_create(account=account)
    assert (again.creates, again.updates, again.deletes, again.invalid) == (0, 0, 0, 1)
    body = alice_client.get(f"/app/{shop_a.slug}/channels/plans/{again.pk}/").content.decode()
    assert "the channel has what the catalog says" not in body
    assert "1 item cannot be published" in body
    # Changes and problems together: both are said.
    with shop_context(shop_a):
        other = ChannelListing.objects.order_by("id")[1]
        listing_update(listing=other, title_override="A new title")
        mixed = publish_plan_create(account=account)
    assert (mixed.updates, mixed.invalid) == (1, 1)
    body = alice_client.get(f"/app/{shop_a.slug}/channels/plans/{mixed.pk}/").content.decode()
    assert "1 item cannot be published" in body and "Apply these changes" in body
    assert "the channel has what the catalog says" not in body


@pytest.mark.django_db
def test_nothing_to_publish_when_there_are_neither_changes_nor_problems(alice_client, shop_a):
    account = seeded_account(shop_a, variants=4, channel="snapchat")
    with shop_context(shop_a):
        publish_plan_apply(plan=publish_plan_create(account=account))
        plan = publish_plan_create(account=account)
    assert (plan.creates, plan.updates, plan.deletes, plan.invalid) == (0, 0, 0, 0)
    body = alice_client.get(f"/app/{shop_a.slug}/channels/plans/{plan.pk}/").content.decode()
    assert "Nothing to publish: the channel has what the catalog says." in body
    assert "cannot be published" not in body


def test_an_items_errors_are_grouped_by_reason_with_a_count():
    from channels.adapters.base import ItemError
    from channels.publishing import _errors_json

    def refused(n):
        return ItemError(field="image_link", code="12052700", message=f"main image uri illegal (request 20240{n}9A)")

    other = ItemError(field="price", code="invalid", message="price too low")
    grouped = _errors_json([refused(1), other, refused(2), refused(3)])
    assert grouped == [
        {"field": "image_link", "code": "12052700", "message": "main image uri illegal", "count": 3},
        {"field": "price", "code": "invalid", "message": "price too low"},
    ]
