"""/channels/connect/<channel>/callback/: where a channel's consent page sends the merchant back.
Outside /app/<shop>/ because the URL is registered once with the deployment's app; the
signed `state` names the shop."""

from django.urls import path

from channels import views

urlpatterns = [
    path("<str:channel>/callback/", views.connect_callback, name="channel-connect-callback"),
]
