"""/api/v1/: each app contributes its routes from its own api module."""

from django.urls import include, path

from shopadmin.api.views import JobDetailView, ShopDetailView

urlpatterns = [
    path("shop/", ShopDetailView.as_view(), name="api-shop"),
    path("jobs/<int:pk>/", JobDetailView.as_view(), name="api-job"),
    path("", include("catalog.api_urls")),
    path("", include("localization.api_urls")),
    path("", include("channels.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("storefront.api_urls")),
]
