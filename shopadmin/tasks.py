"""Celery entry points of the tenancy core, and the base every tenant task uses.

A tenant task takes the shop id as its first argument; the base sets the shop context
(and so the row-level security variables) and runs the task body in one transaction.
"""

from __future__ import annotations

import csv
import io

from celery import Task, shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door, Job
from shopadmin.tenancy import all_shops_access, shop_context


class TenantTask(Task):
    """Runs `run(shop_id, ...)` inside the shop's context and one transaction; acked late."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    # Run the body in its own transaction; long jobs that report progress opt out.
    atomic = True

    def __call__(self, shop_id, *args, **kwargs):
        with (
            shop_context(int(shop_id)),
            acting_as(Actor(door=Door.TASK, label=f"task {self.name}")),
        ):
            if self.atomic:
                with transaction.atomic():
                    return self.run(shop_id, *args, **kwargs)
            return self.run(shop_id, *args, **kwargs)


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
    writer = csv.writer(buffer)
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
