"""The user's interface language: chosen in the header, remembered on the user.

Django's LocaleMiddleware picks the language from the cookie or the browser before the
user is known; a signed-in user's saved choice then wins here, so it follows them to any
browser or device.
"""

from django.conf import settings
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

SUPPORTED = {code for code, _name in settings.LANGUAGES}


class UserLanguageMiddleware:
    """Activates the signed-in user's saved language (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language in SUPPORTED and language != getattr(request, "LANGUAGE_CODE", None):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


@require_POST
def set_language(request):
    """Django's set_language (cookie and redirect), plus saving the choice on the user."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in SUPPORTED and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response
