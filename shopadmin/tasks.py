"""Celery entry points of the tenancy core, and the base every tenant task uses.

A tenant task takes the shop id as its first argument; the base sets the shop context
(and so the row-level security variables) and runs the task body in one transaction.
"""

from __future__ import annotations

import inspect
import io
import logging

from celery import Task, shared_task
from celery.exceptions import Ignore, Reject, Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door, Job
from shopadmin.spreadsheets import SpreadsheetWriter
from shopadmin.tenancy import all_shops_access, shop_context

logger = logging.getLogger(__name__)

# Exceptions that are how Celery retries or drops a task: the job is not over yet.
_NOT_A_FAILURE = (Retry, Ignore, Reject)


def job_fail_unexpected(job_id: int, exc: BaseException) -> bool:
    """Mark a job that is still queued or running as failed, with a message a merchant understands.

    The exception itself goes to the log (with the job id), not to the merchant.
    """
    message = _(
        "This job stopped because of an unexpected error on our side; nothing more will be done. "
        "You can start it again. If it fails again, contact support and mention job #%(id)s."
    ) % {"id": job_id}
    try:
        updated = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.FAILED, error=message, finished_at=timezone.now()
        )
    except Exception:
        logger.exception("job %s: could not record its failure", job_id)
        return False
    return bool(updated)


def _requested_language(request) -> str | None:
    """The language of whoever queued the task (shopadmin.celery.carry_language); None keeps
    the active one (a task called in-process)."""
    language = getattr(request, "language", None)
    if isinstance(language, str) and translation.check_for_language(language):
        return language
    return translation.get_language()


class TenantTask(Task):
    """Runs `run(shop_id, ...)` inside the shop's context and one transaction; acked late.

    A task whose signature has a `job_id` argument (or that overrides `job_id_for`) owns that
    Job: whatever exception ends the task, the job ends as failed with a message for the
    merchant, never left queued or running. Retries are not failures.
    """

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    # Run the body in its own transaction; long jobs that report progress opt out.
    atomic = True
    job_argument = "job_id"

    def job_id_for(self, shop_id, *args, **kwargs) -> int | None:
        try:
            bound = inspect.signature(self.run).bind_partial(shop_id, *args, **kwargs)
        except TypeError:
            return None
        value = bound.arguments.get(self.job_argument)
        return int(value) if value not in (None, "") else None

    def __call__(self, shop_id, *args, **kwargs):
        with (
            translation.override(_requested_language(self.request)),
            shop_context(int(shop_id)),
            acting_as(Actor(door=Door.TASK, label=f"task {self.name}")),
        ):
            try:
                if self.atomic:
                    with transaction.atomic():
                        return self.run(shop_id, *args, **kwargs)
                return self.run(shop_id, *args, **kwargs)
            except _NOT_A_FAILURE:
                raise
            except Exception as exc:
                job_id = self.job_id_for(shop_id, *args, **kwargs)
                if job_id is not None and job_fail_unexpected(job_id, exc):
                    logger.exception("task %s failed; job %s marked failed", self.name, job_id)
                raise


class PlatformTask(Task):
    """Cross-shop platform work (schedules that fan out per shop). Only enqueues or prunes."""

    abstract = True

    def __call__(self, *args, **kwargs):
        with all_shops_access(), acting_as(Actor(door=Door.SYSTEM, label=f"task {self.name}")):
            return self.run(*args, **kwargs)


def tenant_task(*args, **kwargs):
    """`@tenant_task` — a shared task on the TenantTask base."""
    kwargs.setdefault("base", TenantTask)
    return shared_task(*args, **kwargs)


AUDIT_EXPORT_FIELDS = [
    "created_at",
    "door",
    "actor",
    "action",
    "model",
    "object_id",
    "object",
    "changes",
]


@tenant_task(name="shopadmin.audit_log_export", atomic=False)
def audit_log_export_task(shop_id: int, job_id: int) -> None:
    """Write the shop's audit log to a CSV file that its owners can download."""
    from shopadmin.services import job_finish, job_progress

    job = Job.objects.get(pk=job_id)
    entries = AuditLogEntry.objects.order_by("created_at", "id")
    total = entries.count()
    job_progress(job=job, done=0, total=total)
    buffer = io.StringIO()
    writer = SpreadsheetWriter(buffer)
    writer.writerow(AUDIT_EXPORT_FIELDS)
    shops_seen = set()
    for done, entry in enumerate(entries.iterator(chunk_size=2000), start=1):
        shops_seen.add(entry.shop_id)
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.door,
                entry.actor_label,
                entry.action,
                entry.model,
                entry.object_id,
                entry.object_repr,
                entry.changes,
            ]
        )
        if done % 2000 == 0:
            job_progress(job=job, done=done)
    name = default_storage.save(f"exports/{shop_id}/audit-log-{job_id}.csv", ContentFile(buffer.getvalue().encode()))
    job_finish(job=job, result={"file": name, "rows": total, "shops": sorted(shops_seen)})


@shared_task(name="shopadmin.prune_idempotency_keys", base=PlatformTask)
def prune_idempotency_keys() -> int:
    from shopadmin.api.idempotency import idempotency_prune

    return idempotency_prune()
