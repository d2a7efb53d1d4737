"""Inbound webhooks: /webhooks/<channel>/<account-key>/.

Order of work matters: find the account by its key (a platform lookup), then verify the
signature on the raw bytes, and only then parse or store anything. A bad signature gets
401 and writes nothing; a redelivery gets 200 and changes nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.adapters import adapter_for
from channels.credentials import WEBHOOK_CHANNELS
from channels.selectors import account_find_by_webhook_key
from channels.services import webhook_event_record
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

logger = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # webhook bodies are small; refuse anything larger before hashing it


def _not_found():
    # The same answer for an unknown channel and an unknown key: nothing to enumerate.
    return JsonResponse({"error": "unknown webhook"}, status=404)


@csrf_exempt  # channels cannot send a CSRF token; the HMAC signature authenticates them
@require_http_methods(["GET", "POST"])
@transaction.non_atomic_requests
def receive(request, channel: str, key: str):
    if channel not in WEBHOOK_CHANNELS:
        return _not_found()
    # One transaction from the account lookup to the stored event: the answer time is mostly
    # round trips to the database.
    with transaction.atomic():
        return _receive(request, channel, key)


def _receive(request, channel: str, key: str):
    account = account_find_by_webhook_key(channel=channel, key=key)
    if account is None:
        return _not_found()
    with shop_context(account.shop_id), acting_as(Actor(door=Door.WEBHOOK, label=f"webhook {channel}")):
        adapter = adapter_for(account)
        if request.method == "GET":
            challenge = adapter.webhook_handshake(request.GET)
            if challenge is None:
                return HttpResponse("verification failed", status=403, content_type="text/plain")
            return HttpResponse(challenge, content_type="text/plain")

        if len(request.body) > MAX_BODY:
            return JsonResponse({"error": "body too large"}, status=413)
        raw = request.body
        if not adapter.verify_webhook(request.headers, raw):
            logger.warning("webhook signature rejected: channel=%s account=%s", channel, account.pk)
            return JsonResponse({"error": "invalid signature"}, status=401)
        try:
            parsed = adapter.parse_webhook(raw)
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
            return JsonResponse({"error": "body is not a JSON event"}, status=400)
        if not parsed.event_id:
            return JsonResponse({"error": "event has no id"}, status=400)
        event, created = webhook_event_record(
            account=account,
            provider_event_id=parsed.event_id,
            event_type=parsed.event_type,
            raw_body=raw.decode("utf-8", errors="replace"),
        )
    return JsonResponse({"received": True, "duplicate": not created, "id": event.pk})
