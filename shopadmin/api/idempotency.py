"""`Idempotency-Key` on POST: the same key and body replay the first response; no second write.

Retention: records older than IDEMPOTENCY_RETENTION are pruned by a periodic task.
"""

import datetime as dt
import hashlib
import json
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from shopadmin.api.errors import Conflict, ErrorCode
from shopadmin.models import IdempotencyRecord

IDEMPOTENCY_RETENTION = dt.timedelta(hours=24)
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    type={"type": "string", "maxLength": MAX_KEY_LENGTH},
    required=False,
    description=(
        "Any unique string (a UUID is ideal). Retrying with the same key and the same body "
        "returns the first response (with `Idempotent-Replayed: true`) and writes nothing "
        "again; the same key with a different body is a 409. Keys are kept for 24 hours; "
        f"a key longer than {MAX_KEY_LENGTH} characters is a 400."
    ),
)


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _request_hash(request) -> str:
    data = request.data
    if request.FILES:  # an uploaded file counts by its content, not its name
        data = {
            "fields": {k: v for k, v in request.data.items() if k not in request.FILES},
            "files": {name: _file_digest(upload) for name, upload in request.FILES.items()},
        }
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise Conflict(
            f"The Idempotency-Key “{record.key}” was used with a different request.",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
        )
    if record.response_status is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.")
    return Response(
        record.response_body,
        status=record.response_status,
        headers={"Idempotent-Replayed": "true"},
    )


def idempotent(handler):
    """Decorate a DRF view's `create`/`post` (which runs in the request transaction)."""

    @wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            # Stored truncated, a longer key would never be found again: refuse it instead.
            raise ValidationError({HEADER: [f"An Idempotency-Key has at most {MAX_KEY_LENGTH} characters."]})
        request_hash = _request_hash(request)
        existing = IdempotencyRecord.objects.filter(key=key).first()
        if existing is not None:
            return _replay(existing, request_hash)
        try:
            # The placeholder's unique index also serialises two concurrent first tries:
            # the second waits for the first to commit, then replays its response.
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    request_hash=request_hash,
                )
        except IntegrityError:
            return _replay(IdempotencyRecord.objects.get(key=key), request_hash)
        response = handler(self, request, *args, **kwargs)
        record.response_status = response.status_code
        record.response_body = response.data
        record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper


def idempotency_prune(*, older_than: dt.timedelta = IDEMPOTENCY_RETENTION) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
