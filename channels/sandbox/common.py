"""What every simulated channel shares: reading a JSON body and a bearer token."""

from __future__ import annotations

import json
import secrets

from channels.sandbox.models import SandboxAccount


def json_body(request):
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        return None


def bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    return (
        header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.GET.get("access_token", "")
    )


def token_ok(account: SandboxAccount, token: str) -> bool:
    return bool(token) and secrets.compare_digest(account.access_token.encode(), token.encode())
