"""Plan-then-publish: only changed items are planned; applying converges under transient
faults and when a worker is killed mid-batch (real workers, the sandbox over real HTTP)."""

import httpx
import pytest

from catalog.models import ProductVariant
from catalog.services import variant_update
from channels.adapters.meta import MetaAdapter
from channels.adapters.pinterest import PinterestAdapter
from channels.items import adapter_for_account, publish_markets
from channels.listings import listing_update
from channels.models import ChannelListing, PublishBatch, PublishPlan
from channels.publishing import publish_batch_run, publish_plan_apply, publish_plan_create, publish_resume_stale
from channels.sandbox.control import control_headers
from channels.tests.factories import META_CREDENTIALS, PINTEREST_CREDENTIALS
from channels.tests.listing_fixtures import seeded_account
from shopadmin.tenancy import shop_context
from shopadmin.testing.worker import wait_for


def sandbox(live_server, channel, key, **config):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/", headers=control_headers(), json=config, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def sandbox_state(live_server, channel, key):
    return httpx.get(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/", headers=control_headers(), timeout=60
    ).json()


def sandbox_items(live_server, channel, key):
    return sandbox_state(live_server, channel, key)["items"]


def meta_sandbox(live_server, **faults):
    sandbox(
        live_server,
        "meta",
        META_CREDENTIALS["catalog_id"],
        secret=META_CREDENTIALS["app_secret"],
        access_token=META_CREDENTIALS["access_token"],
        faults=faults,
    )
    return f"{live_server.url}/sandbox/meta"


def pinterest_sandbox(live_server, **faults):
    sandbox(
        live_server,
        "pinterest",
        PINTEREST_CREDENTIALS["ad_account_id"],
        access_token=PINTEREST_CREDENTIALS["access_token"],
        faults=faults,
    )
    return f"{live_server.url}/sandbox/pinterest"


def run_all_batches(plan):
    for batch in plan.batches.order_by("number"):
        assert publish_batch_run(batch_id=batch.pk) in ("recorded", "done")


@pytest.mark.django_db
def test_plan_lists_only_changed_items(in_shop_a):
    n = 100  # the comparison is per item (and both sizes fit one chunk): a hundred show it as a thousand did
    account = seeded_account(in_shop_a, variants=n, channel="snapchat")
    first = publish_plan_create(account=account)
    assert (first.creates, first.updates, first.deletes) == (n, 0, 0)
    publish_plan_apply(plan=first)  # a feed channel: applying records what the feed now serves
    assert ChannelListing.objects.filter(status="published").count() == n
    again = publish_plan_create(account=account)
    assert (again.creates, again.updates, again.deletes, again.unchanged) == (0, 0, 0, n)
    variant = ProductVariant.objects.order_by("id")[n // 2]
    variant_update(variant=variant, mpn="NEW-MPN-1")
    plan = publish_plan_create(account=account)
    assert (plan.creates, plan.updates, plan.deletes, plan.unchanged) == (0, 1, 0, n - 1)
    item = plan.items.get()
    assert item.listing.variant_id == variant.pk
    assert set(item.changes) == {"mpn"}
    assert item.changes["mpn"][1] == "NEW-MPN-1"
    assert PublishPlan.objects.get(pk=again.pk).status == "superseded"


@pytest.mark.django_db
def test_plan_deletes_excluded_and_reports_invalid(in_shop_a):
    from channels.listings import listing_rule_add

    account = seeded_account(in_shop_a, variants=20, channel="snapchat")
    publish_plan_apply(plan=publish_plan_create(account=account))
    product = ProductVariant.objects.order_by("id").first().product
    listing_rule_add(account=account, action="exclude", product=product)
    listing = ChannelListing.objects.exclude(variant__product=product).order_by("id").first()
    listing_update(listing=listing, title_override="")
    listing_update(listing=listing, description_override="")
    ChannelListing.objects.filter(pk=listing.pk).update(title_override="t" * 151)  # over Snapchat's 150
    plan = publish_plan_create(account=account)
    assert plan.deletes == product.variants.count()
    assert plan.invalid == 1
    listing.refresh_from_db()
    assert listing.status == "error" and listing.errors[0]["field"] == "title"


@pytest.mark.django_db(transaction=True)
def test_publish_to_meta_sandbox_records_outcomes(live_server, shop_a):
    account = seeded_account(shop_a, variants=40, api_base_url=meta_sandbox(live_server, reject_fraction=0.1))
    with shop_context(shop_a):
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        run_all_batches(plan)
        plan.refresh_from_db()
        statuses = dict(
            ChannelListing.objects.values_list("status").annotate(n=__import__("django").db.models.Count("id"))
        )
        rejected = ChannelListing.objects.filter(status="rejected").first()
    assert plan.status == "partial"
    assert statuses.get("published", 0) + statuses.get("rejected", 0) == 40
    assert statuses.get("rejected", 0) >= 1
    assert rejected.errors and "sandbox rejection" in rejected.errors[0]["message"]
    items = sandbox_items(live_server, "meta", META_CREDENTIALS["catalog_id"])
    assert len(items) == statuses["published"]
    with shop_context(shop_a):
        assert plan.job.status == "succeeded" and plan.job.result["rejected"] == statuses["rejected"]


def converged(shop, plan_pk):
    with shop_context(shop):
        return PublishPlan.objects.get(pk=plan_pk).status in ("applied", "partial")


def batch_limit(shop, account) -> int:
    """The channel's own limit on items per call, as applying a plan uses it."""
    with shop_context(shop):
        return adapter_for_account(account).upsert_batch_size(publish_markets(account))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_fault_tolerance_items_converge_once_each(live_server, shop_a, start_worker, monkeypatch):
    # About 30% of calls fail transiently: 503s, dropped connections and 429s with a wait hint;
    # the first three calls fail one way each, so every kind of fault is met whatever the dice say.
    faults = {"fail_next": 1, "rate_limit_next": 1, "drop_next": 1}
    base = meta_sandbox(live_server, error_rate=0.15, drop_rate=0.08, rate_limit_rate=0.1, retry_after=1, **faults)
    worker = start_worker("w1", ready=False, extra_env={"CHANNELS_HTTP_BACKOFF_BASE": "0.05"})
    items, per_batch = 200, 40
    account = seeded_account(shop_a, variants=items, api_base_url=base)
    assert batch_limit(shop_a, account) == 3000  # Meta: at most 3,000 per call
    # Size proves nothing here; the number of calls (each of which may fail) does: five batches.
    monkeypatch.setattr(MetaAdapter, "max_batch", per_batch)
    worker.wait_ready()
    with shop_context(shop_a):
        plan = publish_plan_create(account=account)
        assert plan.creates == items
        publish_plan_apply(plan=plan)
        assert plan.batches.count() == items // per_batch
    wait_for(lambda: converged(shop_a, plan.pk), timeout=300, interval=0.2, message="publish did not converge")
    with shop_context(shop_a):
        assert ChannelListing.objects.filter(status="published").count() == items
        assert PublishPlan.objects.get(pk=plan.pk).status == "applied"
    state = sandbox_state(live_server, "meta", META_CREDENTIALS["catalog_id"])
    assert not any(state["faults"].get(name) for name in faults)  # the deterministic faults were all met
    items_held = state["items"]
    assert len(items_held) == items  # none lost; the sandbox keys items by id, so none twice
    assert all(i["active"] and i["updates"] == 0 for i in items_held.values())  # each written once


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_another_finishes(live_server, shop_a, start_worker, monkeypatch):
    # Pinterest; each batch is "processing" for several polls, so the worker is killed while it
    # holds a sent batch. Two batches: the one the dead worker held, and one still queued.
    base = pinterest_sandbox(live_server, processing_polls=4, error_rate=0.1)
    env = {"CHANNELS_HTTP_BACKOFF_BASE": "0.05", "CHANNELS_PUBLISH_LEASE_SECONDS": "5"}
    first = start_worker("w1", ready=False, extra_env=env)
    items, per_batch = 40, 20
    account = seeded_account(shop_a, variants=items, channel="pinterest", api_base_url=base)
    assert batch_limit(shop_a, account) == 1000  # Pinterest: at most 1,000 per call
    monkeypatch.setattr(PinterestAdapter, "max_batch", per_batch)
    first.wait_ready()
    with shop_context(shop_a):
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        assert plan.batches.count() == items // per_batch

    def sent_batch():
        with shop_context(shop_a):
            return PublishBatch.objects.filter(plan=plan, status="sent").exists()

    wait_for(sent_batch, timeout=120, interval=0.05, message="no batch was sent")
    first.kill()
    with shop_context(shop_a):
        orphan = PublishBatch.objects.get(plan=plan, status="sent")
        assert PublishPlan.objects.get(pk=plan.pk).status == "applying"
    start_worker("w2", extra_env=env)
    # The beat sweep (every minute in production) hands the dead worker's batch on once its lease ran out.
    wait_for(lambda: publish_resume_stale() > 0 or converged(shop_a, plan.pk), timeout=60, interval=0.5)
    wait_for(lambda: converged(shop_a, plan.pk), timeout=300, interval=0.2, message="publish did not converge")
    with shop_context(shop_a):
        assert ChannelListing.objects.filter(status="published").count() == items
        orphan.refresh_from_db()
        assert orphan.status == "done" and orphan.attempts >= 2
    items_held = sandbox_items(live_server, "pinterest", PINTEREST_CREDENTIALS["ad_account_id"])
    assert len(items_held) == items
    assert all(i["active"] for i in items_held.values())
