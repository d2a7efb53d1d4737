"""The buyer's address of a chat draft, as the merchant page and the API hand it out."""

from __future__ import annotations

from django.urls import reverse


def chat_draft_url(request, shop, draft) -> str:
    """The draft's public page, absolute (the request's host: the link is pasted into a chat)."""
    return request.build_absolute_uri(reverse("storefront:chat-draft", args=[shop.slug, draft.token]))
