"""Celery entry points of the catalog: CSV import check and commit. They take ids and call csvio."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils.translation import gettext as _

from catalog import csvio
from shopadmin.models import Job
from shopadmin.services import job_finish, job_progress
from shopadmin.tasks import tenant_task


def _read(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return handle.read().decode("utf-8-sig")


@tenant_task(name="catalog.import_check", atomic=False)
def import_check_task(shop_id: int, job_id: int) -> None:
    """Check every row of an uploaded file; the result is the preview (no writes)."""
    job = Job.objects.get(pk=job_id)
    try:
        text = _read(job.result["file"])
    except UnicodeDecodeError:
        job_finish(
            job=job, result=job.result, error=_("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload again.")
        )
        return
    job_progress(job=job, done=0, total=1)
    plan = csvio.plan_import(text, progress=lambda done, total: job_progress(job=job, done=done, total=total))
    job_finish(job=job, result={**job.result, **plan.summary()})


@tenant_task(name="catalog.import_commit", atomic=False)
def import_commit_task(shop_id: int, job_id: int) -> None:
    """Write a checked file: all rows in one transaction, or none."""
    job = Job.objects.get(pk=job_id)
    job_progress(job=job, done=0, total=4)
    try:
        # The commit is one transaction: these progress rows commit with it, so job_progress
        # also publishes to the cache, where the import page sees each step as it happens.
        result = csvio.commit_import(
            _read(job.result["file"]), progress=lambda done, total: job_progress(job=job, done=done, total=total)
        )
    except ValidationError as exc:
        job_finish(job=job, result=job.result, error=" ".join(exc.messages))
        return
    except IntegrityError:
        job_finish(
            job=job,
            result=job.result,
            error=_(
                "The catalog changed while importing (a SKU or handle was just taken); nothing was imported. "
                "Upload the file again to check it."
            ),
        )
        return
    job_finish(job=job, result={**job.result, **result, "committed": True})
