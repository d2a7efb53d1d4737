import mimetypes

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from shopadmin import i18n, views

admin.site.site_header = "Shopadmin staff"
admin.site.site_title = "Shopadmin staff"
admin.site.index_title = "Platform administration"

shop_patterns = [
    path("", views.shop_home, name="shop-home"),
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/role/", views.member_change_role, name="member-change-role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("settings/", views.shop_settings, name="shop-settings"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("audit-log/", views.audit_log, name="audit-log"),
    path("audit-log/export/", views.audit_log_export, name="audit-log-export"),
    path("jobs/<int:job_id>/", views.job_status, name="job-status"),
    path("catalog/", include("catalog.urls")),
    path("localization/", include("localization.urls")),
    path("channels/", include("channels.urls")),
    path("orders/", include("orders.urls")),
    path("storefront/", include("storefront.app_urls")),
    path("", include("orders.dashboard_urls")),  # the attention list, beside the dashboard on the home
]

urlpatterns = [
    path("", views.root, name="root"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("shopadmin.auth_urls")),
    path("i18n/setlang/", i18n.set_language, name="set_language"),
    path("app/", views.shop_picker, name="shop-picker"),
    path("app/<slug:shop_slug>/", include(shop_patterns)),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("api/v1/", include("shopadmin.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("webhooks/", include("channels.webhook_urls")),
    path("channels/connect/", include("channels.connect_urls")),
    path("feeds/", include("channels.feed_urls")),
    # The shops' public storefronts and checkout (storefront/urls.py).
    path("s/<slug:store>/", include("storefront.urls")),
]


@require_safe
def serve_media(request, path):
    """A stored file (uploaded product images, the demo's pictures), read through the default
    storage at request time: the demo and tests (SERVE_MEDIA). A deployment serves media from
    its web server or object storage instead."""
    try:
        stored = default_storage.open(path, "rb")
    except (OSError, SuspiciousFileOperation) as exc:  # missing, a folder, or outside the media root
        raise Http404 from exc
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(stored, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", serve_media, name="media"))

# The sandbox only where asked for (SANDBOX_ENABLED, which defaults to DEBUG).
if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("channels.sandbox.urls")))

handler404 = "shopadmin.views.not_found"
handler500 = "shopadmin.views.server_error"
