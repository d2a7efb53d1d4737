"""Input that can never be valid is refused where it enters, before any view sees it.

PostgreSQL refuses NUL characters in text, so a NUL byte in the path, a query parameter or
a form field would otherwise surface as a server error deep inside a query. Bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE (or with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS) are
refused here too. Under /api/ the answer is application/problem+json (400 or 413); in the
merchant UI a short page says what was wrong.

JSON bodies are checked by the API's parser (shopadmin.api.parsers), which knows their shape.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
# Webhooks verify signatures over the raw body: their forms are not parsed here.
RAW_BODY_PREFIXES = ("/webhooks/", "/sandbox/")
NUL = "\x00"


def has_nul(querydict) -> str | None:
    """The name of the first parameter whose name or a value holds a NUL, else None."""
    for name, values in querydict.lists():
        if NUL in name or any(NUL in value for value in values if isinstance(value, str)):
            return name.replace(NUL, "\\0")
    return None


def _refuse(request, status: int, detail: str, field: str | None = None):
    if request.path_info.startswith(API_PREFIX):
        from shopadmin.api.errors import PROBLEM_CONTENT_TYPE, ErrorCode, problem

        if status == 413:
            body = problem(ErrorCode.PAYLOAD_TOO_LARGE, 413, detail)
        else:
            errors = [{"field": field, "code": "null_character", "message": detail}] if field else None
            body = problem(ErrorCode.VALIDATION_ERROR, 400, detail, errors)
        return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    template = "413.html" if status == 413 else "400.html"
    return render(request, template, {"message": detail}, status=status)


def _too_big_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _("The request is larger than the %(size)s this server accepts.") % {
        "size": f"{limit // 1024} KB" if limit and limit < 1024 * 1024 else f"{(limit or 0) // (1024 * 1024)} MB"
    }


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info:
            return _refuse(request, 400, _("The address contains a NUL character."), field="path")
        name = has_nul(request.GET)
        if name is not None:
            return _refuse(request, 400, _("The parameter “%(name)s” contains a NUL character.") % {"name": name}, name)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.META.get("CONTENT_TYPE", "")
        if limit is not None and not content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return _refuse(request, 413, _too_big_message())
        if (
            request.method == "POST"
            and not request.path_info.startswith(RAW_BODY_PREFIXES)
            and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
        ):
            try:
                name = has_nul(request.POST)
            except RequestDataTooBig:
                return _refuse(request, 413, _too_big_message())
            except TooManyFieldsSent:
                return _refuse(request, 400, _("The form sent more fields than this server accepts."))
            if name is not None:
                return _refuse(request, 400, _("The field “%(name)s” contains a NUL character.") % {"name": name}, name)
        return self.get_response(request)
