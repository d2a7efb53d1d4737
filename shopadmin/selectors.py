from shopadmin.models import ApiKey, AuditLogEntry, Invitation, Job, Membership, Shop


def shop_home_summary(*, shop: Shop) -> dict:
    """What the shop home shows of the tenancy core: team, keys, recent activity and jobs."""
    return {
        "member_count": Membership.objects.filter(shop=shop).count(),
        "open_invitations": Invitation.objects.filter(accepted_at=None, revoked_at=None).count(),
        "active_api_keys": ApiKey.objects.filter(revoked_at=None).count(),
        "recent_activity": list(AuditLogEntry.objects.select_related("actor_user")[:10]),
        "recent_jobs": list(Job.objects.all()[:5]),
    }
