"""The merchant's storefront settings and orders taken in chat, under /app/<shop>/storefront/."""

from django.urls import path

from storefront import merchant_views

app_name = "storefront_app"

urlpatterns = [
    path("", merchant_views.storefront_settings, name="settings"),
    path("chat-order/", merchant_views.chat_order, name="chat-order"),
    path("chat-order/drafts/", merchant_views.chat_drafts, name="chat-drafts"),
    path("chat-order/drafts/<int:pk>/", merchant_views.chat_draft, name="chat-draft"),
    path("chat-order/drafts/<int:pk>/cancel/", merchant_views.chat_draft_cancel, name="chat-draft-cancel"),
]
