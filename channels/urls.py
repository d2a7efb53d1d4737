from django.urls import path

from channels import listing_views, views

app_name = "channels"

urlpatterns = [
    path("", views.account_list, name="account-list"),
    path("connect/<str:channel>/", views.account_connect, name="account-connect"),
    path("<int:account_id>/", views.account_detail, name="account-detail"),
    path("<int:account_id>/rotate-feed-token/", views.account_rotate_feed_token, name="account-rotate-feed-token"),
    path("<int:account_id>/delete/", views.account_delete, name="account-delete"),
    path("<int:account_id>/reconnect/", views.account_reconnect, name="account-reconnect"),
    path("connections/<int:connection_id>/", views.connection_detail, name="connection-detail"),
    path("<int:account_id>/listings/", listing_views.listing_list, name="listing-list"),
    path("<int:account_id>/review/", listing_views.plan_create, name="plan-create"),
    path("listings/<int:listing_id>/", listing_views.listing_detail, name="listing-detail"),
    path("plans/<int:plan_id>/", listing_views.plan_detail, name="plan-detail"),
    path("plans/<int:plan_id>/apply/", listing_views.plan_apply, name="plan-apply"),
]
