from django.urls import path

from channels import webhook_views

urlpatterns = [
    path("<str:channel>/<str:key>/", webhook_views.receive, name="channels-webhook"),
]
