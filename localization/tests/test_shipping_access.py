"""Shipping rates through every door: alice (owner), bob (editor), a viewer, charlie (another shop)
in the merchant UI, the API and the staff admin; field errors and native digits in the form;
the API's validation in problem+json."""

from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import api_client_for, login, make_user
from localization import services
from localization.models import Market, ShippingRate
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def europe(shop_a):
    with shop_context(shop_a):
        return services.market_create(
            shop=shop_a, name="Europe", countries=["FR", "DE"], currency="EUR", languages=["fr"]
        )


@pytest.fixture
def courier(shop_a, europe):
    with shop_context(shop_a):
        return services.shipping_rate_create(
            market=europe, name="Alice courier", kind="weight", amount=D("5.00"), per_kg_amount=D("2.00")
        )


@pytest.fixture
def charlie_home(shop_b):
    with shop_context(shop_b):
        return Market.objects.get(is_home=True)


@pytest.fixture
def viewer_client(client, shop_a):
    user = make_user("vera@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=user, role=Role.VIEWER)
    return login(client, user)


def rates_of(shop):
    with shop_context(shop):
        return {r.name: r for r in ShippingRate.objects.all()}


def page(shop, market, *rest):
    names = {0: "localization:shipping-rates", 1: "localization:shipping-rate-edit"}
    if rest and rest[-1] == "delete":
        return reverse("localization:shipping-rate-delete", args=[shop.slug, market.pk, rest[0]])
    return reverse(names[len(rest)], args=[shop.slug, market.pk, *rest])


def form_post(**over):
    data = {
        "name": "Express",
        "kind": "flat",
        "amount": "12.00",
        "per_kg_amount": "",
        "free_over": "",
        "min_weight_grams": "",
        "max_weight_grams": "",
        "position": "0",
        "is_active": "on",
    }
    data.update(over)
    return data


# --- Merchant UI -------------------------------------------------------------------------------


def test_alice_sees_the_rates_on_the_markets_pages(alice_client, shop_a, europe, courier):
    response = alice_client.get(page(shop_a, europe))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alice courier" in body and "€5.00 + €2.00 per kg" in body and "Add shipping rate" in body
    edit = alice_client.get(reverse("localization:market-edit", args=[shop_a.slug, europe.pk])).content.decode()
    assert "Shipping rates" in edit and "Alice courier" in edit
    listing = alice_client.get(reverse("localization:market-list", args=[shop_a.slug])).content.decode()
    assert page(shop_a, europe) in listing


def test_bob_the_editor_adds_edits_and_removes_a_rate(bob_client, shop_a, europe):
    response = bob_client.post(page(shop_a, europe), form_post(kind="free_over", amount="4.00", free_over="50"))
    assert response.status_code == 302
    rate = rates_of(shop_a)["Express"]
    assert (rate.kind, rate.amount, rate.free_over, rate.currency) == ("free_over", D("4.00"), D("50"), "EUR")
    edit = page(shop_a, europe, rate.pk)
    form = bob_client.get(edit)
    assert form.status_code == 200 and 'name="amount" value="4"' in form.content.decode()  # not 4.0000
    response = bob_client.post(edit, form_post(name="Express 24h", amount="14.50", max_weight_grams="5000"))
    assert response.status_code == 302
    rate = rates_of(shop_a)["Express 24h"]
    assert (rate.kind, rate.amount, rate.free_over, rate.max_weight_grams) == ("flat", D("14.50"), None, 5000)
    assert bob_client.post(page(shop_a, europe, rate.pk, "delete")).status_code == 302
    assert rates_of(shop_a) == {}


def test_the_form_reads_native_digits(bob_client, shop_a, europe):
    data = form_post(
        kind="weight", amount="৫.৫০", per_kg_amount="১.২৫", min_weight_grams="১০০", max_weight_grams="২০০০০"
    )
    response = bob_client.post(page(shop_a, europe), data, HTTP_ACCEPT_LANGUAGE="bn")
    assert response.status_code == 302
    rate = rates_of(shop_a)["Express"]
    assert (rate.amount, rate.per_kg_amount, rate.min_weight_grams, rate.max_weight_grams) == (
        D("5.50"),
        D("1.25"),
        100,
        20000,
    )
    # Arabic-Indic digits (Urdu) and a French decimal comma read the same way.
    response = bob_client.post(
        page(shop_a, europe, rate.pk), form_post(amount="۷٫۵۰", position="۳"), HTTP_ACCEPT_LANGUAGE="ur"
    )
    assert response.status_code == 302
    response = bob_client.post(page(shop_a, europe, rate.pk), form_post(amount="8,25"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302
    assert rates_of(shop_a)["Express"].amount == D("8.25")


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"amount": "-1"}, "amount", "greater than or equal to 0"),
        ({"amount": "abc"}, "amount", "Enter a number"),
        ({"amount": "4.555"}, "amount", "EUR amounts are in steps of 0.01"),
        ({"kind": "weight"}, "per_kg_amount", "needs its amount per kg"),
        ({"kind": "free_over"}, "free_over", "from which basket subtotal"),
        ({"min_weight_grams": "2001", "max_weight_grams": "2000"}, "max_weight_grams", "at least the minimum"),
        ({"min_weight_grams": "-5"}, "min_weight_grams", "greater than or equal to 0"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_bad_input_is_a_field_error_and_keeps_what_was_typed(bob_client, shop_a, europe, over, field, message):
    response = bob_client.post(page(shop_a, europe), form_post(**over))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors and message in " ".join(form.errors[field])
    assert form.data["amount"] == form_post(**over)["amount"]  # nothing typed is lost
    assert rates_of(shop_a) == {}


def test_a_viewer_reads_but_cannot_change(viewer_client, shop_a, europe, courier):
    response = viewer_client.get(page(shop_a, europe))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alice courier" in body and "Add shipping rate" not in body
    assert page(shop_a, europe, courier.pk) not in body  # no edit link, no remove button
    assert viewer_client.post(page(shop_a, europe), form_post()).status_code == 403
    assert viewer_client.get(page(shop_a, europe, courier.pk)).status_code == 403
    assert viewer_client.post(page(shop_a, europe, courier.pk), form_post()).status_code == 403
    assert viewer_client.post(page(shop_a, europe, courier.pk, "delete")).status_code == 403
    assert list(rates_of(shop_a)) == ["Alice courier"]


def test_charlie_never_sees_or_touches_alices_rates(charlie_client, shop_a, shop_b, europe, courier, charlie_home):
    for url in (page(shop_a, europe), page(shop_a, europe, courier.pk)):
        assert charlie_client.get(url).status_code == 404
    assert charlie_client.post(page(shop_a, europe), form_post()).status_code == 404
    assert charlie_client.post(page(shop_a, europe, courier.pk, "delete")).status_code == 404
    # Alice's ids under charlie's own shop: not found either.
    assert charlie_client.get(page(shop_b, europe)).status_code == 404
    assert charlie_client.get(page(shop_b, charlie_home, courier.pk)).status_code == 404
    assert charlie_client.post(page(shop_b, charlie_home, courier.pk), form_post()).status_code == 404
    assert charlie_client.post(page(shop_b, charlie_home, courier.pk, "delete")).status_code == 404
    own = charlie_client.get(page(shop_b, charlie_home)).content.decode()
    assert "Alice courier" not in own
    calculator = charlie_client.get(reverse("localization:calculator", args=[shop_b.slug])).content.decode()
    assert "Alice courier" not in calculator
    assert list(rates_of(shop_a)) == ["Alice courier"] and rates_of(shop_b) == {}


def test_a_rate_id_from_another_market_is_not_found(alice_client, shop_a, europe, courier):
    with shop_context(shop_a):
        home = Market.objects.get(is_home=True)
    assert alice_client.get(page(shop_a, home, courier.pk)).status_code == 404


# --- API ---------------------------------------------------------------------------------------

URL = "/api/v1/shipping-rates/"


def codes(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_the_api_lists_creates_reads_changes_and_deletes(api_a, shop_a, europe, courier):
    with shop_context(shop_a):
        home = Market.objects.get(is_home=True)
    created = api_a.post(
        URL,
        {"market": home.pk, "name": "USPS", "kind": "free_over", "amount": "6.00", "free_over": "75"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["market"], body["currency"], body["amount"], body["free_over"], body["is_current"]) == (
        home.pk,
        "USD",
        "6.0000",
        "75.0000",
        True,
    )
    listed = api_a.get(URL).json()["results"]
    assert {r["name"] for r in listed} == {"USPS", "Alice courier"}
    only = api_a.get(URL, {"market": europe.pk}).json()["results"]
    assert [r["name"] for r in only] == ["Alice courier"]
    assert api_a.get(f"{URL}{courier.pk}/").json()["per_kg_amount"] == "2.0000"
    changed = api_a.patch(f"{URL}{courier.pk}/", {"max_weight_grams": 30000, "position": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["max_weight_grams"] == 30000
    moved = api_a.patch(f"{URL}{body['id']}/", {"market": europe.pk}, format="json")
    assert moved.status_code == 200 and moved.json()["currency"] == "EUR"
    assert api_a.delete(f"{URL}{courier.pk}/").status_code == 204
    assert set(rates_of(shop_a)) == {"USPS"}


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_a_bad_market_filter_is_a_400(api_a, value):
    response = api_a.get(URL, {"market": value})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


def test_charlie_gets_nothing_of_alices(api_b, shop_a, europe, courier):
    assert api_b.get(URL).json()["results"] == []
    assert api_b.get(URL, {"market": europe.pk}).json()["results"] == []
    assert api_b.get(f"{URL}{courier.pk}/").status_code == 404
    assert api_b.patch(f"{URL}{courier.pk}/", {"amount": "0"}, format="json").status_code == 404
    assert api_b.delete(f"{URL}{courier.pk}/").status_code == 404
    response = api_b.post(URL, {"market": europe.pk, "name": "Mine now", "kind": "flat", "amount": "1"}, format="json")
    assert codes(response) == {"market": "market_not_found"}
    assert list(rates_of(shop_a)) == ["Alice courier"]
    assert rates_of(shop_a)["Alice courier"].amount == D("5.00")


def test_scopes_are_those_of_the_markets(shop_a, europe, courier):
    reader = api_client_for(shop_a, scopes=["localization:read"], name="reader")
    assert reader.get(URL).status_code == 200
    assert reader.post(URL, {"market": europe.pk, "name": "X", "amount": "1"}, format="json").status_code == 403
    assert reader.delete(f"{URL}{courier.pk}/").status_code == 403
    stranger = api_client_for(shop_a, scopes=["catalog:read"], name="catalog only")
    assert stranger.get(URL).status_code == 403


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"kind": "flat", "amount": "-0.01"}, {"amount": "min_value"}),
        ({"kind": "weight", "amount": "5", "per_kg_amount": "-2"}, {"per_kg_amount": "min_value"}),
        ({"kind": "free_over", "amount": "5", "free_over": "-1"}, {"free_over": "min_value"}),
        ({"kind": "weight", "amount": "5"}, {"per_kg_amount": "shipping_per_kg_required"}),
        ({"kind": "free_over", "amount": "5"}, {"free_over": "shipping_threshold_required"}),
        (
            {"kind": "flat", "amount": "5", "min_weight_grams": 1000, "max_weight_grams": 999},
            {"max_weight_grams": "shipping_weight_band_invalid"},
        ),
        ({"kind": "flat", "amount": "5.001"}, {"amount": "price_not_in_minor_units"}),
        ({"kind": "flat", "amount": "5", "min_weight_grams": -1}, {"min_weight_grams": "min_value"}),
        ({"kind": "flat", "amount": "5", "position": 2**40}, {"position": "max_value"}),
        ({"kind": "flat", "amount": "abc"}, {"amount": "invalid"}),
        ({"kind": "by_magic", "amount": "5"}, {"kind": "invalid_choice"}),
        ({"kind": "flat", "amount": "5", "market": 2**62}, {"market": "market_not_found"}),
    ],
)
def test_the_api_refuses_bad_rates_with_a_code(api_a, shop_a, europe, payload, expected):
    response = api_a.post(URL, {"market": europe.pk, "name": "Rate", **payload}, format="json")
    assert codes(response) == expected
    assert rates_of(shop_a) == {}


def test_a_patch_that_breaks_the_weight_band_is_refused(api_a, shop_a, courier):
    api_a.patch(f"{URL}{courier.pk}/", {"min_weight_grams": 500}, format="json")
    response = api_a.patch(f"{URL}{courier.pk}/", {"max_weight_grams": 499}, format="json")
    assert codes(response) == {"max_weight_grams": "shipping_weight_band_invalid"}
    assert rates_of(shop_a)["Alice courier"].max_weight_grams is None


# --- Staff admin -------------------------------------------------------------------------------


def test_staff_see_every_shops_rates_with_a_shop_filter(client, staff, shop_a, shop_b, courier, charlie_home):
    with shop_context(shop_b):
        services.shipping_rate_create(market=charlie_home, name="Colissimo", kind="flat", amount=D("4.90"))
    client.force_login(staff)
    url = reverse("admin:localization_shippingrate_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert {r.name for r in response.context["cl"].result_list} == {"Alice courier", "Colissimo"}
    filtered = client.get(url, {"shop__id__exact": shop_b.pk})
    assert [r.name for r in filtered.context["cl"].result_list] == ["Colissimo"]
    assert "4,90" in filtered.content.decode() or "4.90" in filtered.content.decode()


def test_staff_add_a_rate_whose_shop_and_currency_follow_the_market(client, staff, shop_a, shop_b, europe, courier):
    client.force_login(staff)
    add = reverse("admin:localization_shippingrate_add")
    data = {
        "market": europe.pk,
        "name": "Staff rate",
        "kind": "flat",
        "amount": "3.00",
        "position": "0",
        "is_active": "on",
    }
    response = client.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rate = rates_of(shop_a)["Staff rate"]
    assert (rate.shop_id, rate.currency) == (shop_a.pk, "EUR")
    # A rate never moves to another shop's market.
    with shop_context(shop_b):
        charlie_market = Market.objects.get(is_home=True)
    change = reverse("admin:localization_shippingrate_change", args=[courier.pk])
    response = client.post(change, {**data, "name": "Alice courier", "market": charlie_market.pk})
    assert response.status_code == 200 and "market" in response.context["adminform"].form.errors
    assert rates_of(shop_a)["Alice courier"].market_id == europe.pk
    # Minor units and bands are checked as in the services.
    response = client.post(add, {**data, "amount": "3.001"})
    assert response.status_code == 200 and "amount" in response.context["adminform"].form.errors


def test_merchants_never_reach_the_rates_admin(alice_client):
    response = alice_client.get(reverse("admin:localization_shippingrate_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
