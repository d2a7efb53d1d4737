from django.urls import path

from channels import views

app_name = "channels"

urlpatterns = [
    path("", views.account_list, name="account-list"),
    path("connect/<str:channel>/", views.account_connect, name="account-connect"),
    path("<int:account_id>/", views.account_detail, name="account-detail"),
    path("<int:account_id>/rotate-feed-token/", views.account_rotate_feed_token, name="account-rotate-feed-token"),
    path("<int:account_id>/delete/", views.account_delete, name="account-delete"),
]
