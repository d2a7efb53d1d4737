"""Job progress made inside an open transaction is visible to the status endpoint.

An all-or-nothing job (the catalog's CSV import commit) reports progress from inside the
transaction that holds its writes, so the Job row update is invisible to other connections
until it commits. job_progress also publishes to the cache and job_status reports the
greater of the two. The test cache is in-process (LocMemCache), so the writer runs in a
thread of this process, on its own database connection, rather than in a worker.
"""

import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse

from shopadmin.models import Job
from shopadmin.services import job_create, job_progress
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)


def test_progress_inside_an_open_transaction_is_reported(alice_client, shop_a):
    with shop_context(shop_a):
        job = job_create(kind="catalog_import_commit", label="big.csv")
    published, release = threading.Event(), threading.Event()
    failures = []

    def worker():
        try:
            with shop_context(shop_a), transaction.atomic():
                row = Job.objects.get(pk=job.pk)
                job_progress(job=row, done=0, total=4)
                job_progress(job=row, done=3)
                published.set()
                assert release.wait(30)
        except Exception as exc:  # reported to the test thread below
            failures.append(exc)
            published.set()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert published.wait(30) and not failures, failures
        with shop_context(shop_a):
            # The row still says queued with nothing done: the worker has not committed.
            assert Job.objects.values_list("status", "done", "total").get(pk=job.pk) == ("queued", 0, 0)
        body = alice_client.get(reverse("job-status", args=[shop_a.slug, job.pk])).json()
        assert (body["status"], body["done"], body["total"], body["percent"]) == ("running", 3, 4, 75)
    finally:
        release.set()
        thread.join(30)
    assert not failures, failures
    body = alice_client.get(reverse("job-status", args=[shop_a.slug, job.pk])).json()
    assert (body["done"], body["total"]) == (3, 4)


def test_finished_jobs_report_the_database(alice_client, shop_a):
    """A failed all-or-nothing job rolled its progress back; the cache must not claim more."""
    with shop_context(shop_a):
        job = job_create(kind="catalog_import_commit")
        job_progress(job=job, done=3, total=4)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, done=0)
    body = alice_client.get(reverse("job-status", args=[shop_a.slug, job.pk])).json()
    assert (body["status"], body["done"], body["total"]) == ("failed", 0, 4)
