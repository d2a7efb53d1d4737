from django.urls import path

from channels import feed_views

urlpatterns = [
    path("<str:token>/<str:name>", feed_views.feed, name="channels-feed"),
]
