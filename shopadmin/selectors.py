import logging

from django.core.cache import cache

from shopadmin.models import ApiKey, AuditLogEntry, Invitation, Job, Membership, Shop
from shopadmin.services import job_progress_cache_key


def shop_home_summary(*, shop: Shop) -> dict:
    """What the shop home shows of the tenancy core: team, keys, recent activity and jobs."""
    return {
        "member_count": Membership.objects.filter(shop=shop).count(),
        "open_invitations": Invitation.objects.filter(accepted_at=None, revoked_at=None).count(),
        "active_api_keys": ApiKey.objects.filter(revoked_at=None).count(),
        "recent_activity": list(AuditLogEntry.objects.select_related("actor_user")[:10]),
        "recent_jobs": list(Job.objects.all()[:5]),
    }


logger = logging.getLogger(__name__)


def job_merge_live_progress(*, job: Job) -> Job:
    """Fold in progress a running job published to the cache (see services.job_progress).

    Progress made inside a still-open transaction is only there. A finished job's row is
    the truth (a rolled-back import must not claim progress it lost), and a cache outage
    only costs the live numbers.
    """
    if job.is_finished:
        return job
    try:
        published = cache.get(job_progress_cache_key(job.pk)) or {}
    except Exception:
        logger.warning("could not read the progress of job %s from the cache", job.pk, exc_info=True)
        return job
    job.done = max(job.done, published.get("done", 0))
    job.total = max(job.total, published.get("total", 0))
    if published and job.status == Job.Status.QUEUED:
        job.status = Job.Status.RUNNING
    return job
