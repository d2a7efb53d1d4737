"""alice (owner), bob (editor), a viewer and charlie (another shop) through every door of orders."""

import pytest
from django.urls import reverse

from conftest import PASSWORD, api_client_for
from orders.models import Customer, Order, ReconciliationIssue
from orders.services.ingest import order_import
from orders.services.timeline import issue_raise
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.models import Membership, User
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context


@pytest.fixture
def order(shop_a, meta_account):
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        order, _ = order_import(account=meta_account, data=channel_order("A-1", lines=(("TEE-M", 2, "10"),)))
        issue_raise(account=meta_account, kind="status_drift", key="A-1", order=order)
        return order


@pytest.fixture
def viewer_client(client, shop_a):
    viewer = User.objects.create_user(email="vera@example.com", password=PASSWORD)
    with shop_context(shop_a):  # memberships are row-secured per shop
        Membership.objects.create(shop=shop_a, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    return client


def read_urls(order):
    slug = "alice"
    with shop_context(order.shop_id):
        customer = Customer.objects.get()
    return [
        reverse("orders:order-list", args=[slug]),
        reverse("orders:order-list", args=[slug]) + "?q=TEE-M&status=awaiting_fulfillment",
        reverse("orders:order-detail", args=[slug, order.pk]),
        reverse("orders:reconciliation", args=[slug]),
        reverse("orders:customer-list", args=[slug]),
        reverse("orders:settings", args=[slug]),
    ], customer


def test_alice_and_bob_see_every_page(alice_client, bob, order):
    urls, _customer = read_urls(order)
    for url in urls:
        response = alice_client.get(url)
        assert response.status_code == 200, url
    assert b"A-1" in alice_client.get(urls[0]).content
    alice_client.force_login(bob)
    for url in urls:
        assert alice_client.get(url).status_code == 200, url


def test_charlie_gets_404_on_alices_orders(charlie_client, order):
    urls, customer = read_urls(order)
    for url in urls:
        assert charlie_client.get(url).status_code == 404, url
    for name, args in [
        ("orders:order-fulfil", [order.pk]),
        ("orders:order-cancel", [order.pk]),
        ("orders:order-refund", [order.pk]),
        ("orders:customer-erase", [customer.pk]),
        ("orders:reconciliation-run", []),
    ]:
        assert charlie_client.post(reverse(name, args=["alice", *args]), {"reason": "x"}).status_code == 404, name
    # Charlie's own shop URL with alice's ids: not found either.
    assert charlie_client.get(reverse("orders:order-detail", args=["charlie", order.pk])).status_code == 404
    assert charlie_client.get(reverse("orders:customer-export", args=["charlie", customer.pk])).status_code == 404


def test_viewer_reads_but_cannot_write(viewer_client, order):
    urls, customer = read_urls(order)
    for url in urls:
        assert viewer_client.get(url).status_code == 200, url
    assert b"Mark as shipped" not in viewer_client.get(urls[2]).content
    for name, args, data in [
        ("orders:order-fulfil", [order.pk], {}),
        ("orders:order-cancel", [order.pk], {"reason": "x"}),
        ("orders:order-refund", [order.pk], {"amount": "1"}),
        ("orders:customer-erase", [customer.pk], {}),
        ("orders:reconciliation-run", [], {"account": order.account_id}),
        ("orders:settings", [], {"retention_days": "60"}),
    ]:
        assert viewer_client.post(reverse(name, args=["alice", *args]), data).status_code == 403, name
    assert viewer_client.get(reverse("orders:customer-export", args=["alice", customer.pk])).status_code == 403
    with shop_context(order.shop_id):
        assert Order.objects.get().status == "awaiting_fulfillment"


def test_bob_fulfils_cancels_and_exports_through_the_ui(bob_client, order):
    with shop_context(order.shop_id):
        line = order.lines.get()
    url = reverse("orders:order-fulfil", args=["alice", order.pk])
    response = bob_client.post(url, {f"line_{line.pk}": "1", "carrier": "UPS", "tracking_number": "1Z9"})
    assert response.status_code == 302
    response = bob_client.post(url, {f"line_{line.pk}": "5"})
    assert response.status_code == 400  # more than is left: the form says so
    response = bob_client.post(reverse("orders:order-cancel", args=["alice", order.pk]), {"reason": "buyer asked"})
    assert response.status_code == 302
    with shop_context(order.shop_id):
        order.refresh_from_db()
        assert order.status == "fulfilled"  # one shipped, the other cancelled
        customer = Customer.objects.get()
    export = bob_client.get(reverse("orders:customer-export", args=["alice", customer.pk]))
    assert export.status_code == 200 and export.json()["customer"]["email"] == "buyer@example.net"


def test_both_doors_refuse_too_many_units_with_the_services_words(alice_client, api_a, order):
    with shop_context(order.shop_id):
        line = order.lines.get()
    ui = alice_client.post(reverse("orders:order-fulfil", args=["alice", order.pk]), {f"line_{line.pk}": "5"})
    api = api_a.post(f"/api/v1/orders/{order.pk}/fulfil/", {"lines": [{"line": line.pk, "quantity": 5}]}, format="json")
    assert ui.status_code == 400 and api.status_code == 400
    [error] = api.json()["errors"]
    assert error["field"] == "lines" and "only 2 left to ship" in error["message"]
    assert error["message"] in ui.content.decode()
    with shop_context(order.shop_id):
        assert not order.fulfillments.exists()


def test_alice_resolves_an_issue_and_runs_reconciliation_from_the_ui(
    alice_client, order, django_capture_on_commit_callbacks
):
    with shop_context(order.shop_id):
        issue = ReconciliationIssue.objects.get(kind="status_drift")
    response = alice_client.post(
        reverse("orders:issue-act", args=["alice", issue.pk]), {"action": "resolve", "note": "checked by phone"}
    )
    assert response.status_code == 302
    with shop_context(order.shop_id):
        issue.refresh_from_db()
        assert issue.status == "resolved" and issue.resolution_note == "checked by phone"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(
            reverse("orders:reconciliation-run", args=["alice"]), {"account": order.account_id}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    response = alice_client.post(reverse("orders:settings", args=["alice"]), {"retention_days": "365"})
    assert response.status_code == 302


# --- API ------------------------------------------------------------------------------------


def test_api_reads_filters_and_acts(api_a, order):
    listing = api_a.get("/api/v1/orders/?status=awaiting_fulfillment&q=TEE-M")
    assert listing.status_code == 200
    assert [o["external_id"] for o in listing.json()["results"]] == ["A-1"]
    assert api_a.get("/api/v1/orders/?status=cancelled").json()["results"] == []
    detail = api_a.get(f"/api/v1/orders/{order.pk}/").json()
    line = detail["lines"][0]
    assert detail["total"] == "20.000" and line["quantity_allocated"] == 2
    shipped = api_a.post(
        f"/api/v1/orders/{order.pk}/fulfil/",
        {"lines": [{"line": line["id"], "quantity": 2}], "carrier": "DHL", "tracking_number": "JD01"},
        format="json",
    )
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["status"] == "fulfilled"
    refused = api_a.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    issues = api_a.get("/api/v1/reconciliation-issues/?status=open").json()["results"]
    assert issues and issues[0]["kind"] == "status_drift"
    done = api_a.post(
        f"/api/v1/reconciliation-issues/{issues[0]['id']}/act/", {"action": "resolve", "note": "ok"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"


def test_api_reconciliation_run_is_accepted(api_a, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.post("/api/v1/reconciliation-runs/", {"account": order.account_id}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "running"
    assert api_a.get("/api/v1/reconciliation-runs/").json()["results"][0]["id"] == response.json()["id"]


def test_api_charlie_sees_none_of_alices(api_b, order):
    assert api_b.get("/api/v1/orders/").json()["results"] == []
    assert api_b.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert api_b.post(f"/api/v1/orders/{order.pk}/fulfil/", {}, format="json").status_code == 404
    assert api_b.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json").status_code == 404
    assert api_b.get("/api/v1/reconciliation-issues/").json()["results"] == []
    run = api_b.post("/api/v1/reconciliation-runs/", {"account": order.account_id}, format="json")
    assert run.status_code == 400  # alice's account id does not exist for charlie's key
    with shop_context(order.shop_id):
        customer = Customer.objects.get()
    assert api_b.get(f"/api/v1/customers/{customer.pk}/export/").status_code == 404
    assert api_b.post(f"/api/v1/customers/{customer.pk}/erase/").status_code == 404


def test_api_scopes(shop_a, order):
    reader = api_client_for(shop_a, ["orders:read"], name="reader")
    assert reader.get("/api/v1/orders/").status_code == 200
    for url, body in [
        (f"/api/v1/orders/{order.pk}/fulfil/", {}),
        (f"/api/v1/orders/{order.pk}/cancel/", {}),
        ("/api/v1/reconciliation-runs/", {"account": order.account_id}),
    ]:
        response = reader.post(url, body, format="json")
        assert response.status_code == 403 and response.json()["code"] == "missing_scope", url
    with shop_context(order.shop_id):
        customer = Customer.objects.get()
    assert reader.get(f"/api/v1/customers/{customer.pk}/export/").status_code == 403
    catalog_only = api_client_for(shop_a, ["catalog:read"], name="catalog")
    assert catalog_only.get("/api/v1/orders/").status_code == 403
    assert api_client_for(shop_a, ["orders:write"], name="w").get("/api/v1/orders/").status_code == 403


def test_openapi_documents_orders(api_a):
    from django.test import Client

    schema = Client().get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/orders/",
        "/api/v1/orders/{id}/fulfil/",
        "/api/v1/orders/{id}/cancel/",
        "/api/v1/reconciliation-runs/",
        "/api/v1/reconciliation-issues/{id}/act/",
        "/api/v1/customers/{id}/erase/",
    ):
        assert path in schema["paths"], path
