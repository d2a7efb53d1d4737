"""The automatic re-plan waits for a quiet spell, and a burst of changes costs one message per
account: a flash sale's stock changes do not flood the broker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels import publishing
from channels import tasks as channel_tasks
from channels.listings import listing_settings_for
from channels.models import ListingSettings, PublishPlan
from channels.tests.listing_fixtures import seeded_account
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    messages = []
    monkeypatch.setattr(
        channel_tasks.replan_task, "apply_async", lambda args, countdown: messages.append((args, countdown))
    )
    return messages


def test_a_burst_of_requests_queues_one_message(shop_a, queued):
    account = seeded_account(shop_a, variants=2)
    with shop_context(shop_a):
        for _change in range(50):
            publishing.replan_request(shop_id=shop_a.pk)
        requested = listing_settings_for(account).replan_requested_at
    assert len(queued) == 1
    (shop_id, account_id, _first), countdown = queued[0]
    assert (shop_id, account_id, countdown) == (shop_a.pk, account.pk, publishing.REPLAN_DEBOUNCE_SECONDS)
    assert requested is not None  # the deadline moved with the last request


def test_the_task_waits_out_the_deadline_then_plans_once(shop_a, queued):
    account = seeded_account(shop_a, variants=2)
    with shop_context(shop_a):
        publishing.replan_request(shop_id=shop_a.pk)
        queued.clear()
        # Run early (the last change came just now): nothing planned, one message for the rest.
        assert publishing.replan_run(account_id=account.pk) is None
        [(_args, countdown)] = queued
        assert 0 < countdown <= publishing.REPLAN_DEBOUNCE_SECONDS
        assert not PublishPlan.objects.filter(account=account).exists()
        # Quiet long enough: the plan is made and the request is settled.
        quiet = timezone.now() - timedelta(seconds=publishing.REPLAN_DEBOUNCE_SECONDS + 1)
        ListingSettings.objects.filter(account=account).update(replan_requested_at=quiet)
        plan = publishing.replan_run(account_id=account.pk)
        assert plan is not None and plan.automatic
        assert listing_settings_for(account).replan_requested_at is None
        # A duplicate message finds nothing to do.
        assert publishing.replan_run(account_id=account.pk) is None
    assert len(queued) == 1


def test_a_pending_request_whose_message_was_lost_is_queued_again(shop_a, queued):
    account = seeded_account(shop_a, variants=2)
    with shop_context(shop_a):
        lost = timezone.now() - publishing.REPLAN_LOST_AFTER - timedelta(minutes=1)
        ListingSettings.objects.filter(account=account).update(replan_requested_at=lost)
        publishing.replan_request(shop_id=shop_a.pk)
    assert len(queued) == 1


def test_the_request_of_another_shop_is_not_touched(shop_a, shop_b, queued):
    mine = seeded_account(shop_a, variants=2)
    theirs = seeded_account(shop_b, variants=2)
    with shop_context(shop_a):
        publishing.replan_request(shop_id=shop_a.pk)
    with shop_context(shop_b):
        assert listing_settings_for(theirs).replan_requested_at is None
    assert [args[1] for args, _countdown in queued] == [mine.pk]
