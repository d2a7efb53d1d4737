"""A Celery task run by a real worker sees only its own shop's rows."""

import pytest

from shopadmin.models import AuditLogEntry, Job
from shopadmin.services import job_create
from shopadmin.tasks import audit_log_export_task
from shopadmin.tenancy import shop_context
from shopadmin.testing.worker import wait_for

pytestmark = [pytest.mark.worker]


@pytest.mark.django_db(transaction=True)
def test_task_in_a_real_worker_sees_only_its_shop(shop_a, shop_b, live_worker, settings):
    with shop_context(shop_a):
        expected_rows = AuditLogEntry.objects.count()
        job = job_create(kind="audit_log_export", label="export")
    with shop_context(shop_b):
        assert AuditLogEntry.objects.count() > 0, "shop B has rows the task must not see"

    audit_log_export_task.delay(shop_a.pk, job.pk)

    def finished():
        with shop_context(shop_a):
            return Job.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first()

    done = wait_for(finished, timeout=30, message=f"the export did not finish:\n{live_worker.log}")
    assert done.status == "succeeded", done.error
    assert done.result["shops"] == [shop_a.pk]
    assert done.result["rows"] == expected_rows
    with open(f"{settings.MEDIA_ROOT}/{done.result['file']}") as f:
        exported = f.read()
    assert "Alice Apparel" in exported and "Charlie Crafts" not in exported


@pytest.mark.django_db(transaction=True)
def test_task_for_another_shop_cannot_touch_a_job_it_does_not_own(shop_a, shop_b, live_worker):
    with shop_context(shop_a):
        job = job_create(kind="audit_log_export", label="export")
    # Sent with shop B's id, the task cannot even find shop A's job.
    audit_log_export_task.delay(shop_b.pk, job.pk)
    wait_for(
        lambda: (
            "shopadmin.audit_log_export" in live_worker.log
            and ("DoesNotExist" in live_worker.log or "raised" in live_worker.log)
        ),
        timeout=30,
        message=live_worker.log,
    )
    with shop_context(shop_a):
        assert Job.objects.get(pk=job.pk).status == "queued"


@pytest.mark.django_db
def test_idempotency_keys_are_pruned_on_a_schedule_and_only_when_old(shop_a, shop_b):
    import datetime as dt

    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    from shopadmin.models import IdempotencyRecord
    from shopadmin.tasks import prune_idempotency_keys
    from shopadmin.tenancy import all_shops_access

    assert PeriodicTask.objects.get(task="shopadmin.prune_idempotency_keys").enabled
    old = timezone.now() - dt.timedelta(days=2)
    for shop in (shop_a, shop_b):
        with shop_context(shop):
            IdempotencyRecord.objects.create(key="old", method="POST", path="/x", request_hash="h", created_at=old)
            IdempotencyRecord.objects.create(key="new", method="POST", path="/x", request_hash="h")
    assert prune_idempotency_keys.apply().get() == 2
    with all_shops_access():
        assert sorted(IdempotencyRecord.all_shops.values_list("key", flat=True)) == ["new", "new"]
