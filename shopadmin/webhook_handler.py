"""The web processes' WSGI application: Django's handler, with inbound webhooks served by a
handler of their own that runs only the middleware a webhook needs.

A channel's webhook is a signed POST from a machine: no session, no signed-in user, no language
choice, no CSRF token, no page to frame or to give a Content-Security-Policy. During a sale it is
most of what the web processes serve, so those layers are skipped for it. What stays guards the
input (NUL bytes, the body limit), the HTTPS settings, and the tenant context, which every
request starts without and always resets.
"""

from __future__ import annotations

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

WEBHOOK_PREFIX = "/webhooks/"
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shopadmin.inputs.InputGuardMiddleware",
    "shopadmin.middleware.TenantContextMiddleware",
]


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler with `WEBHOOK_MIDDLEWARE` instead of `settings.MIDDLEWARE`
    (synchronous middleware only, which all of these are)."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(WEBHOOK_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class Application:
    """Sends `/webhooks/…` to the webhook handler and everything else to Django's own."""

    def __init__(self, everything_else: WSGIHandler):
        self.everything_else = everything_else
        self.webhooks = WebhookHandler()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
            return self.webhooks(environ, start_response)
        return self.everything_else(environ, start_response)
