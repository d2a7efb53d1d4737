"""Every write of the tenancy core: shops, members, invitations, API keys, jobs.

Each service is keyword-only, runs in one transaction, validates with full_clean, writes
the audit log and schedules side effects on commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shopadmin.audit import audit_record, diff, snapshot
from shopadmin.errors import ShopErrorCode
from shopadmin.models import ApiKey, ApiScope, Invitation, Job, Membership, Shop, User
from shopadmin.roles import Perm, Role
from shopadmin.signals import shop_created, shop_updated
from shopadmin.tenancy import all_shops_access, shop_context
from shopadmin.words import Words

SHOP_EDITABLE_FIELDS = ("name", "default_currency", "default_language", "country", "timezone")
INVITATION_LIFETIME = dt.timedelta(days=7)
# Published progress outlives any job; the key is read only while the job is unfinished.
JOB_PROGRESS_CACHE_SECONDS = 24 * 3600

logger = logging.getLogger(__name__)


# --- Shops --------------------------------------------------------------------------------


@transaction.atomic
def shop_create(
    *,
    name: str,
    slug: str,
    currency: str,
    country: str,
    language: str = "en",
    timezone_name: str = "UTC",
    owner: User | None = None,
) -> Shop:
    shop = Shop(
        name=name,
        slug=slug,
        default_currency=(currency or "").upper(),
        country=(country or "").upper(),
        default_language=language,
        timezone=timezone_name,
    )
    shop.full_clean()
    shop.save()
    with shop_context(shop):
        audit_record(action="shop.create", instance=shop, changes=snapshot(shop, SHOP_EDITABLE_FIELDS))
        if owner is not None:
            membership = Membership(shop=shop, user=owner, role=Role.OWNER)
            membership.full_clean()
            membership.save()
            audit_record(
                action="membership.create",
                instance=membership,
                shop_id=shop.pk,
                changes={"user": [None, owner.email], "role": [None, Role.OWNER]},
            )
        shop_created.send(sender=Shop, shop=shop)
    return shop


@transaction.atomic
def shop_update(*, shop: Shop, **fields) -> Shop:
    unknown = set(fields) - set(SHOP_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    # Diff against the stored row: a ModelForm has already copied its input onto `shop`.
    before = snapshot(Shop.objects.select_for_update().get(pk=shop.pk), SHOP_EDITABLE_FIELDS)
    for name, value in fields.items():
        if name in ("default_currency", "country") and isinstance(value, str):
            value = value.upper()
        setattr(shop, name, value)
    shop.full_clean()
    shop.save(update_fields=[*fields.keys()])
    changes = diff(before, snapshot(shop, SHOP_EDITABLE_FIELDS))
    if changes:
        with shop_context(shop):
            audit_record(action="shop.update", instance=shop, changes=changes)
        transaction.on_commit(lambda: shop_updated.send(sender=Shop, shop=shop, changes=changes))
    return shop


# --- Members ------------------------------------------------------------------------------


def _require_role_authority(*, acting: Membership, role: str) -> None:
    if not acting.has_perm(Perm.SHOP_MEMBERS):
        raise PermissionDenied(_("Your role cannot manage members."))
    if role == Role.OWNER and not acting.has_perm(Perm.SHOP_OWNERS):
        raise PermissionDenied(_("Only an owner can grant, change or remove the owner role."))


def _ensure_an_owner_remains(membership: Membership) -> None:
    owners = Membership.objects.filter(shop_id=membership.shop_id, role=Role.OWNER)
    if membership.role == Role.OWNER and not owners.exclude(pk=membership.pk).exists():
        raise ValidationError(
            _("A shop needs at least one owner; make someone else owner first."), code=ShopErrorCode.LAST_OWNER
        )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, acting: Membership) -> Membership:
    if role not in Role.values:
        raise ValidationError(
            {"role": ValidationError(_("Choose one of: %s.") % ", ".join(Role.values), code=ShopErrorCode.UNKNOWN_ROLE)}
        )
    _require_role_authority(acting=acting, role=membership.role)
    _require_role_authority(acting=acting, role=role)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if role != Role.OWNER:
        _ensure_an_owner_remains(membership)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if old != role:
        audit_record(
            action="membership.change_role",
            instance=membership,
            shop_id=membership.shop_id,
            changes={"role": [old, role]},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, acting: Membership) -> None:
    if membership.pk != acting.pk:
        _require_role_authority(acting=acting, role=membership.role)
    _ensure_an_owner_remains(membership)
    audit_record(
        action="membership.remove",
        instance=membership,
        shop_id=membership.shop_id,
        changes={"user": [membership.user.email, None], "role": [membership.role, None]},
    )
    membership.delete()


@transaction.atomic
def invitation_create(*, shop: Shop, email: str, role: str, acting: Membership) -> tuple[Invitation, str]:
    """Invite a teammate; returns the invitation and the accept URL (also emailed)."""
    _require_role_authority(acting=acting, role=role)
    email = (email or "").strip().lower()
    if Membership.objects.filter(shop=shop, user__email=email).exists():
        raise ValidationError(
            {
                "email": ValidationError(
                    _("%(email)s is already a member of this shop.") % {"email": email},
                    code=ShopErrorCode.ALREADY_MEMBER,
                )
            }
        )
    with shop_context(shop):
        if Invitation.objects.filter(email=email, accepted_at=None, revoked_at=None).exists():
            raise ValidationError(
                {
                    "email": ValidationError(
                        _("%(email)s already has an open invitation.") % {"email": email},
                        code=ShopErrorCode.INVITATION_PENDING,
                    )
                }
            )
        token = secrets.token_urlsafe(32)
        invitation = Invitation(
            shop=shop,
            email=email,
            role=role,
            token_hash=Invitation.hash_token(token),
            invited_by=acting.user,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        invitation.full_clean()
        invitation.save()
        audit_record(
            action="invitation.create",
            instance=invitation,
            changes={"email": [None, email], "role": [None, role]},
        )
    url = settings.SITE_URL + reverse("invitation-accept", args=[token])
    inviter = acting.user.display_name
    transaction.on_commit(
        lambda: send_mail(
            subject=_("You are invited to %(shop)s on Shopadmin") % {"shop": shop.name},
            message=_("%(inviter)s invited you to join %(shop)s as %(role)s.\n\nAccept within 7 days: %(url)s\n")
            % {"inviter": inviter, "shop": shop.name, "role": Role(role).label, "url": url},
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation, url


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, acting: Membership) -> None:
    _require_role_authority(acting=acting, role=invitation.role)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action="invitation.revoke", instance=invitation)


def invitation_find(*, token: str) -> Invitation | None:
    """Resolve an invitation token. Platform lookup: the invitee is not a member yet."""
    with all_shops_access():
        return Invitation.all_shops.select_related("shop").filter(token_hash=Invitation.hash_token(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_find(token=token)
    if invitation is None or not invitation.is_open:
        raise ValidationError(
            _("This invitation is no longer valid. Ask for a new one."), code=ShopErrorCode.INVITATION_INVALID
        )
    if invitation.email != user.email.lower():
        raise ValidationError(
            _("This invitation was sent to %(email)s; sign in with that address to accept it.")
            % {"email": invitation.email},
            code=ShopErrorCode.INVITATION_EMAIL_MISMATCH,
        )
    with shop_context(invitation.shop_id):
        membership, created = Membership.objects.get_or_create(
            shop_id=invitation.shop_id, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(action="invitation.accept", instance=invitation)
        if created:
            audit_record(
                action="membership.create",
                instance=membership,
                shop_id=invitation.shop_id,
                changes={"user": [None, user.email], "role": [None, membership.role]},
            )
    return membership


# --- API keys -----------------------------------------------------------------------------


@transaction.atomic
def api_key_create(
    *, shop: Shop, name: str, scopes: Iterable[str], created_by: User | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is shown once and never stored."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in ApiScope.values]
    if unknown:
        raise ValidationError(
            {
                "scopes": ValidationError(
                    _("Unknown scopes: %(bad)s. Choose from: %(all)s.")
                    % {"bad": ", ".join(unknown), "all": ", ".join(ApiScope.values)},
                    code=ShopErrorCode.UNKNOWN_SCOPE,
                )
            }
        )
    if not scopes:
        raise ValidationError(
            {"scopes": ValidationError(_("Choose at least one scope."), code=ShopErrorCode.SCOPE_REQUIRED)}
        )
    with shop_context(shop):
        if ApiKey.objects.filter(name=name).exists():
            raise ValidationError(
                {
                    "name": ValidationError(
                        _("A key named “%(name)s” exists already.") % {"name": name},
                        code=ShopErrorCode.API_KEY_NAME_TAKEN,
                    )
                }
            )
        key, prefix, key_hash = ApiKey.generate()
        api_key = ApiKey(
            shop=shop,
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            scopes=scopes,
            created_by=created_by,
        )
        api_key.full_clean()
        api_key.save()
        audit_record(action="api_key.create", instance=api_key, changes={"scopes": [None, scopes]})
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(action="api_key.revoke", instance=api_key)
    return api_key


# --- Jobs ---------------------------------------------------------------------------------


def job_create(*, kind: str, label: str | Words = "", total: int = 0, created_by: User | None = None) -> Job:
    """A job to follow. A label given as `Words` is shown in the reader's language (`Job.title`)."""
    job = Job(kind=kind, total=total, created_by=created_by)
    if isinstance(label, Words):
        job.label_words = label.as_data()
        with translation.override("en"):
            label = str(label)
    job.label = label[:200]
    job.save()
    return job


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    """Record progress in its own short write, so the UI sees it while the job runs."""
    fields = {"done": done, "status": Job.Status.RUNNING}
    if total is not None:
        fields["total"] = total
    if job.started_at is None:
        job.started_at = fields["started_at"] = timezone.now()
    Job.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)
    # A job that writes all-or-nothing (a CSV import commit) runs inside one transaction, so
    # the row update above stays invisible until it commits. The cache sits outside any
    # transaction and is shared by web and workers (Redis in production): job_status reads it.
    try:
        cache.set(job_progress_cache_key(job.pk), {"done": job.done, "total": job.total}, JOB_PROGRESS_CACHE_SECONDS)
    except Exception:  # a progress bar is not worth failing the job over
        logger.warning("could not publish progress of job %s to the cache", job.pk, exc_info=True)


def job_progress_cache_key(job_id: int) -> str:
    return f"shopadmin:job-progress:{job_id}"


def job_finish(*, job: Job, result: dict | None = None, error: str = "") -> None:
    job.status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    job.result = result or {}
    job.error = error
    job.finished_at = timezone.now()
    if not error and job.total:
        job.done = job.total
    job.save(update_fields=["status", "result", "error", "finished_at", "done"])
