"""The public storefront, under /s/<shop slug>/ (the slug is `store` here: the merchant UI's
middleware checks memberships for a `shop_slug`, and these pages are for anyone)."""

from django.urls import path

from storefront import views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<str:handle>/", views.product, name="product"),
    path("checkout/", views.checkout, name="checkout"),
    path("o/<str:token>/", views.confirmation, name="confirmation"),
    path("d/<str:token>/", views.chat_draft, name="chat-draft"),
]
