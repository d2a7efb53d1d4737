"""The OpenAPI document tells the truth about errors: every operation lists its problem+json answers.

A drf-spectacular postprocessing hook adds, to each operation, the error responses that the
API's shared machinery can give it (authentication, scopes, throttling, input checks), each
as `application/problem+json` with the `Problem` schema. Responses an operation already
declares are kept. The `Problem` schema's description lists every app's domain error codes
(`<app>/errors.py`), the values `errors[].code` takes when a service refuses the input.
"""

from __future__ import annotations

import copy
import enum
import importlib

from django.apps import apps

PROBLEM = "Problem"
PROBLEM_CONTENT_TYPE = "application/problem+json"

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error (RFC 9457). `code` is stable; `errors` lists field errors of a 400.",
    "properties": {
        "type": {"type": "string", "example": "urn:shopadmin:problem:validation_error"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "enum": [
                "validation_error",
                "malformed_json",
                "not_authenticated",
                "authentication_failed",
                "permission_denied",
                "missing_scope",
                "not_found",
                "method_not_allowed",
                "not_acceptable",
                "unsupported_media_type",
                "payload_too_large",
                "throttled",
                "conflict",
                "idempotency_conflict",
                "server_error",
            ],
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {
                        "type": "string",
                        "description": (
                            "A stable, machine-readable code: a domain code (listed per app in the Problem "
                            "description, e.g. `sku_taken`, `refund_exceeds_ordered`) when a service refused "
                            "the input, or the input check's own (`invalid`, `required`, `max_length`, "
                            "`invalid_choice`, …). Act on it; the message is translated and may change."
                        ),
                        "example": "sku_taken",
                    },
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

DESCRIPTIONS = {
    "400": "Invalid input: a field, a query parameter, a cursor, malformed JSON or a NUL character.",
    "401": "No API key, or an unknown or revoked one.",
    "403": "The API key lacks the scope this operation needs.",
    "404": "No such object in this shop.",
    "406": "The Accept header asks for a format the API does not produce.",
    "409": "The request conflicts with the current state, or reuses an Idempotency-Key with another body.",
    "413": "The request body is larger than the server accepts.",
    "415": "The body is not JSON.",
    "429": "Too many requests for this API key; retry after `Retry-After` seconds.",
}

WRITE_METHODS = {"post", "put", "patch"}


def _problem_response(status: str) -> dict:
    return {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}},
    }


def error_statuses(path: str, method: str, operation: dict) -> list[str]:
    statuses = ["400", "401", "403", "406", "429"]
    if "{" in path:
        statuses.append("404")
    if method in WRITE_METHODS or "requestBody" in operation:
        statuses += ["413", "415"]
    if method == "post":
        statuses.append("409")
    return statuses


def domain_error_codes() -> dict[str, type[enum.StrEnum]]:
    """Each app's error-code enum (`<app>/errors.py`, a StrEnum named `…ErrorCode`), by app label.

    Found by name, so this module (below every app) imports none of the apps above it.
    """
    found = {}
    for config in apps.get_app_configs():
        name = f"{config.name}.errors"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, enum.StrEnum)
                and value.__module__ == name
                and value.__name__.endswith("ErrorCode")
            ):
                found[config.label] = value
    return found


def problem_schema() -> dict:
    """The Problem component, its description listing every app's domain codes."""
    schema = copy.deepcopy(PROBLEM_SCHEMA)
    lines = [
        schema["description"],
        "",
        "`errors[].code` is stable and machine-readable. Domain codes, per app (see docs/api.md for what each means):",
        "",
    ]
    for label, codes in domain_error_codes().items():
        lines.append(f"- **{label}** (`{codes.__name__}`): " + ", ".join(f"`{code}`" for code in codes))
    schema["description"] = "\n".join(lines)
    return schema


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: document the problem+json responses of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[PROBLEM] = problem_schema()
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in error_statuses(path, method, operation):
                existing = responses.get(status)
                if existing is None:
                    responses[status] = _problem_response(status)
                elif PROBLEM_CONTENT_TYPE not in existing.get("content", {PROBLEM_CONTENT_TYPE: None}):
                    existing.setdefault("content", {})[PROBLEM_CONTENT_TYPE] = _problem_response(status)["content"][
                        PROBLEM_CONTENT_TYPE
                    ]
    return result
