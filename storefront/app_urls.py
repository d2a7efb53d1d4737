"""The merchant's storefront settings, under /app/<shop>/storefront/."""

from django.urls import path

from storefront import merchant_views

app_name = "storefront_app"

urlpatterns = [
    path("", merchant_views.storefront_settings, name="settings"),
]
