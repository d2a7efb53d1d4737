from django.urls import path

from channels import api

urlpatterns = [
    path("channel-accounts/", api.ChannelAccountListCreate.as_view(), name="api-channel-accounts"),
    path("channel-accounts/<int:pk>/", api.ChannelAccountDetail.as_view(), name="api-channel-account"),
    path(
        "channel-accounts/<int:pk>/rotate-feed-token/",
        api.ChannelAccountRotateFeedToken.as_view(),
        name="api-channel-account-rotate-feed-token",
    ),
]
