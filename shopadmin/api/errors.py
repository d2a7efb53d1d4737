"""API errors as application/problem+json (RFC 9457), each with a stable `code`.

{
  "type": "urn:shopadmin:problem:validation_error",
  "title": "Invalid input.",
  "status": 400,
  "detail": "2 fields are invalid.",
  "code": "validation_error",
  "errors": [{"field": "items.1.hs_code", "code": "invalid", "message": "..."}]
}

`errors[].code` is stable and machine-readable: a domain code from the app's error enum
(`catalog.errors.CatalogErrorCode`, `localization.errors.LocalizationErrorCode`,
`channels.errors.ChannelsErrorCode`, `orders.errors.OrdersErrorCode`,
`shopadmin.errors.ShopErrorCode`) when a service refused the input, or DRF's own code
(`invalid`, `required`, `max_length`, ...) when a serializer did.
"""

from __future__ import annotations

import enum

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import set_rollback

from shopadmin.tenancy import TenantContextError

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ErrorCode(enum.StrEnum):
    VALIDATION_ERROR = "validation_error"
    MALFORMED_JSON = "malformed_json"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    MISSING_SCOPE = "missing_scope"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    THROTTLED = "throttled"
    CONFLICT = "conflict"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    SERVER_ERROR = "server_error"


_TITLES = {
    ErrorCode.VALIDATION_ERROR: "Invalid input.",
    ErrorCode.MALFORMED_JSON: "The request body is not valid JSON.",
    ErrorCode.NOT_AUTHENTICATED: "Authentication required.",
    ErrorCode.AUTHENTICATION_FAILED: "Authentication failed.",
    ErrorCode.PERMISSION_DENIED: "Not allowed.",
    ErrorCode.MISSING_SCOPE: "The API key lacks a scope.",
    ErrorCode.NOT_FOUND: "Not found.",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed.",
    ErrorCode.NOT_ACCEPTABLE: "Not acceptable.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "Unsupported media type.",
    ErrorCode.PAYLOAD_TOO_LARGE: "The request body is too large.",
    ErrorCode.THROTTLED: "Too many requests.",
    ErrorCode.CONFLICT: "Conflict.",
    ErrorCode.IDEMPOTENCY_CONFLICT: "Idempotency key reused with a different request.",
    ErrorCode.SERVER_ERROR: "Server error.",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = ErrorCode.CONFLICT


def problem(code: ErrorCode, status_code: int, detail: str = "", errors=None, headers=None) -> dict:
    body = {
        "type": f"urn:shopadmin:problem:{code}",
        "title": _TITLES[code],
        "status": status_code,
        "detail": detail or _TITLES[code],
        "code": str(code),
    }
    if errors:
        body["errors"] = errors
    return body


def flatten_errors(detail, path: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = path if key in ("non_field_errors", "__all__") else f"{path}.{key}" if path else str(key)
            out.extend(flatten_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [
                {
                    "field": path or None,
                    "code": getattr(item, "code", "invalid"),
                    "message": str(item),
                }
                for item in detail
            ]
        out = []
        for index, item in enumerate(detail):
            if item:
                out.extend(flatten_errors(item, f"{path}.{index}" if path else str(index)))
        return out
    return [{"field": path or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def _code_for(exc: exceptions.APIException) -> ErrorCode:
    if isinstance(exc, exceptions.ValidationError):
        return ErrorCode.VALIDATION_ERROR
    if isinstance(exc, exceptions.ParseError):
        return ErrorCode.MALFORMED_JSON
    if isinstance(exc, exceptions.NotAuthenticated):
        return ErrorCode.NOT_AUTHENTICATED
    if isinstance(exc, exceptions.AuthenticationFailed):
        return ErrorCode.AUTHENTICATION_FAILED
    if isinstance(exc, exceptions.PermissionDenied):
        codes = exc.get_codes()
        return ErrorCode.MISSING_SCOPE if codes == "missing_scope" else ErrorCode.PERMISSION_DENIED
    if isinstance(exc, exceptions.NotFound):
        return ErrorCode.NOT_FOUND
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ErrorCode.METHOD_NOT_ALLOWED
    if isinstance(exc, exceptions.NotAcceptable):
        return ErrorCode.NOT_ACCEPTABLE
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ErrorCode.UNSUPPORTED_MEDIA_TYPE
    if isinstance(exc, exceptions.Throttled):
        return ErrorCode.THROTTLED
    try:
        return ErrorCode(exc.get_codes())
    except (ValueError, TypeError):
        return ErrorCode.SERVER_ERROR if exc.status_code >= 500 else ErrorCode.CONFLICT


def _as_api_exception(exc):
    if isinstance(exc, DjangoValidationError):
        # Keeps each error's `code` (a domain code, or "invalid" for an error raised without one).
        return exceptions.ValidationError(get_error_detail(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, TenantContextError):
        return exceptions.NotFound()
    return exc


def problem_exception_handler(exc, context):
    exc = _as_api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500
    code = _code_for(exc)
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        detail = f"{len(errors)} field{'s are' if len(errors) != 1 else ' is'} invalid." if errors else "Invalid input."
    elif isinstance(exc.detail, list | dict):
        detail = "; ".join(e["message"] for e in flatten_errors(exc.detail))
    else:
        detail = str(exc.detail)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    return Response(
        problem(code, exc.status_code, detail, errors),
        status=exc.status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_response(code: ErrorCode, status_code: int, detail: str = "") -> JsonResponse:
    """For plain Django views under /api/ (404 and 500 handlers)."""
    return JsonResponse(problem(code, status_code, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE)
