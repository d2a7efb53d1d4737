from django.urls import path
from rest_framework.routers import SimpleRouter

from storefront import api

router = SimpleRouter()
router.register("chat-orders", api.ChatOrderViewSet, basename="api-chat-order")

urlpatterns = [
    path("storefront-settings/", api.StorefrontSettingsView.as_view(), name="api-storefront-settings"),
    *router.urls,
]
