"""Orders taken in chat: the merchant places one at once (the checkout's path, attributed to the
conversation's channel) or makes a draft whose link the buyer confirms, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import StockLevel
from channels.models import Channel
from orders.models import Order
from shopadmin.models import AuditLogEntry, Membership, Role, User
from shopadmin.tenancy import shop_context
from storefront.models import ChatDraft

pytestmark = pytest.mark.django_db

URL = "/app/alice/storefront/chat-order/"
ORDER = {
    "items": "AL-TEE-S:2\nAL:MUG:BLUE:1",
    "source": "whatsapp",
    "name": "Rahim Uddin",
    "phone": "+1 415 555 0100",
    "email": "",
    "country": "US",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postcode": "94105",
    "payment_method": "cod",
}


def _post(client, action, store, **overrides):
    data = {**ORDER, "market": str(store["home"].pk), "action": action, **overrides}
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def _draft(alice_client, store_a, shop_a, **overrides) -> ChatDraft:
    response = _post(alice_client, "draft", store_a, **overrides)
    assert response.status_code == 302, response.content.decode()[:3000]
    with shop_context(shop_a):
        return ChatDraft.objects.get()


def test_the_page_is_linked_from_the_orders_list_and_the_storefront_page(alice_client, store_a):
    assert URL in alice_client.get("/app/alice/orders/").content.decode()
    assert URL in alice_client.get("/app/alice/storefront/").content.decode()
    page = alice_client.get(URL)
    assert page.status_code == 200 and "New order from a chat" in page.content.decode()


def test_search_lists_variants_by_sku_or_title_and_adds_their_quantities(alice_client, store_a):
    html = alice_client.post(URL, {"q": "mug", "action": "search", "name": "Typed"}).content.decode()
    assert 'name="qty:AL:MUG:BLUE"' in html and "AL-TEE-S" not in html
    assert 'value="Typed"' in html  # what was typed stays
    html = alice_client.post(
        URL, {"q": "tee-s", "action": "search", "items": "AL-CAP:1", "qty:AL-TEE-S": "৩"}
    ).content.decode()
    assert "AL-CAP:1\nAL-TEE-S:৩" in html


def test_place_at_once_makes_a_checkout_order_attributed_to_the_chat(alice_client, shop_a, store_a):
    response = _post(alice_client, "place", store_a, items="AL-TEE-S:২")  # native digits
    assert response.status_code == 302, response.content.decode()[:3000]
    with shop_context(shop_a):
        order = Order.objects.get()
        assert response["Location"] == f"/app/alice/orders/{order.pk}/"
        assert order.channel == Channel.CHECKOUT and order.source == "whatsapp"
        assert [(ln.sku, ln.quantity, ln.quantity_allocated) for ln in order.lines.all()] == [("AL-TEE-S", 2, 2)]
        assert StockLevel.objects.get(variant__sku="AL-TEE-S").allocated == 2
        assert order.market_id == store_a["home"].pk and order.buyer_phone == "+1 415 555 0100"
        assert AuditLogEntry.objects.filter(action="checkout.place", object_id=str(order.pk)).exists()
    listing = alice_client.get("/app/alice/orders/?channel=checkout").content.decode()
    assert order.external_id in listing


def test_the_checkout_keeps_its_attribution_for_buyers(client, shop_a, store_a):
    data = {**ORDER, "utm_source": "fb"}
    del data["items"], data["source"]
    assert client.post("/s/alice/checkout/?products=AL-TEE-S:1", data).status_code == 303
    with shop_context(shop_a):
        assert Order.objects.get().source == "facebook"


def test_a_local_number_opens_whatsapps_chat_picker(alice_client, shop_a, store_a):
    """wa.me takes international numbers only: one typed the local way is not guessed at."""
    draft = _draft(alice_client, store_a, shop_a, phone="01712 345678")
    merchant = alice_client.get(f"/app/alice/storefront/chat-order/drafts/{draft.pk}/").content.decode()
    assert "https://wa.me/?text=" in merchant and "wa.me/01712" not in merchant


def test_a_draft_the_buyer_confirms_once(alice_client, shop_a, store_a):
    draft = _draft(alice_client, store_a, shop_a, source="instagram")
    assert draft.status == ChatDraft.Status.OPEN and len(draft.token) >= 30
    assert draft.expires_at > timezone.now() + dt.timedelta(days=6)
    with shop_context(shop_a):
        assert not Order.objects.exists()
        assert AuditLogEntry.objects.filter(action="chat_draft.create", object_id=str(draft.pk)).exists()
    link = f"/s/alice/d/{draft.token}/"
    merchant = alice_client.get(f"/app/alice/storefront/chat-order/drafts/{draft.pk}/").content.decode()
    assert link in merchant and "https://wa.me/14155550100?text=" in merchant
    buyer = Client()
    page = buyer.get(link)
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    assert "AL Tee" in html and "$39.98" in html and "Confirm order" in html
    response = buyer.post(link)
    assert response.status_code == 303 and response["Location"].startswith("/s/alice/o/")
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.source == "instagram" and order.channel == Channel.CHECKOUT
        assert sorted((ln.sku, ln.quantity) for ln in order.lines.all()) == [("AL-TEE-S", 2), ("AL:MUG:BLUE", 1)]
        draft.refresh_from_db()
        assert draft.status == ChatDraft.Status.CONFIRMED and draft.receipt.order_id == order.pk
        assert AuditLogEntry.objects.filter(action="chat_draft.confirm", object_id=str(draft.pk)).exists()
    # A second confirmation shows the order and places nothing.
    again = buyer.post(link)
    assert again.status_code == 200 and order.external_id in again.content.decode()
    assert buyer.get(link).status_code == 200
    with shop_context(shop_a):
        assert Order.objects.count() == 1
        assert StockLevel.objects.get(variant__sku="AL-TEE-S").allocated == 2


def test_an_expired_or_unknown_draft_is_not_found(alice_client, shop_a, store_a):
    draft = _draft(alice_client, store_a, shop_a)
    with shop_context(shop_a):
        ChatDraft.objects.filter(pk=draft.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    buyer = Client()
    assert buyer.get(f"/s/alice/d/{draft.token}/").status_code == 404
    response = buyer.post(f"/s/alice/d/{draft.token}/")
    assert response.status_code == 404 and "Not found" in response.content.decode()
    assert buyer.get("/s/alice/d/not-a-token-of-this-shop-at-all/").status_code == 404
    assert buyer.get("/s/alice/d/x/").status_code == 404
    with shop_context(shop_a):
        assert not Order.objects.exists()


def test_short_stock_is_refused_on_confirm_with_a_clear_message(alice_client, shop_a, store_a):
    draft = _draft(alice_client, store_a, shop_a, items="AL-TEE-M:3")
    from storefront.tests.conftest import stock

    with shop_context(shop_a):
        stock("AL-TEE-M", 1)
    response = Client().post(f"/s/alice/d/{draft.token}/")
    assert response.status_code == 409
    assert "Only 1 of AL Tee (M)" in response.content.decode()
    with shop_context(shop_a):
        assert not Order.objects.exists()
        draft.refresh_from_db()
        assert draft.status == ChatDraft.Status.OPEN


def test_short_stock_is_refused_when_placing_at_once(alice_client, shop_a, store_a):
    response = _post(alice_client, "place", store_a, items="AL-TEE-M:5", name="Karim Typed")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only 3 of AL Tee (M)" in html and 'value="Karim Typed"' in html
    with shop_context(shop_a):
        assert not Order.objects.exists()


def test_charlie_cannot_see_or_confirm_alices_drafts(alice_client, shop_a, shop_b, store_a, store_b, charlie):
    draft = _draft(alice_client, store_a, shop_a)
    charlie_client = Client()
    charlie_client.force_login(charlie)
    assert charlie_client.get(f"/app/charlie/storefront/chat-order/drafts/{draft.pk}/").status_code == 404
    assert charlie_client.get(f"/app/alice/storefront/chat-order/drafts/{draft.pk}/").status_code == 404
    assert charlie_client.get("/app/alice/storefront/chat-order/").status_code == 404
    assert Client().get(f"/s/charlie/d/{draft.token}/").status_code == 404
    assert Client().post(f"/s/charlie/d/{draft.token}/").status_code == 404
    # Charlie's search finds nothing of alice's.
    html = charlie_client.post("/app/charlie/storefront/chat-order/", {"q": "AL", "action": "search"}).content.decode()
    assert "AL-TEE-S" not in html
    with shop_context(shop_a):
        assert not Order.objects.exists()
        assert ChatDraft.objects.get().status == ChatDraft.Status.OPEN


def test_bob_the_editor_may_create_a_viewer_may_not(bob_client, shop_a, store_a):
    assert bob_client.get(URL).status_code == 200
    viewer = User.objects.create_user(email="vera@example.com", password="x-Password-123")
    with shop_context(shop_a):
        Membership.objects.create(shop=shop_a, user=viewer, role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert _post(client, "draft", store_a).status_code == 403
    assert _post(client, "place", store_a).status_code == 403
    with shop_context(shop_a):
        assert not ChatDraft.objects.exists() and not Order.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"items": "NOPE-1:1"}, "There is no variant with the SKU “NOPE-1”."),
        ({"items": "AL-TEE-S:0"}, "the quantity must be a whole number from 1 to 999"),
        ({"items": "AL-TEE-S:-2"}, "the quantity must be a whole number from 1 to 999"),
        ({"items": "AL-TEE-S:99999999999999999999"}, "the quantity must be a whole number from 1 to 999"),
        ({"items": "AL-TEE-S:600,AL-TEE-S:600"}, "at most 999 of one item"),
        ({"items": ""}, "Add at least one item."),
        ({"phone": ""}, "This field is required."),
        ({"phone": "call me"}, "Give a phone number"),
        ({"payment_method": "bank_transfer"}, "Select a valid choice"),
        ({"market": "999999"}, "Select a valid choice"),
        ({"source": "telegram"}, "Select a valid choice"),
    ],
)
@pytest.mark.parametrize("action", ["place", "draft"])
def test_bad_input_gives_field_errors_and_keeps_what_was_typed(
    alice_client, shop_a, store_a, overrides, message, action
):
    response = _post(alice_client, action, store_a, name="Typed Name", **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'value="Typed Name"' in html
    with shop_context(shop_a):
        assert not Order.objects.exists() and not ChatDraft.objects.exists()


# Open drafts: the list, Cancel and Change -----------------------------------------------------

DRAFTS = "/app/alice/storefront/chat-order/drafts/"


def test_open_drafts_are_listed_from_the_storefront_page_with_cancel(alice_client, shop_a, store_a):
    assert DRAFTS in alice_client.get("/app/alice/storefront/").content.decode()
    first = _draft(alice_client, store_a, shop_a, name="Open Buyer")
    html = alice_client.get(DRAFTS).content.decode()
    assert "Open Buyer" in html and f"{DRAFTS}{first.pk}/cancel/" in html
    response = alice_client.post(f"{DRAFTS}{first.pk}/cancel/")
    assert response.status_code == 302 and response["Location"] == DRAFTS
    with shop_context(shop_a):
        first.refresh_from_db()
        assert first.status == ChatDraft.Status.CANCELLED and first.cancelled_at is not None
    assert "Open Buyer" not in alice_client.get(DRAFTS).content.decode()
    merchant = alice_client.get(f"{DRAFTS}{first.pk}/").content.decode()
    assert "Cancelled" in merchant and f"/s/alice/d/{first.token}/" not in merchant
    buyer = Client().post(f"/s/alice/d/{first.token}/")
    assert buyer.status_code == 410 and "This order was cancelled" in buyer.content.decode()
    assert alice_client.get(DRAFTS).status_code == 200
    with shop_context(shop_a):
        assert not Order.objects.exists()
    assert alice_client.get(f"{DRAFTS}").status_code == 200


def test_change_cancels_the_draft_and_fills_in_a_new_order_from_it(alice_client, shop_a, store_a):
    draft = _draft(alice_client, store_a, shop_a, name="Typed Buyer", items="AL-TEE-S:2,AL:MUG:BLUE:1")
    response = alice_client.post(f"{DRAFTS}{draft.pk}/cancel/", {"then": "change"})
    assert response.status_code == 302 and response["Location"] == f"{URL}?from_draft={draft.pk}"
    html = alice_client.get(response["Location"]).content.decode()
    assert 'value="Typed Buyer"' in html and "AL-TEE-S:2\nAL:MUG:BLUE:1" in html and 'value="94105"' in html
    with shop_context(shop_a):
        draft.refresh_from_db()
        assert draft.status == ChatDraft.Status.CANCELLED


def test_a_confirmed_draft_is_not_cancelled(alice_client, shop_a, store_a):
    draft = _draft(alice_client, store_a, shop_a)
    Client().post(f"/s/alice/d/{draft.token}/")
    response = alice_client.post(f"{DRAFTS}{draft.pk}/cancel/", follow=True)
    assert "already confirmed" in response.content.decode()
    with shop_context(shop_a):
        draft.refresh_from_db()
        assert draft.status == ChatDraft.Status.CONFIRMED


def test_charlie_and_a_viewer_cannot_list_or_cancel_alices_drafts(alice_client, shop_a, shop_b, store_a, charlie):
    draft = _draft(alice_client, store_a, shop_a, name="Alice Buyer")
    other = Client()
    other.force_login(charlie)
    assert other.get(DRAFTS).status_code == 404
    assert other.post(f"{DRAFTS}{draft.pk}/cancel/").status_code == 404
    assert other.post(f"/app/charlie/storefront/chat-order/drafts/{draft.pk}/cancel/").status_code == 404
    assert "Alice Buyer" not in other.get("/app/charlie/storefront/chat-order/drafts/").content.decode()
    assert (
        other.get(f"/app/charlie/storefront/chat-order/?from_draft={draft.pk}").content.decode().count("Alice Buyer")
        == 0
    )
    viewer = User.objects.create_user(email="vera@example.com", password="x-Password-123")
    with shop_context(shop_a):
        Membership.objects.create(shop=shop_a, user=viewer, role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.get(DRAFTS).status_code == 403
    assert client.post(f"{DRAFTS}{draft.pk}/cancel/").status_code == 403
    with shop_context(shop_a):
        draft.refresh_from_db()
        assert draft.status == ChatDraft.Status.OPEN


def test_bob_the_editor_lists_and_cancels_the_shops_drafts(alice_client, bob, shop_a, store_a):
    draft = _draft(alice_client, store_a, shop_a, name="Made By Alice")
    client = Client()
    client.force_login(bob)
    assert "Made By Alice" in client.get(DRAFTS).content.decode()
    assert client.post(f"{DRAFTS}{draft.pk}/cancel/").status_code == 302
    with shop_context(shop_a):
        draft.refresh_from_db()
        assert draft.status == ChatDraft.Status.CANCELLED
