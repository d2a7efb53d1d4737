"""Every background job ends succeeded or failed, whatever the task raised (shopadmin.tasks.TenantTask)."""

import pytest
from celery.exceptions import Retry

from shopadmin.models import Job
from shopadmin.services import job_create, job_progress
from shopadmin.tasks import audit_log_export_task, tenant_task
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@tenant_task(name="shopadmin.tests.exploding_job", atomic=False)
def exploding_job_task(shop_id: int, job_id: int, exc_class: str = "ValueError") -> None:
    job = Job.objects.get(pk=job_id)
    job_progress(job=job, done=1, total=3)
    if exc_class == "Retry":
        raise Retry("again later")
    raise {"ValueError": ValueError, "KeyError": KeyError, "MemoryError": MemoryError}[exc_class]("internal detail")


@tenant_task(name="shopadmin.tests.exploding_atomic_job")
def exploding_atomic_job_task(shop_id: int, *, job_id: int) -> None:
    Job.objects.filter(pk=job_id).update(label="changed inside the transaction")
    raise ZeroDivisionError


def _job(shop):
    with shop_context(shop):
        return job_create(kind="test", label="a job")


def _reload(shop, job):
    with shop_context(shop):
        return Job.objects.get(pk=job.pk)


@pytest.mark.parametrize("exc_class", ["ValueError", "KeyError", "MemoryError"])
def test_a_job_whose_task_raises_ends_failed_with_a_message(shop_a, exc_class):
    job = _job(shop_a)
    result = exploding_job_task.apply(args=[shop_a.pk, job.pk, exc_class])
    assert result.failed()
    job = _reload(shop_a, job)
    assert job.status == Job.Status.FAILED and job.is_finished
    assert "unexpected error" in job.error and "internal detail" not in job.error
    assert job.finished_at is not None


def test_job_id_as_a_keyword_and_an_atomic_body_rolled_back(shop_a):
    job = _job(shop_a)
    exploding_atomic_job_task.apply(args=[shop_a.pk], kwargs={"job_id": job.pk})
    job = _reload(shop_a, job)
    assert job.status == Job.Status.FAILED
    assert job.label == "a job"  # the body's writes were rolled back; only the outcome was written


def test_a_retry_is_not_a_failure(shop_a):
    job = _job(shop_a)
    exploding_job_task.apply(args=[shop_a.pk, job.pk, "Retry"])
    assert _reload(shop_a, job).status == Job.Status.RUNNING


def test_a_finished_job_keeps_its_outcome(shop_a, monkeypatch):
    from shopadmin import services

    job = _job(shop_a)
    monkeypatch.setattr(
        "shopadmin.tasks.default_storage.save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    )
    audit_log_export_task.apply(args=[shop_a.pk, job.pk])
    job = _reload(shop_a, job)
    assert job.status == Job.Status.FAILED and "unexpected error" in job.error
    with shop_context(shop_a):
        services.job_finish(job=job, result={"ok": True})
    exploding_atomic_job_task.apply(args=[shop_a.pk], kwargs={"job_id": job.pk})
    assert _reload(shop_a, job).status == Job.Status.SUCCEEDED  # not overwritten


def test_a_task_of_another_shop_cannot_fail_a_job_it_does_not_own(shop_a, shop_b):
    job = _job(shop_a)
    exploding_job_task.apply(args=[shop_b.pk, job.pk])
    assert _reload(shop_a, job).status == Job.Status.QUEUED


def test_a_job_that_finished_with_rejections_never_says_succeeded(alice_client, shop_a):
    with shop_context(shop_a):
        job = job_create(kind="publish", label="Publish to TikTok US", total=156)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.SUCCEEDED, done=156, result={"accepted": 120, "rejected": 36}
        )
    status = alice_client.get(f"/app/alice/jobs/{job.pk}/").json()
    assert status["label"] == "Finished: 120 accepted, 36 rejected"
    home = alice_client.get("/app/alice/").content.decode()
    assert "Finished: 120 accepted, 36 rejected" in home
    assert "Succeeded (156/156)" not in home
