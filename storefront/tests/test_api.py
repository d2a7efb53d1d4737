"""/api/v1/storefront-settings/ and /api/v1/chat-orders/: the merchant pages' checks and services
through the API, problem+json refusals, and alice/bob/charlie isolation."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import api_client_for
from orders.models import Order
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import shop_context
from storefront.models import ChatDraft, StorefrontSettings

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/storefront-settings/"
CHAT = "/api/v1/chat-orders/"
ORDER = {
    "source": "whatsapp",
    "items": [{"sku": "AL-TEE-S", "quantity": 2}, {"sku": "AL:MUG:BLUE", "quantity": 1}],
    "name": "Rahim Uddin",
    "phone": "+1 415 555 0100",
    "address": {"country": "US", "line1": "1 Market St", "city": "San Francisco", "region": "CA", "postcode": "94105"},
    "payment_method": "cod",
}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:2000]
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def field_codes(response, status: int = 400) -> dict[str, str]:
    body = problem(response, status)
    assert body["code"] == "validation_error"
    return {e["field"]: e["code"] for e in body["errors"]}


def make_draft(api, **overrides) -> dict:
    response = api.post(CHAT, {**ORDER, **overrides}, format="json")
    assert response.status_code == 201, response.content.decode()[:2000]
    body = response.json()
    assert body["mode"] == "draft" and body["order"] is None
    return body["draft"]


# --- Storefront settings --------------------------------------------------------------------


def test_settings_read_the_defaults_then_change_them(api_a, shop_a):
    body = api_a.get(SETTINGS).json()
    assert body["published"] is True and body["cod_enabled"] is True and body["bank_transfer_enabled"] is False
    assert body["home_url"].endswith("/s/alice/") and body["checkout_url"].endswith("/s/alice/checkout/")
    response = api_a.patch(
        SETTINGS,
        {
            "bank_transfer_enabled": True,
            "bank_transfer_instructions": "IBAN …",
            "messenger_page": "https://m.me/alice/",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["bank_transfer_enabled"] is True and response.json()["messenger_page"] == "alice"
    with shop_context(shop_a):
        stored = StorefrontSettings.objects.get()
        assert stored.bank_transfer_enabled and stored.cod_enabled
        entry = AuditLogEntry.objects.get(action="storefront_settings.update")
        assert entry.door == "api" and entry.actor_api_key_id is not None


def test_put_replaces_and_fields_left_out_take_their_defaults(api_a, shop_a):
    api_a.patch(
        SETTINGS, {"contact_phone": "+1 415", "cod_enabled": False, "bank_transfer_enabled": True}, format="json"
    )
    response = api_a.put(SETTINGS, {"mobile_money_enabled": True, "cod_enabled": False}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mobile_money_enabled"] is True and body["cod_enabled"] is False
    assert body["bank_transfer_enabled"] is False and body["contact_phone"] == ""


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"whatsapp_number": "12"}, "whatsapp_number", "whatsapp_number_invalid"),
        ({"whatsapp_number": "+880 1712 abc"}, "whatsapp_number", "whatsapp_number_invalid"),
        ({"messenger_page": "my page!"}, "messenger_page", "messenger_page_invalid"),
        ({"cod_enabled": False}, "cod_enabled", "no_payment_method"),
        ({"contact_email": "nope"}, "contact_email", "invalid"),
        ({"published": "maybe"}, "published", "invalid"),
        ({"cod_instructions": "x" * 2001}, "cod_instructions", "max_length"),
        ({"whatsapp_number": None}, "whatsapp_number", "null"),
    ],
)
def test_settings_refusals_are_problem_json_and_change_nothing(api_a, shop_a, change, field, code):
    response = api_a.patch(SETTINGS, change, format="json")
    assert field_codes(response)[field] == code
    with shop_context(shop_a):
        assert not StorefrontSettings.objects.exists()


def test_settings_refuse_a_body_that_is_not_an_object(api_a):
    assert problem(api_a.patch(SETTINGS, [1, 2], format="json"), 400)["code"] == "validation_error"
    assert problem(api_a.put(SETTINGS, "x", format="json"), 400)["code"] == "validation_error"


def test_settings_need_the_channels_scopes(shop_a):
    orders_only = api_client_for(shop_a, scopes=["orders:read", "orders:write"], name="orders")
    assert problem(orders_only.get(SETTINGS), 403)["code"] == "missing_scope"
    reader = api_client_for(shop_a, scopes=["channels:read"], name="reader")
    assert reader.get(SETTINGS).status_code == 200
    assert problem(reader.patch(SETTINGS, {"published": False}, format="json"), 403)["code"] == "missing_scope"
    assert problem(Client().get(SETTINGS), 401)["code"] == "not_authenticated"


def test_each_key_reads_and_changes_only_its_own_shops_settings(api_a, api_b, shop_a, shop_b):
    assert (
        api_a.patch(SETTINGS, {"published": False, "contact_email": "a@alice.test"}, format="json").status_code == 200
    )
    charlie = api_b.get(SETTINGS).json()
    assert charlie["published"] is True and charlie["contact_email"] == ""
    assert charlie["home_url"].endswith("/s/charlie/")
    assert api_b.patch(SETTINGS, {"contact_email": "c@charlie.test"}, format="json").status_code == 200
    with shop_context(shop_a):
        assert StorefrontSettings.objects.get().contact_email == "a@alice.test"
    with shop_context(shop_b):
        assert StorefrontSettings.objects.get().contact_email == "c@charlie.test"
    assert api_a.get(SETTINGS).json()["contact_email"] == "a@alice.test"


# --- Chat orders ----------------------------------------------------------------------------


def test_a_draft_made_through_the_api_is_confirmed_by_the_buyer(api_a, shop_a, store_a):
    draft = make_draft(api_a, source="instagram")
    assert draft["status"] == "open" and draft["order"] is None
    assert draft["items"] == [{"sku": "AL-TEE-S", "quantity": 2}, {"sku": "AL:MUG:BLUE", "quantity": 1}]
    assert draft["market"] == store_a["home"].pk and draft["email"] is None
    assert draft["address"]["line1"] == "1 Market St" and draft["address"]["country"] == "US"
    url = draft["confirmation_url"]
    assert url.startswith("http://testserver/s/alice/d/")
    with shop_context(shop_a):
        assert not Order.objects.exists()
        assert AuditLogEntry.objects.filter(action="chat_draft.create", object_id=str(draft["id"])).exists()
    path = url.removeprefix("http://testserver")
    buyer = Client()
    assert "Confirm order" in buyer.get(path).content.decode()
    response = buyer.post(path)
    assert response.status_code == 303 and response["Location"].startswith("/s/alice/o/")
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.source == "instagram" and order.channel == "checkout"
    confirmed = api_a.get(f"{CHAT}{draft['id']}/").json()
    assert confirmed["status"] == "confirmed" and confirmed["order"] == order.pk and confirmed["confirmed_at"]
    # The order it made is the orders API's.
    assert api_a.get(f"/api/v1/orders/{order.pk}/").json()["source"] == "instagram"


def test_placing_at_once_answers_with_the_order(api_a, shop_a, store_a):
    response = api_a.post(CHAT, {**ORDER, "mode": "place", "email": "rahim@example.com"}, format="json")
    assert response.status_code == 201, response.content.decode()[:2000]
    body = response.json()
    assert body["mode"] == "place" and body["draft"] is None
    order = body["order"]
    assert order["channel"] == "checkout" and order["source"] == "whatsapp"
    assert sorted((ln["sku"], ln["quantity"]) for ln in order["lines"]) == [("AL-TEE-S", 2), ("AL:MUG:BLUE", 1)]
    assert response["Location"] == f"/api/v1/orders/{order['id']}/"
    with shop_context(shop_a):
        assert Order.objects.get().buyer_email == "rahim@example.com"
        assert not ChatDraft.objects.exists()


def test_the_same_sku_twice_adds_up_and_the_country_defaults_to_the_markets(api_a, store_a):
    address = {k: v for k, v in ORDER["address"].items() if k != "country"}
    draft = make_draft(
        api_a, items=[{"sku": "AL-TEE-S", "quantity": 1}, {"sku": "AL-TEE-S", "quantity": 2}], address=address
    )
    assert draft["items"] == [{"sku": "AL-TEE-S", "quantity": 3}] and draft["address"]["country"] == "US"


def test_an_idempotent_retry_makes_one_draft(api_a, shop_a, store_a):
    first = api_a.post(CHAT, ORDER, format="json", HTTP_IDEMPOTENCY_KEY="chat-1")
    again = api_a.post(CHAT, ORDER, format="json", HTTP_IDEMPOTENCY_KEY="chat-1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    with shop_context(shop_a):
        assert ChatDraft.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"items": [{"sku": "NOPE-1", "quantity": 1}]}, "items", "chat_items_invalid"),
        (
            {"items": [{"sku": "AL-TEE-S", "quantity": 600}, {"sku": "AL-TEE-S", "quantity": 600}]},
            "items",
            "chat_items_invalid",
        ),
        ({"items": [{"sku": "AL-TEE-S", "quantity": 0}]}, "items.0.quantity", "min_value"),
        ({"items": [{"sku": "AL-TEE-S", "quantity": "two"}]}, "items.0.quantity", "invalid"),
        ({"items": []}, "items", "empty"),
        ({"items": "AL-TEE-S:1"}, "items", "not_a_list"),
        ({"phone": "call me"}, "phone", "phone_invalid"),
        ({"phone": ""}, "phone", "blank"),
        ({"payment_method": "bank_transfer"}, "payment_method", "invalid_choice"),
        ({"payment_method": "cheque"}, "payment_method", "invalid_choice"),
        ({"market": 999999}, "market", "invalid_choice"),
        ({"source": "telegram"}, "source", "invalid_choice"),
        ({"mode": "later"}, "mode", "invalid_choice"),
        ({"address": {"country": "FR", "line1": "1 rue", "city": "Paris"}}, "address.country", "invalid_choice"),
        (
            {"address": {"country": "US", "city": "San Francisco", "region": "CA", "postcode": "94105"}},
            "address.line1",
            "required",
        ),
        ({"address": {**ORDER["address"], "postcode": "ABC"}}, "address.postcode", "postcode_invalid"),
        ({"address": "1 Market St"}, "address", "invalid"),
        ({"email": "nope"}, "email", "invalid"),
    ],
)
@pytest.mark.parametrize("mode", ["draft", "place"])
def test_bad_input_is_refused_as_problem_json(api_a, shop_a, store_a, change, field, code, mode):
    response = api_a.post(CHAT, {**ORDER, "mode": mode, **change}, format="json")
    codes = field_codes(response)
    assert codes.get(field) == code, codes
    with shop_context(shop_a):
        assert not ChatDraft.objects.exists() and not Order.objects.exists()


def test_short_stock_is_refused_when_placing_at_once(api_a, shop_a, store_a):
    response = api_a.post(
        CHAT, {**ORDER, "mode": "place", "items": [{"sku": "AL-TEE-M", "quantity": 5}]}, format="json"
    )
    body = problem(response, 400)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("items", "out_of_stock")]
    assert "Only 3 of AL Tee (M)" in body["errors"][0]["message"]
    with shop_context(shop_a):
        assert not Order.objects.exists()


def test_a_cancelled_draft_cannot_be_confirmed(api_a, shop_a, store_a):
    draft = make_draft(api_a)
    response = api_a.post(f"{CHAT}{draft['id']}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["cancelled_at"]
    assert api_a.post(f"{CHAT}{draft['id']}/cancel/").json()["status"] == "cancelled"  # again: no change
    path = draft["confirmation_url"].removeprefix("http://testserver")
    buyer = Client()
    page = buyer.get(path)
    assert page.status_code == 410 and page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    assert "This order was cancelled" in html and "cannot be confirmed" in html and "Confirm order" not in html
    posted = buyer.post(path)
    assert posted.status_code == 410 and "This order was cancelled" in posted.content.decode()
    with shop_context(shop_a):
        assert not Order.objects.exists()
        assert AuditLogEntry.objects.filter(action="chat_draft.cancel", object_id=str(draft["id"])).exists()


def test_a_confirmed_draft_cannot_be_cancelled(api_a, shop_a, store_a):
    draft = make_draft(api_a)
    Client().post(draft["confirmation_url"].removeprefix("http://testserver"))
    codes = field_codes(api_a.post(f"{CHAT}{draft['id']}/cancel/"))
    assert codes == {"status": "chat_draft_confirmed"}
    assert api_a.get(f"{CHAT}{draft['id']}/").json()["status"] == "confirmed"


def test_the_list_filters_by_status_as_the_link_behaves(api_a, shop_a, store_a):
    import datetime as dt

    from django.utils import timezone

    open_one, cancelled, expired = make_draft(api_a), make_draft(api_a), make_draft(api_a)
    api_a.post(f"{CHAT}{cancelled['id']}/cancel/")
    with shop_context(shop_a):
        ChatDraft.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    def ids(query=""):
        return [d["id"] for d in api_a.get(f"{CHAT}{query}").json()["results"]]

    assert sorted(ids()) == sorted([open_one["id"], cancelled["id"], expired["id"]])
    assert ids("?status=open") == [open_one["id"]]
    assert ids("?status=cancelled") == [cancelled["id"]]
    assert ids("?status=expired") == [expired["id"]]
    assert api_a.get(f"{CHAT}{expired['id']}/").json()["status"] == "expired"
    assert field_codes(api_a.get(f"{CHAT}?status=nope"))["status"] == "invalid_choice"


def test_chat_orders_need_the_orders_scopes(shop_a, store_a):
    channels_only = api_client_for(shop_a, scopes=["channels:read", "channels:write"], name="channels")
    assert problem(channels_only.get(CHAT), 403)["code"] == "missing_scope"
    reader = api_client_for(shop_a, scopes=["orders:read"], name="reader")
    assert reader.get(CHAT).status_code == 200
    assert problem(reader.post(CHAT, ORDER, format="json"), 403)["code"] == "missing_scope"


def test_charlie_never_sees_or_cancels_alices_drafts(api_a, api_b, shop_a, shop_b, store_a, store_b):
    draft = make_draft(api_a)
    assert api_b.get(CHAT).json()["results"] == []
    assert problem(api_b.get(f"{CHAT}{draft['id']}/"), 404)["code"] == "not_found"
    assert problem(api_b.post(f"{CHAT}{draft['id']}/cancel/"), 404)["code"] == "not_found"
    # Charlie's own draft, with his SKUs; alice's SKUs are unknown to his key.
    codes = field_codes(
        api_b.post(
            CHAT,
            {**ORDER, "address": {"country": "FR", "line1": "1 rue", "postcode": "75001", "city": "Paris"}},
            format="json",
        )
    )
    assert codes["items"] == "chat_items_invalid"
    mine = make_draft(
        api_b,
        items=[{"sku": "CH-TEE-S", "quantity": 1}],
        address={"country": "FR", "line1": "1 rue", "postcode": "75001", "city": "Paris"},
    )
    assert [d["id"] for d in api_b.get(CHAT).json()["results"]] == [mine["id"]]
    assert [d["id"] for d in api_a.get(CHAT).json()["results"]] == [draft["id"]]
    assert problem(api_a.post(f"{CHAT}{mine['id']}/cancel/"), 404)["code"] == "not_found"
    with shop_context(shop_a):
        assert ChatDraft.objects.get().status == ChatDraft.Status.OPEN
    with shop_context(shop_b):
        assert ChatDraft.objects.get().status == ChatDraft.Status.OPEN
    # The link of alice's draft is not a page of charlie's shop.
    token = draft["confirmation_url"].rstrip("/").rsplit("/", 1)[-1]
    assert Client().get(f"/s/charlie/d/{token}/").status_code == 404
