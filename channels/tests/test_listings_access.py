"""alice (owner of A), bob (editor of A), charlie (owner of B) on every listings and publishing
view and endpoint: charlie never reaches A's, bob may write, a read-only key may not."""

import pytest

from channels.models import ChannelListing, PublishPlan
from channels.publishing import publish_plan_create
from channels.tests.listing_fixtures import seeded_account
from conftest import api_client_for
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_a(shop_a):
    return seeded_account(shop_a, variants=6, channel="snapchat")


@pytest.fixture
def plan_a(shop_a, account_a):
    with shop_context(shop_a):
        return publish_plan_create(account=account_a)


def listing_of(shop, account):
    with shop_context(shop):
        return ChannelListing.objects.filter(account=account).first()


def test_alice_and_bob_see_and_use_the_pages(client, alice, bob, shop_a, account_a):
    # alice's plan creates all six; bob's then updates the one alice retitled.
    for user, expected in ((alice, b"6 items to create"), (bob, b"1 item to update")):
        client.force_login(user)
        base = f"/app/alice/channels/{account_a.pk}"
        assert client.get(f"{base}/listings/").status_code == 200
        assert client.get(f"{base}/listings/?check=1").status_code == 200
        response = client.post(f"{base}/review/")
        assert response.status_code == 302
        plan_url = response["Location"]
        page = client.get(plan_url)
        assert page.status_code == 200 and expected in page.content
        listing = listing_of(shop_a, account_a)
        assert client.get(f"/app/alice/channels/listings/{listing.pk}/").status_code == 200
        response = client.post(
            f"/app/alice/channels/listings/{listing.pk}/", {"title_override": f"By {user.first_name}"}
        )
        assert response.status_code == 302
        assert client.post(f"{plan_url}apply/").status_code == 302
    with shop_context(shop_a):
        assert PublishPlan.objects.filter(status="applied").count() == 2
        assert ChannelListing.objects.get(pk=listing.pk).title_override == "By Bob"


def test_settings_and_rules_forms(alice_client, shop_a, account_a):
    from catalog.models import Product

    base = f"/app/alice/channels/{account_a.pk}/listings/"
    with shop_context(shop_a):
        handle = Product.objects.first().handle
    alice_client.post(base, {"form": "settings", "scope": "selected", "storefront_url": "https://shop.example"})
    alice_client.post(base, {"form": "rule", "action": "include", "target": handle})
    page = alice_client.get(base)
    assert handle.encode() in page.content
    with shop_context(shop_a):
        from channels.listings import selected_variants

        assert selected_variants(account_a).count() == Product.objects.get(handle=handle).variants.count()


def test_charlie_reaches_nothing_of_alice(charlie_client, shop_a, account_a, plan_a):
    listing = listing_of(shop_a, account_a)
    for url in (
        f"/app/alice/channels/{account_a.pk}/listings/",
        f"/app/alice/channels/listings/{listing.pk}/",
        f"/app/alice/channels/plans/{plan_a.pk}/",
    ):
        assert charlie_client.get(url).status_code == 404
    assert charlie_client.post(f"/app/alice/channels/{account_a.pk}/review/").status_code == 404
    assert charlie_client.post(f"/app/alice/channels/plans/{plan_a.pk}/apply/").status_code == 404
    # Through charlie's own shop: the ids of A's objects do not exist there.
    assert charlie_client.get(f"/app/charlie/channels/{account_a.pk}/listings/").status_code == 404
    assert charlie_client.get(f"/app/charlie/channels/listings/{listing.pk}/").status_code == 404
    assert charlie_client.get(f"/app/charlie/channels/plans/{plan_a.pk}/").status_code == 404
    assert charlie_client.post(f"/app/charlie/channels/plans/{plan_a.pk}/apply/").status_code == 404
    with shop_context(shop_a):
        assert PublishPlan.objects.get(pk=plan_a.pk).status == "draft"


def test_viewer_cannot_write(client, shop_a, account_a, plan_a):
    from conftest import make_user
    from shopadmin.roles import Role

    viewer = make_user("vera@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    assert client.get(f"/app/alice/channels/{account_a.pk}/listings/").status_code == 200
    assert client.post(f"/app/alice/channels/{account_a.pk}/review/").status_code == 403
    assert client.post(f"/app/alice/channels/plans/{plan_a.pk}/apply/").status_code == 403


def test_api_listings_and_plans(api_a, api_b, shop_a, account_a):
    response = api_a.post("/api/v1/publish-plans/", {"account": account_a.pk}, format="json")
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["creates"] == 6 and len(plan["items"]) == 6 and plan["status"] == "draft"
    listings = api_a.get(f"/api/v1/listings/?account={account_a.pk}&status=draft").json()["results"]
    assert len(listings) == 6
    listing_id = listings[0]["id"]
    patched = api_a.patch(f"/api/v1/listings/{listing_id}/", {"custom_labels": ["summer"]}, format="json")
    assert patched.status_code == 200 and patched.json()["custom_labels"] == ["summer"]
    too_many = api_a.patch(f"/api/v1/listings/{listing_id}/", {"custom_labels": list("abcdef")}, format="json")
    assert too_many.status_code == 400 and too_many["Content-Type"].startswith("application/problem+json")
    assert api_a.get("/api/v1/listings/?status=nonsense").status_code == 400
    applied = api_a.post(f"/api/v1/publish-plans/{plan['id']}/apply/")
    assert applied.status_code == 202
    assert api_a.get(f"/api/v1/publish-plans/{plan['id']}/").json()["status"] == "applied"
    assert api_a.post(f"/api/v1/publish-plans/{plan['id']}/apply/").status_code == 400
    # charlie's key (shop B): A's account, listings and plans do not exist.
    assert api_b.get("/api/v1/listings/").json()["results"] == []
    assert api_b.get(f"/api/v1/listings/{listing_id}/").status_code == 404
    assert api_b.patch(f"/api/v1/listings/{listing_id}/", {"title_override": "x"}, format="json").status_code == 404
    assert api_b.get(f"/api/v1/publish-plans/{plan['id']}/").status_code == 404
    assert api_b.post(f"/api/v1/publish-plans/{plan['id']}/apply/").status_code == 404
    assert api_b.post("/api/v1/publish-plans/", {"account": account_a.pk}, format="json").status_code == 400


def test_api_scopes(shop_a, account_a):
    reader = api_client_for(shop_a, scopes=["channels:read"])
    assert reader.get("/api/v1/listings/").status_code == 200
    assert reader.post("/api/v1/publish-plans/", {"account": account_a.pk}, format="json").status_code == 403
    other = api_client_for(shop_a, scopes=["catalog:read"], name="other")
    assert other.get("/api/v1/listings/").status_code == 403


def test_api_publish_plan_apply_is_documented_as_202(api_a, shop_a, account_a, plan_a):
    from django.test import Client

    paths = Client().get("/api/schema/?format=json").json()["paths"]
    responses = paths["/api/v1/publish-plans/{id}/apply/"]["post"]["responses"]
    assert "202" in responses and "200" not in responses
    assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/PublishPlan")
    applied = api_a.post(f"/api/v1/publish-plans/{plan_a.pk}/apply/")
    assert applied.status_code == 202 and applied.json()["id"] == plan_a.pk


@pytest.mark.parametrize(
    "query, field", [("status=nonsense", "status"), ("account=x", "account"), ("account=1.5", "account")]
)
def test_api_listing_filters_refuse_unknown_values(api_a, account_a, query, field):
    response = api_a.get(f"/api/v1/listings/?{query}")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_api_listing_filters_are_documented_and_stay_in_the_shop(api_a, api_b, account_a, plan_a):
    from django.test import Client

    parameters = {
        p["name"]: p
        for p in Client().get("/api/schema/?format=json").json()["paths"]["/api/v1/listings/"]["get"]["parameters"]
    }
    assert "draft" in parameters["status"]["schema"]["enum"] and "account" in parameters
    assert len(api_a.get(f"/api/v1/listings/?account={account_a.pk}").json()["results"]) == 6
    assert api_b.get(f"/api/v1/listings/?account={account_a.pk}").json()["results"] == []
    assert api_a.get(f"/api/v1/listings/?account={2**70}").json()["results"] == []
