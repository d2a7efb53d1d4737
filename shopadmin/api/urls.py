"""/api/v1/: each app contributes its routes from its own api module."""

from django.urls import include, path

from shopadmin.api.views import ShopDetailView

urlpatterns = [
    path("shop/", ShopDetailView.as_view(), name="api-shop"),
    path("", include("catalog.api_urls")),
    path("", include("localization.api_urls")),
    path("", include("channels.api_urls")),
    path("", include("orders.api_urls")),
]
