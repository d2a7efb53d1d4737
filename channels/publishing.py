"""Plan-then-publish (DESIGN.md §6).

A plan compares each listing's desired payload with the hash of what the channel last
accepted and lists only the differences. Applying it splits the changes into batches
within the channel's limits; each batch is sent by its own Celery task, which is
idempotent: the batch row records how far it got (queued → sent with the channel's
handle → done), and a lease says which worker holds it. A worker that dies mid-batch
leaves the lease to expire; the redelivered task (acks late) or the resume sweep picks
the batch up where the row says it stopped.
"""

from __future__ import annotations

import logging
import os
import random
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.adapters.base import AdapterError, BatchStatus, ItemResult, RateLimited, TransientError
from channels.listings import (
    adapter_for_account,
    item_from_json,
    item_problems,
    item_to_json,
    iter_items,
    listing_settings_for,
    listings_sync,
    market_pricing,
    payload_for,
    payload_hash,
    selected_variants,
)
from channels.models import (
    ChannelAccount,
    ChannelListing,
    ListingSettings,
    ListingStatus,
    PublishBatch,
    PublishPlan,
    PublishPlanItem,
)
from channels.selectors import account_markets
from shopadmin.audit import audit_record
from shopadmin.models import Job
from shopadmin.services import job_create, job_finish, job_progress

logger = logging.getLogger(__name__)

# Operational knobs, read from the environment so workers and tests can tune them.
LEASE_SECONDS = float(os.environ.get("CHANNELS_PUBLISH_LEASE_SECONDS", "120"))
POLL_BUDGET_SECONDS = float(os.environ.get("CHANNELS_PUBLISH_POLL_SECONDS", "60"))
HTTP_BACKOFF_BASE = float(os.environ.get("CHANNELS_HTTP_BACKOFF_BASE", "0.5"))
REPLAN_DEBOUNCE_SECONDS = float(os.environ.get("CHANNELS_REPLAN_DEBOUNCE_SECONDS", "30"))
CHANGE_FIELDS_SHOWN = 40  # plan items shown per page of the review


class Retry(Exception):
    """The batch is not finished; run the task again after `countdown` seconds."""

    def __init__(self, countdown: float, reason: str):
        super().__init__(reason)
        self.countdown = countdown


def http_options() -> dict:
    return {"backoff_base": HTTP_BACKOFF_BASE}


def field_changes(before: dict, after: dict) -> dict:
    """{field: [accepted, planned]} for each field that differs."""
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


# --- Computing a plan ------------------------------------------------------------------------------


def plan_compute(*, account: ChannelAccount) -> dict:
    """What would change on the channel: creates, updates (with field diffs), deletes.

    Returns {"changes": [(listing_id, action, item_json, payload, hash)], "invalid":
    {listing_id: problems}, "unchanged": n, "deletes": [listing_id]}. Reads only, apart
    from the draft rows `listings_sync` adds for newly selected variants.
    """
    listings_sync(account=account)
    market = account_markets(account)[0]
    adapter = adapter_for_account(account, market)
    pricing_problem = market_pricing(account, market).problem
    state = {
        row[0]: row[1:]
        for row in ChannelListing.objects.filter(account=account).values_list(
            "variant_id", "id", "accepted_hash", "status", "channel_item_id", "errors"
        )
        if row[0] is not None
    }
    changes, invalid, unchanged = [], {}, 0
    for built in iter_items(account, market):
        listing_id, accepted_hash, status, channel_item_id, errors = state[built.variant_id]
        problems = item_problems(adapter, built, pricing_problem)
        if problems:
            if errors != problems or status != ListingStatus.ERROR:
                invalid[listing_id] = problems
            continue
        built.item.channel_item_id = channel_item_id
        payload = payload_for(adapter, built)
        digest = payload_hash(payload)
        live = bool(accepted_hash) and status != ListingStatus.DELISTED
        if live and digest == accepted_hash:
            unchanged += 1
            if status == ListingStatus.ERROR:
                invalid[listing_id] = []  # fixed: back to published below
            continue
        action = PublishPlanItem.Action.UPDATE if live else PublishPlanItem.Action.CREATE
        changes.append((listing_id, action, item_to_json(built.item), payload, digest))
    deletes = list(
        ChannelListing.objects.filter(account=account)
        .exclude(accepted_hash="")
        .exclude(status=ListingStatus.DELISTED)
        .exclude(variant_id__in=selected_variants(account).values("id"))
        .values_list("id", flat=True)
    )
    return {"changes": changes, "invalid": invalid, "unchanged": unchanged, "deletes": deletes}


@transaction.atomic
def publish_plan_create(*, account: ChannelAccount, automatic: bool = False, created_by=None) -> PublishPlan:
    computed = plan_compute(account=account)
    PublishPlan.objects.filter(account=account, status=PublishPlan.Status.DRAFT).update(
        status=PublishPlan.Status.SUPERSEDED
    )
    _record_local_problems(account, computed["invalid"])
    plan = PublishPlan(shop_id=account.shop_id, account=account, automatic=automatic, created_by=created_by)
    plan.unchanged = computed["unchanged"]
    plan.invalid = sum(1 for problems in computed["invalid"].values() if problems)
    plan.save()
    accepted = dict(
        ChannelListing.objects.filter(
            pk__in=[c[0] for c in computed["changes"] if c[1] == PublishPlanItem.Action.UPDATE]
        ).values_list("id", "accepted_payload")
    )
    items = [
        PublishPlanItem(
            shop_id=account.shop_id,
            plan=plan,
            listing_id=listing_id,
            action=action,
            item=item,
            payload=payload,
            payload_hash=digest,
            changes=field_changes(accepted.get(listing_id) or {}, payload) if action == "update" else {},
        )
        for listing_id, action, item, payload, digest in computed["changes"]
    ]
    deleted = ChannelListing.objects.filter(pk__in=computed["deletes"]).values_list("id", "item_id", "channel_item_id")
    items += [
        PublishPlanItem(
            shop_id=account.shop_id,
            plan=plan,
            listing_id=listing_id,
            action=PublishPlanItem.Action.DELETE,
            item={"id": item_id, "channel_item_id": channel_item_id},
        )
        for listing_id, item_id, channel_item_id in deleted
    ]
    PublishPlanItem.objects.bulk_create(items, batch_size=2000)
    plan.creates = sum(1 for i in items if i.action == PublishPlanItem.Action.CREATE)
    plan.updates = sum(1 for i in items if i.action == PublishPlanItem.Action.UPDATE)
    plan.deletes = sum(1 for i in items if i.action == PublishPlanItem.Action.DELETE)
    plan.save(update_fields=["creates", "updates", "deletes"])
    audit_record(
        action="publish_plan.create",
        instance=plan,
        changes={"creates": plan.creates, "updates": plan.updates, "deletes": plan.deletes, "invalid": plan.invalid},
    )
    return plan


def _record_local_problems(account: ChannelAccount, invalid: dict) -> None:
    """Problems found before sending land on the listing; a fixed listing returns to published."""
    to_error = [pk for pk, problems in invalid.items() if problems]
    by_problems: dict[str, list[int]] = {}
    for pk in to_error:
        by_problems.setdefault(repr(invalid[pk]), []).append(pk)
    for pks in by_problems.values():
        ChannelListing.objects.filter(pk__in=pks).update(
            status=ListingStatus.ERROR, errors=invalid[pks[0]], updated_at=timezone.now()
        )
    fixed = [pk for pk, problems in invalid.items() if not problems]
    if fixed:
        ChannelListing.objects.filter(pk__in=fixed).update(
            status=ListingStatus.PUBLISHED, errors=[], updated_at=timezone.now()
        )


# --- Applying a plan ------------------------------------------------------------------------------


@transaction.atomic
def publish_plan_apply(*, plan: PublishPlan, created_by=None) -> PublishPlan:
    plan = PublishPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if plan.status != PublishPlan.Status.DRAFT:
        raise ValidationError(
            {"plan": _("This plan is %(status)s; compute a new one.") % {"status": plan.get_status_display()}}
        )
    account = plan.account
    adapter = adapter_for_account(account)
    total = plan.items.count()
    job = job_create(kind="publish", label=_("Publish to %(name)s") % {"name": account.name}, total=total,
                     created_by=created_by)  # fmt: skip
    plan.job, plan.status, plan.applied_at = job, PublishPlan.Status.APPLYING, timezone.now()
    plan.save(update_fields=["job", "status", "applied_at"])
    audit_record(action="publish_plan.apply", instance=plan, changes={"items": total})
    if adapter.feed_only:
        # The channel fetches our feed: what the feed serves is what it gets.
        _apply_feed_only(plan)
        return plan
    batches = []
    number = 0
    for operation, actions in (("upsert", ("create", "update")), ("delete", ("delete",))):
        ids = list(plan.items.filter(action__in=actions).order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), adapter.max_batch):
            chunk = ids[start : start + adapter.max_batch]
            number += 1
            batch = PublishBatch.objects.create(
                shop_id=plan.shop_id, plan=plan, number=number, operation=operation, size=len(chunk)
            )
            PublishPlanItem.objects.filter(pk__in=chunk).update(batch=batch)
            batches.append(batch.pk)
    listing_ids = plan.items.values("listing_id")
    ChannelListing.objects.filter(pk__in=listing_ids).update(status=ListingStatus.PENDING, updated_at=timezone.now())
    if not batches:
        _plan_finish(plan)
        return plan
    from channels.tasks import publish_batch_task

    shop_id = plan.shop_id
    transaction.on_commit(lambda: [publish_batch_task.delay(shop_id, pk) for pk in batches])
    return plan


def _apply_feed_only(plan: PublishPlan) -> None:
    items = list(plan.items.select_related("listing"))
    _record_outcomes(items, {i.item["id"]: ItemResult(item_id=i.item["id"], ok=True) for i in items})
    _plan_finish(plan)


def _plan_finish(plan: PublishPlan) -> None:
    rejected = plan.items.filter(outcome="rejected").exists()
    plan.status = PublishPlan.Status.PARTIAL if rejected else PublishPlan.Status.APPLIED
    plan.finished_at = timezone.now()
    plan.save(update_fields=["status", "finished_at"])
    if plan.job_id:
        job = Job.objects.get(pk=plan.job_id)
        counts = {
            "accepted": plan.items.filter(outcome="accepted").count(),
            "rejected": plan.items.filter(outcome="rejected").count(),
            "plan": plan.pk,
        }
        job_finish(job=job, result=counts)


# --- One batch (the task body) ------------------------------------------------------------------------


def _claim(batch_id: int) -> PublishBatch | None:
    """Take the lease on a batch; None if it is done. Raises Retry if another worker holds it."""
    with transaction.atomic():
        batch = PublishBatch.objects.select_for_update().select_related("plan", "plan__account").get(pk=batch_id)
        if batch.status == PublishBatch.Status.DONE:
            return None
        now = timezone.now()
        if batch.lease_until and batch.lease_until > now:
            raise Retry((batch.lease_until - now).total_seconds() + 1, "held by another worker")
        batch.lease_until = now + timedelta(seconds=LEASE_SECONDS)
        batch.attempts += 1
        batch.save(update_fields=["lease_until", "attempts"])
        return batch


def _extend_lease(batch: PublishBatch, **fields) -> None:
    fields["lease_until"] = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    PublishBatch.objects.filter(pk=batch.pk).update(**fields)
    for name, value in fields.items():
        setattr(batch, name, value)


def _release(batch: PublishBatch, error: str) -> None:
    PublishBatch.objects.filter(pk=batch.pk).update(lease_until=None, error=error[:2000])


def publish_batch_run(*, batch_id: int) -> str:
    """Send one batch (unless it was sent), wait for the channel's verdict, record it.

    Safe to run any number of times: a done batch is left alone; a sent one is only
    polled; a queued one is sent. Raises Retry when it must continue later.
    """
    batch = _claim(batch_id)
    if batch is None:
        return "done"
    account = batch.plan.account
    items = list(batch.items.select_related("listing").order_by("id"))
    adapter = adapter_for_account(account, **http_options())
    try:
        results = _send_and_wait(adapter, batch, items)
    except (TransientError, RateLimited) as exc:
        _release(batch, str(exc))
        wait = exc.wait if isinstance(exc, RateLimited) else min(300, 5 * 2 ** min(batch.attempts, 6))
        raise Retry(wait + random.uniform(0, 1), str(exc)) from exc
    except AdapterError as exc:
        # The channel refused the whole call (not transient): every item gets the reason.
        error = {"field": "", "code": exc.code or "refused", "message": str(exc)}
        results = {i.item["id"]: ItemResult(item_id=i.item["id"], ok=False, errors=[_Err(**error)]) for i in items}
    finally:
        adapter.close()
    if results is None:
        _release(batch, "")
        raise Retry(1, "the channel is still processing the batch")
    with transaction.atomic():
        locked = PublishBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == PublishBatch.Status.DONE:
            return "done"
        _record_outcomes(items, results)
        locked.status, locked.finished_at, locked.lease_until = PublishBatch.Status.DONE, timezone.now(), None
        locked.save(update_fields=["status", "finished_at", "lease_until"])
        plan = PublishPlan.objects.select_for_update().get(pk=batch.plan_id)
        done = plan.batches.filter(status=PublishBatch.Status.DONE).aggregate(n=Sum("size"))["n"] or 0
        if plan.job_id:
            job_progress(job=Job.objects.get(pk=plan.job_id), done=done)
        if not plan.batches.exclude(status=PublishBatch.Status.DONE).exists():
            _plan_finish(plan)
    return "recorded"


class _Err:
    def __init__(self, message: str, code: str = "", field: str = ""):
        self.message, self.code, self.field = message, code, field


def _send_and_wait(adapter, batch: PublishBatch, items: list[PublishPlanItem]) -> dict[str, ItemResult] | None:
    """{item id: result}, or None if the channel is still processing after the poll budget."""
    if not batch.handle:
        if batch.operation == "upsert":
            answer = adapter.publish_batch([item_from_json(i.item) for i in items])
        else:
            # TikTok deactivates by its product ids; the others delete by our item ids.
            ids = [(i.item.get("channel_item_id") if adapter.channel == "tiktok_shop" else i.item["id"]) for i in items]
            answer = adapter.delete_items([x for x in ids if x])
            if not answer:
                return {i.item["id"]: ItemResult(item_id=i.item["id"], ok=True) for i in items}
        if isinstance(answer, list):  # synchronous channels answer with the verdicts
            return {r.item_id: r for r in answer}
        _extend_lease(batch, handle=answer, status=PublishBatch.Status.SENT)
    sent_ids = [i.item["id"] for i in items]
    deadline = time.monotonic() + POLL_BUDGET_SECONDS
    pause = 0.2
    while True:
        status: BatchStatus = adapter.batch_status(batch.handle, sent_ids=sent_ids)
        if status.done:
            results = {r.item_id: r for r in status.results}
            if status.failed:
                for item_id in sent_ids:
                    results.setdefault(
                        item_id, ItemResult(item_id=item_id, ok=False, errors=[_Err("The channel failed the batch.")])
                    )
            return results
        if time.monotonic() > deadline:
            return None
        _extend_lease(batch)
        time.sleep(pause)
        pause = min(pause * 2, 5)


def _errors_json(errors) -> list[dict]:
    return [{"field": e.field, "code": str(e.code), "message": e.message} for e in errors]


def _record_outcomes(items: list[PublishPlanItem], results: dict[str, ItemResult]) -> None:
    now = timezone.now()
    listings, plan_items = [], []
    for plan_item in items:
        listing = plan_item.listing
        result = results.get(plan_item.item.get("id", listing.item_id))
        if result is None:
            result = ItemResult(
                item_id=listing.item_id, ok=False, errors=[_Err("The channel did not report on this item.")]
            )
        listing.warnings = _errors_json(result.warnings)
        if result.ok and plan_item.action == PublishPlanItem.Action.DELETE:
            listing.status, listing.accepted_hash, listing.accepted_payload = ListingStatus.DELISTED, "", {}
            listing.errors = []
        elif result.ok:
            listing.status = ListingStatus.PUBLISHED
            listing.accepted_hash, listing.accepted_payload = plan_item.payload_hash, plan_item.payload
            listing.published_at, listing.errors = now, []
            if result.channel_item_id:
                listing.channel_item_id = result.channel_item_id[:100]
        else:
            listing.status = ListingStatus.REJECTED
            listing.errors = _errors_json(result.errors)
        listing.updated_at = now
        plan_item.outcome = "accepted" if result.ok else "rejected"
        listings.append(listing)
        plan_items.append(plan_item)
    ChannelListing.objects.bulk_update(
        listings,
        ["status", "accepted_hash", "accepted_payload", "published_at", "errors", "warnings", "channel_item_id",
         "updated_at"],
        batch_size=1000,
    )  # fmt: skip
    PublishPlanItem.objects.bulk_update(plan_items, ["outcome"], batch_size=1000)


# --- Recovery and automatic re-plans --------------------------------------------------------------------


def publish_resume_stale() -> int:
    """Platform sweep: re-enqueue unfinished batches whose lease ran out (a dead worker's),
    and batches never started. Runs across shops; the task it enqueues is per shop."""
    from channels.tasks import publish_batch_task
    from shopadmin.tenancy import all_shops_access

    now = timezone.now()
    with all_shops_access():
        stale = list(
            PublishBatch.all_shops.exclude(status=PublishBatch.Status.DONE)
            .filter(lease_until__lt=now)
            .values_list("shop_id", "id")
        )
        # Queued and never claimed for a while: its message was lost with the broker.
        stale += list(
            PublishBatch.all_shops.filter(
                status=PublishBatch.Status.QUEUED,
                lease_until__isnull=True,
                plan__applied_at__lt=now - timedelta(seconds=LEASE_SECONDS),
            ).values_list("shop_id", "id")
        )
    for shop_id, batch_id in stale:
        publish_batch_task.delay(shop_id, batch_id)
    return len(stale)


def replan_request(*, shop_id: int, account_ids: list[int] | None = None) -> int:
    """Ask for an automatic re-plan after a quiet spell: each request moves the deadline,
    and only the task carrying the newest request does the work (trailing debounce)."""
    from channels.tasks import replan_task

    accounts = ChannelAccount.objects.filter(is_active=True)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    count = 0
    for account in accounts:
        settings_ = listing_settings_for(account)
        token = timezone.now()
        ListingSettings.objects.filter(pk=settings_.pk).update(replan_requested_at=token)
        replan_task.apply_async((shop_id, account.pk, token.isoformat()), countdown=REPLAN_DEBOUNCE_SECONDS)
        count += 1
    return count


def replan_run(*, account_id: int, token: str) -> PublishPlan | None:
    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    settings_ = listing_settings_for(account)
    if settings_.replan_requested_at is None or settings_.replan_requested_at.isoformat() != token:
        return None  # a newer request is waiting out its own debounce
    plan = publish_plan_create(account=account, automatic=True)
    if settings_.auto_apply and (plan.creates or plan.updates or plan.deletes):
        publish_plan_apply(plan=plan)
    return plan
