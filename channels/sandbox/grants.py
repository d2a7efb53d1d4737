"""What every simulated channel's authorisation shares: the consent page a seller approves,
codes, tokens and their lifecycle (SandboxGrant), and the control knobs that expire or
revoke them. Each channel module speaks its own wire format around these."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels.sandbox.common import json_body
from channels.sandbox.models import SandboxAccount, SandboxGrant

CODE_TTL = timedelta(minutes=10)

# The deployment's app as each simulated channel knows it: the app's id and secret are the
# ones registered with the channel (platform settings; see .env.example).
APP_SETTINGS = {
    "meta": ("META_APP_ID", "META_APP_SECRET"),
    "tiktok_shop": ("TIKTOK_SHOP_APP_KEY", "TIKTOK_SHOP_APP_SECRET"),
    "pinterest": ("PINTEREST_APP_ID", "PINTEREST_APP_SECRET"),
}


def app_secret(channel: str, client_id: str) -> str:
    """The secret of the registered app `client_id`, or "" for an app the channel does not know."""
    id_setting, secret_setting = APP_SETTINGS[channel]
    known = getattr(settings, id_setting, "")
    if not known or not client_id or not secrets.compare_digest(known.encode(), client_id.encode()):
        return ""
    return getattr(settings, secret_setting, "")


def new_token(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(24)}"


def issue_code(*, channel: str, client_id: str, seller: str, scope: str = "", redirect_uri: str = "") -> SandboxGrant:
    return SandboxGrant.objects.create(
        channel=channel,
        client_id=client_id,
        seller=seller,
        scope=scope,
        redirect_uri=redirect_uri,
        code=new_token("code-"),
        code_expires_at=timezone.now() + CODE_TTL,
    )


def redeem_code(*, channel: str, client_id: str, code: str) -> tuple[SandboxGrant | None, str]:
    """The grant behind `code`, once: (grant, "") or (None, why: "invalid" | "expired" | "used")."""
    grant = (
        SandboxGrant.objects.select_for_update().filter(channel=channel, client_id=client_id, code=code).first()
        if code
        else None
    )
    if grant is None:
        return None, "invalid"
    if grant.code_used_at is not None:
        # A replayed code: the channels revoke what it gave (OAuth 2.0 Security BCP §4.5).
        grant.revoked_at = grant.revoked_at or timezone.now()
        grant.save(update_fields=["revoked_at"])
        return None, "used"
    if grant.code_expires_at <= timezone.now():
        return None, "expired"
    grant.code_used_at = timezone.now()
    grant.save(update_fields=["code_used_at"])
    return grant, ""


def token_ttl(grant: SandboxGrant, default: timedelta) -> timedelta:
    """The access token lifetime: the channel's, unless a knob on one of the seller's accounts
    (`faults: {"token_ttl": seconds}`) makes it shorter."""
    for faults in SandboxAccount.objects.filter(channel=grant.channel, seller=grant.seller).values_list(
        "faults", flat=True
    ):
        if isinstance(faults, dict) and isinstance(faults.get("token_ttl"), int | float):
            return timedelta(seconds=faults["token_ttl"])
    return default


def issue_tokens(
    grant: SandboxGrant, *, access_ttl: timedelta | None, refresh_ttl: timedelta | None, refresh: bool = True
) -> SandboxGrant:
    """New tokens for `grant` (the old ones stop working); a TTL of None means no expiry."""
    now = timezone.now()
    grant.access_token = new_token("at-")
    grant.access_expires_at = now + token_ttl(grant, access_ttl) if access_ttl is not None else None
    if refresh:
        grant.refresh_token = new_token("rt-")
        grant.refresh_expires_at = now + refresh_ttl if refresh_ttl is not None else None
    grant.save()
    return grant


def grant_by_refresh_token(*, channel: str, client_id: str, refresh_token: str) -> tuple[SandboxGrant | None, str]:
    grant = (
        SandboxGrant.objects.select_for_update()
        .filter(channel=channel, client_id=client_id, refresh_token=refresh_token)
        .first()
        if refresh_token
        else None
    )
    if grant is None or grant.revoked_at is not None:
        return None, "invalid"
    if grant.refresh_expires_at is not None and grant.refresh_expires_at <= timezone.now():
        return None, "expired"
    return grant, ""


def token_state(account: SandboxAccount, token: str) -> str:
    """The state ("ok", "expired" or "invalid") of an access token presented for `account`: the account's
    own token (set through the control endpoint), or one a grant of its seller issued."""
    if not token:
        return "invalid"
    if account.access_token and secrets.compare_digest(account.access_token.encode(), token.encode()):
        return "ok"
    if not account.seller:
        return "invalid"
    grant = SandboxGrant.objects.filter(channel=account.channel, seller=account.seller, access_token=token).first()
    if grant is None or grant.revoked_at is not None:
        return "invalid"
    if grant.access_expires_at is not None and grant.access_expires_at <= timezone.now():
        return "expired"
    return "ok"


def grant_for_token(channel: str, token: str) -> SandboxGrant | None:
    """The live grant that issued `token` (for calls that name no account: shops, ad accounts)."""
    if not token:
        return None
    grant = SandboxGrant.objects.filter(channel=channel, access_token=token, revoked_at__isnull=True).first()
    if grant is None or (grant.access_expires_at is not None and grant.access_expires_at <= timezone.now()):
        return None
    return grant


def seller_accounts(channel: str, seller: str):
    return SandboxAccount.objects.filter(channel=channel, seller=seller).order_by("id")


def consent_page(request, *, channel_label: str, app_label: str, scopes: list[str], hidden: dict, extra=None):
    """The channel's consent page: who is asking, for what, and Allow / Deny. The seller signs
    in by name (the sandbox has no passwords); `extra` adds channel fields (number of shops)."""
    return render(
        request,
        "sandbox/consent.html",
        {
            "channel_label": channel_label,
            "app_label": app_label,
            "scopes": scopes,
            "hidden": hidden,
            "extra": extra or [],
            "seller": request.POST.get("seller") or "sandbox-seller",
        },
    )


# --- Control: expire, revoke -------------------------------------------------------------------

# channel -> called after a revoke or an expiry warning, to tell the app (TikTok's webhooks 6 and 7).
GRANT_NOTIFIERS: dict[str, Callable[[SandboxAccount, str], None]] = {}
GRANT_ACTIONS = ("expire", "expire_refresh", "revoke", "warn_expiry")


@csrf_exempt
@require_POST
def control_grants(request, channel: str, key: str):
    """{"action": "expire" | "expire_refresh" | "revoke" | "warn_expiry"} for the seller of
    account `key`: its access tokens (or refresh tokens) expire now, or every grant is revoked;
    "warn_expiry" only notifies (TikTok's upcoming-expiry webhook)."""
    from channels.sandbox.control import control_allowed

    if not control_allowed(request):
        return JsonResponse({"error": "the sandbox control endpoints need a staff sign-in or the control token"}, 403)
    body = json_body(request)
    if not isinstance(body, dict) or body.get("action") not in GRANT_ACTIONS:
        return JsonResponse({"error": f"action must be one of {', '.join(GRANT_ACTIONS)}"}, status=400)
    account = SandboxAccount.objects.filter(channel=channel, key=key).first()
    if account is None or not account.seller:
        return JsonResponse({"error": "no such sandbox account authorised by a seller"}, status=404)
    action = body["action"]
    now = timezone.now()
    with transaction.atomic():
        grants = SandboxGrant.objects.filter(channel=channel, seller=account.seller, revoked_at__isnull=True)
        if action == "expire":
            changed = grants.update(access_expires_at=now - timedelta(seconds=1))
        elif action == "expire_refresh":
            changed = grants.update(
                access_expires_at=now - timedelta(seconds=1), refresh_expires_at=now - timedelta(seconds=1)
            )
        elif action == "revoke":
            changed = grants.update(revoked_at=now)
        else:
            changed = grants.count()
    notify = GRANT_NOTIFIERS.get(channel)
    if notify is not None and action in ("revoke", "warn_expiry"):
        notify(account, action)
    return JsonResponse({"action": action, "grants": changed})
