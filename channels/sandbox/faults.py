"""Fault injection per sandbox account, set through the control endpoint.

Knobs in `SandboxAccount.faults` (all optional):
- `fail_next`, `rate_limit_next`, `drop_next`, `slow_next`: the next N API calls fail that way
  (deterministic, for tests);
- `error_rate`, `rate_limit_rate`, `drop_rate`, `slow_rate`: a fraction of calls fail that way;
- `retry_after` (seconds, 429 `Retry-After`), `regain_minutes` (Meta
  `estimated_time_to_regain_access`), `slow_seconds` (default 2);
- `reject_fraction`: that fraction of items (chosen by a hash of the item id, so a retry of
  the same item is rejected again, like a real validation error) fail validation;
- `processing_polls`: status polls answering "in progress" before a batch finishes.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import socket
import time

from django.db.models import F
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

from channels.sandbox.models import SandboxAccount

COUNTERS = ("fail_next", "rate_limit_next", "drop_next", "slow_next")
RATES = {"error_rate": "fail", "rate_limit_rate": "rate_limit", "drop_rate": "drop", "slow_rate": "slow"}


def _pick(account: SandboxAccount) -> str | None:
    faults = dict(account.faults or {})
    for counter in COUNTERS:
        if int(faults.get(counter) or 0) > 0:
            faults[counter] = int(faults[counter]) - 1
            SandboxAccount.objects.filter(pk=account.pk).update(faults=faults)
            account.faults = faults
            return counter.removesuffix("_next")
    for rate, kind in RATES.items():
        if float(faults.get(rate) or 0) > 0 and random.random() < float(faults[rate]):
            return kind
    return None


def _socket_of(request):
    """The client's socket: gunicorn exposes it; under Django's own server it sits behind
    wsgi.input (LimitedStream._read → BufferedReader → SocketIO → socket)."""
    sock = request.META.get("gunicorn.socket")
    if sock is not None:
        return sock
    stream = getattr(getattr(request.META.get("wsgi.input"), "_read", None), "__self__", None)
    for attr in ("raw", "_sock"):
        stream = getattr(stream, attr, None)
    return stream if isinstance(stream, socket.socket) else None


def _dropped(request) -> HttpResponse:
    sock = _socket_of(request)
    if sock is not None:
        # Cut the connection before any byte of a response: the client sees a dropped
        # connection (the server's later write fails quietly with a broken pipe).
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return HttpResponse(b"", status=200)

    def body():
        yield b'{"partial": '

    # No socket to cut (another server): send a truncated body, which no client can parse.
    return StreamingHttpResponse(body(), content_type="application/json")


def throttled(account: SandboxAccount) -> HttpResponse:
    """The channel's own answer to too many calls (each simulator's `throttled`)."""
    from channels.sandbox.control import SIMULATORS

    faults = account.faults or {}
    return SIMULATORS[account.channel].throttled(
        retry_after=int(faults.get("retry_after", 1)),
        regain_minutes=int(faults.get("regain_minutes", 0)),
        key=account.key,
    )


def inject(account: SandboxAccount, request) -> HttpResponse | None:
    """A fault response for this call, or None to serve it normally (maybe after a delay)."""
    SandboxAccount.objects.filter(pk=account.pk).update(request_count=F("request_count") + 1)
    kind = _pick(account)
    if kind is None:
        return None
    if kind == "slow":
        time.sleep(float((account.faults or {}).get("slow_seconds", 2)))
        return None
    if kind == "drop":
        return _dropped(request)
    if kind == "rate_limit":
        return throttled(account)
    return JsonResponse({"error": {"message": "sandbox: injected server error", "code": 2}}, status=503)


def rejected(account: SandboxAccount, item_id: str) -> bool:
    fraction = float((account.faults or {}).get("reject_fraction") or 0)
    if fraction <= 0:
        return False
    bucket = int(hashlib.sha256(f"{account.key}:{item_id}".encode()).hexdigest()[:8], 16) % 10000
    return bucket < fraction * 10000
