"""Discount codes through every door: the merchant's pages (alice, bob, a viewer, charlie), the
order page, the API (scopes, problem+json, charlie's key) and the staff admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import PASSWORD, api_client_for
from orders.discounts import discount_quote, discount_redeem
from orders.models import DiscountCode
from orders.services.discounts import discount_code_create
from orders.services.ingest import order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door, Membership, User
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def make_code(shop, text="SUMMER10", **fields) -> DiscountCode:
    fields = {"kind": "percentage", "value": "10", **fields}
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        return discount_code_create(shop=shop, code=text, **fields)


def redeem(shop, text="SUMMER10", order=None):
    with shop_context(shop):
        quote = discount_quote(code=text, subtotal=Decimal("49.90"), currency=shop.default_currency)
        return discount_redeem(quote=quote, order=order)


@pytest.fixture
def alices_code(shop_a):
    return make_code(shop_a, usage_limit=10)


@pytest.fixture
def viewer_client(client, shop_a):
    viewer = User.objects.create_user(email="vera@example.com", password=PASSWORD)
    with shop_context(shop_a):
        Membership.objects.create(shop=shop_a, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    return client


def url(name, *args, slug="alice"):
    return reverse(f"orders:{name}", args=[slug, *args])


FORM = {
    "code": "EID-10",
    "kind": "percentage",
    "value": "10",
    "minimum_subtotal": "",
    "usage_limit": "",
    "starts_at": "",
    "ends_at": "",
    "is_active": "on",
}


# --- The merchant's pages -------------------------------------------------------------------------


def test_the_list_shows_uses_against_the_limit_and_the_state(alice_client, shop_a, alices_code):
    make_code(shop_a, "FIVE", kind="fixed", value="5", is_active=False)
    redeem(shop_a)
    redeem(shop_a)
    page = alice_client.get(url("discount-code-list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "SUMMER10" in html and "2 / 10" in html and "10%" in html
    assert "FIVE" in html and "$5.00" in html and "Inactive" in html
    assert url("discount-code-create") in html
    # In the shop's menu, next to Orders, marked as the current page.
    assert f'<a href="{url("discount-code-list")}" aria-current="page">' in html
    searched = alice_client.get(url("discount-code-list") + "?q=fiv").content.decode()
    assert "FIVE" in searched and "SUMMER10" not in searched


def test_bob_creates_a_code_typed_in_bengali_digits(client, bob, shop_a):
    bob.language = "bn"
    bob.save(update_fields=["language"])
    client.force_login(bob)
    form = {**FORM, "value": "১২.৫", "usage_limit": "১০০", "minimum_subtotal": "২৫", "ends_at": "2027-01-31T23:59"}
    response = client.post(url("discount-code-create"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    with shop_context(shop_a):
        made = DiscountCode.objects.get()
        entry = AuditLogEntry.objects.get(action="discount_code.create")
    assert (made.code, made.value, made.usage_limit, made.minimum_subtotal) == (
        "EID-10",
        Decimal("12.5"),
        100,
        Decimal("25"),
    )
    assert made.ends_at is not None and made.ends_at.year == 2027
    assert entry.door == Door.UI and entry.actor_user == bob
    # The form shows the stored amounts back in Bengali digits.
    page = client.get(url("discount-code-edit", made.pk)).content.decode()
    assert 'value="১২.৫০"' in page


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(alice_client, shop_a, alices_code):
    taken = alice_client.post(url("discount-code-create"), {**FORM, "code": "summer10", "value": "15"})
    assert taken.status_code == 400
    html = taken.content.decode()
    assert "The shop has a code “summer10” already" in html and 'value="summer10"' in html
    too_much = alice_client.post(url("discount-code-create"), {**FORM, "value": "150"})
    assert too_much.status_code == 400 and "A percentage is at most 100." in too_much.content.decode()
    garbage = alice_client.post(url("discount-code-create"), {**FORM, "code": "EID 10", "value": "ten"})
    assert garbage.status_code == 400
    html = garbage.content.decode()
    assert "Enter a number" in html and "letters, digits" in html
    backwards = alice_client.post(
        url("discount-code-create"), {**FORM, "starts_at": "2027-02-01T00:00", "ends_at": "2027-01-01T00:00"}
    )
    assert backwards.status_code == 400 and "The end must be after the start." in backwards.content.decode()
    with shop_context(shop_a):
        assert list(DiscountCode.objects.values_list("code", flat=True)) == ["SUMMER10"]


def test_alice_edits_and_deactivates_a_code(alice_client, shop_a, alices_code):
    page = alice_client.get(url("discount-code-edit", alices_code.pk))
    assert page.status_code == 200 and 'value="SUMMER10"' in page.content.decode()
    changed = alice_client.post(
        url("discount-code-edit", alices_code.pk), {**FORM, "code": "SUMMER10", "kind": "fixed", "value": "7.50"}
    )
    assert changed.status_code == 302
    done = alice_client.post(url("discount-code-deactivate", alices_code.pk))
    assert done.status_code == 302
    with shop_context(shop_a):
        alices_code.refresh_from_db()
        actions = list(
            AuditLogEntry.objects.filter(model="orders.DiscountCode").order_by("id").values_list("action", flat=True)
        )
    assert (alices_code.kind, alices_code.value, alices_code.is_active) == ("fixed", Decimal("7.5"), False)
    assert actions == ["discount_code.create", "discount_code.update", "discount_code.update"]


def test_a_viewer_reads_and_changes_nothing(viewer_client, shop_a, alices_code):
    page = viewer_client.get(url("discount-code-list"))
    assert page.status_code == 200 and "SUMMER10" in page.content.decode()
    assert url("discount-code-create") not in page.content.decode()
    assert viewer_client.get(url("discount-code-create")).status_code == 403
    assert viewer_client.get(url("discount-code-edit", alices_code.pk)).status_code == 403
    assert viewer_client.post(url("discount-code-create"), FORM).status_code == 403
    assert viewer_client.post(url("discount-code-deactivate", alices_code.pk)).status_code == 403
    with shop_context(shop_a):
        assert DiscountCode.objects.get().is_active


def test_charlie_never_sees_alices_codes(charlie_client, shop_a, shop_b, alices_code):
    make_code(shop_b, "CHARLIE5", kind="fixed", value="5")
    for address in (url("discount-code-list"), url("discount-code-edit", alices_code.pk)):
        assert charlie_client.get(address).status_code == 404, address
    assert charlie_client.post(url("discount-code-deactivate", alices_code.pk)).status_code == 404
    # Alice's code's id in charlie's own shop is no code of his.
    assert charlie_client.get(url("discount-code-edit", alices_code.pk, slug="charlie")).status_code == 404
    assert charlie_client.post(url("discount-code-deactivate", alices_code.pk, slug="charlie")).status_code == 404
    own = charlie_client.get(url("discount-code-list", slug="charlie")).content.decode()
    assert "CHARLIE5" in own and "SUMMER10" not in own
    # Nor through the staff admin, which is for staff only.
    admin_list = charlie_client.get(reverse("admin:orders_discountcode_changelist"))
    assert admin_list.status_code == 302 and "/admin/login/" in admin_list.url
    # The same code text in charlie's shop is his own, whatever alice has.
    created = charlie_client.post(url("discount-code-create", slug="charlie"), {**FORM, "code": "summer10"})
    assert created.status_code == 302
    with shop_context(shop_a):
        alices_code.refresh_from_db()
        assert alices_code.is_active and DiscountCode.objects.count() == 1


def test_the_order_page_shows_the_code_the_order_used(alice_client, shop_a, meta_account, alices_code):
    stocked_variant(shop_a, on_hand=5)
    with shop_context(shop_a):
        order, _created = order_import(account=meta_account, data=channel_order("D-7"))
    redeem(shop_a, order=order)
    html = alice_client.get(reverse("orders:order-detail", args=["alice", order.pk])).content.decode()
    assert '<span id="discount-code">' in html and '<code dir="ltr">SUMMER10</code>' in html
    assert "$4.99" in html
    # The API says it too; an order without a code says null.
    api = api_client_for(shop_a, ["orders:read"], name="reader")
    assert api.get(f"/api/v1/orders/{order.pk}/").json()["discount_code"] == "SUMMER10"
    with shop_context(shop_a):
        other, _created = order_import(account=meta_account, data=channel_order("D-8"))
    assert api.get(f"/api/v1/orders/{other.pk}/").json()["discount_code"] is None


# --- The API ------------------------------------------------------------------------------------------

API = "/api/v1/discount-codes/"


def test_api_creates_lists_changes_and_deletes(api_a, shop_a):
    created = api_a.post(
        API,
        {"code": "Summer-10", "kind": "percentage", "value": "10", "usage_limit": 5, "minimum_subtotal": "30.00"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["code"] == "Summer-10" and body["state"] == "active" and body["times_used"] == 0
    assert body["value"] == "10.000" and body["minimum_subtotal"] == "30.000"
    listed = api_a.get(API + "?code=SUMMER-10").json()["results"]
    assert [c["id"] for c in listed] == [body["id"]]
    changed = api_a.patch(f"{API}{body['id']}/", {"is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["state"] == "inactive"
    assert api_a.delete(f"{API}{body['id']}/").status_code == 204
    with shop_context(shop_a):
        assert not DiscountCode.objects.exists()
        actions = set(AuditLogEntry.objects.filter(door=Door.API).values_list("action", flat=True))
    assert actions >= {"discount_code.create", "discount_code.update", "discount_code.delete"}


def test_api_refusals_are_problems_with_codes(api_a, shop_a, alices_code):
    def problem(response) -> list[tuple[str, str]]:
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == "application/problem+json"
        return [(e["field"], e["code"]) for e in response.json()["errors"]]

    base = {"kind": "percentage", "value": "10"}
    assert problem(api_a.post(API, {**base, "code": "summer10"}, format="json")) == [("code", "discount_code_taken")]
    assert problem(api_a.post(API, {**base, "code": "A B"}, format="json")) == [("code", "discount_code_invalid")]
    assert problem(api_a.post(API, {**base, "code": "BIG", "value": "101"}, format="json")) == [
        ("value", "discount_value_invalid")
    ]
    assert ("kind", "invalid_choice") in problem(api_a.post(API, {**base, "code": "K", "kind": "x"}, format="json"))
    assert problem(api_a.post(API, {**base, "code": "N", "value": "NaN"}, format="json"))[0][0] == "value"
    assert problem(
        api_a.post(
            API,
            {**base, "code": "D", "starts_at": "2027-02-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"},
            format="json",
        )
    ) == [("ends_at", "discount_dates_invalid")]
    redeem(shop_a)
    assert problem(api_a.patch(f"{API}{alices_code.pk}/", {"usage_limit": 0}, format="json"))[0][0] == "usage_limit"
    assert problem(api_a.delete(f"{API}{alices_code.pk}/")) == [(None, "discount_code_used")]
    assert api_a.get(API + "?kind=bogus").status_code == 400


def test_api_scopes(shop_a, alices_code):
    reader = api_client_for(shop_a, ["orders:read"], name="reader")
    assert reader.get(API).status_code == 200
    assert reader.get(f"{API}{alices_code.pk}/").status_code == 200
    assert reader.post(API, {"code": "X", "kind": "percentage", "value": "5"}, format="json").status_code == 403
    assert reader.patch(f"{API}{alices_code.pk}/", {"is_active": False}, format="json").status_code == 403
    assert reader.delete(f"{API}{alices_code.pk}/").status_code == 403
    catalog_only = api_client_for(shop_a, ["catalog:read"], name="catalog")
    assert catalog_only.get(API).status_code == 403


def test_api_charlie_sees_none_of_alices_codes(api_b, shop_a, alices_code):
    assert api_b.get(API).json()["results"] == []
    assert api_b.get(API + "?code=SUMMER10").json()["results"] == []
    address = f"{API}{alices_code.pk}/"
    assert api_b.get(address).status_code == 404
    assert api_b.patch(address, {"is_active": False}, format="json").status_code == 404
    assert api_b.put(address, {"code": "X", "kind": "fixed", "value": "1"}, format="json").status_code == 404
    assert api_b.delete(address).status_code == 404
    # Charlie may have a SUMMER10 of his own.
    assert api_b.post(API, {"code": "SUMMER10", "kind": "fixed", "value": "2"}, format="json").status_code == 201
    with shop_context(shop_a):
        alices_code.refresh_from_db()
        assert alices_code.is_active and alices_code.kind == "percentage"


# --- The staff admin ------------------------------------------------------------------------------------


def test_staff_see_every_shops_codes_with_the_shop_filter(client, staff, shop_a, shop_b, alices_code):
    charlies = make_code(shop_b, "SUMMER10", kind="fixed", value="3")
    redeem(shop_a)
    client.force_login(staff)
    changelist = reverse("admin:orders_discountcode_changelist")
    listed = client.get(changelist)
    assert listed.status_code == 200
    assert {c.pk for c in listed.context["cl"].result_list} == {alices_code.pk, charlies.pk}
    filtered = client.get(changelist, {"shop__id__exact": shop_b.pk})
    assert [c.pk for c in filtered.context["cl"].result_list] == [charlies.pk]
    assert client.get(reverse("admin:orders_discountcode_change", args=[alices_code.pk])).status_code == 200
    uses = client.get(reverse("admin:orders_discountredemption_changelist"), {"shop__id__exact": shop_a.pk})
    assert uses.status_code == 200 and len(uses.context["cl"].result_list) == 1
