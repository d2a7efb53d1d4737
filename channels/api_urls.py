from django.urls import path

from channels import api, listing_api

urlpatterns = [
    path("channel-accounts/", api.ChannelAccountListCreate.as_view(), name="api-channel-accounts"),
    path("channel-accounts/<int:pk>/", api.ChannelAccountDetail.as_view(), name="api-channel-account"),
    path(
        "channel-accounts/<int:pk>/rotate-feed-token/",
        api.ChannelAccountRotateFeedToken.as_view(),
        name="api-channel-account-rotate-feed-token",
    ),
    path(
        "channel-accounts/<int:pk>/authorize/",
        api.ChannelAccountAuthorize.as_view(),
        name="api-channel-account-authorize",
    ),
    path("channel-connections/", api.ChannelConnectionCreate.as_view(), name="api-channel-connections"),
    path("channel-connections/<int:pk>/", api.ChannelConnectionDetail.as_view(), name="api-channel-connection"),
    path(
        "channel-connections/<int:pk>/choose/",
        api.ChannelConnectionChoose.as_view(),
        name="api-channel-connection-choose",
    ),
    path("listings/", listing_api.ListingList.as_view(), name="api-listings"),
    path("listings/<int:pk>/", listing_api.ListingDetail.as_view(), name="api-listing"),
    path("publish-plans/", listing_api.PublishPlanListCreate.as_view(), name="api-publish-plans"),
    path("publish-plans/<int:pk>/", listing_api.PublishPlanDetail.as_view(), name="api-publish-plan"),
    path("publish-plans/<int:pk>/apply/", listing_api.PublishPlanApply.as_view(), name="api-publish-plan-apply"),
]
