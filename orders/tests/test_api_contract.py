"""The orders API answers what its OpenAPI document says: nullable fields declared nullable and
never an empty string in an email or URL field, 202 for background work, unknown filter values
refused with a 400, refunds naming lines of another order refused."""

import pytest
from django.test import Client

from orders.models import Customer, Order, Refund
from orders.services.ingest import order_import
from orders.services.lifecycle import order_fulfill
from orders.services.timeline import issue_raise
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders_a(shop_a, meta_account):
    """Two orders of shop A: one complete; one without an email, with a SKU the catalog lacks."""
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        known, _ = order_import(account=meta_account, data=channel_order("A-1", lines=(("TEE-M", 2, "10"),)))
        unknown, _ = order_import(
            account=meta_account, data=channel_order("A-2", email="", lines=(("GONE-1", 1, "5"),))
        )
        order_fulfill(order=known, carrier="DHL", tracking_number="JD01")  # no tracking URL
        issue_raise(account=meta_account, kind="status_drift", key="A-9")  # outside a run, no order
        return known, unknown


def document() -> dict:
    return Client().get("/api/schema/?format=json").json()


def component(doc: dict, name: str) -> dict:
    return doc["components"]["schemas"][name]["properties"]


def is_problem(response, status=400) -> bool:
    return response.status_code == status and response["Content-Type"].startswith("application/problem+json")


def test_unknown_values_are_null_and_declared_nullable(api_a, orders_a):
    known, unknown = orders_a
    doc = document()
    order = component(doc, "Order")
    for field in ("customer", "buyer_email", "market"):
        assert order[field].get("nullable") is True, field
    assert component(doc, "OrderLine")["variant"].get("nullable") is True
    assert component(doc, "Fulfillment")["tracking_url"].get("nullable") is True
    assert component(doc, "Customer")["email"].get("nullable") is True
    issue = component(doc, "ReconciliationIssue")
    assert issue["run"].get("nullable") is True and issue["order"].get("nullable") is True

    with shop_context(unknown.shop_id):  # a customer deleted from under the order
        Customer.objects.filter(pk=unknown.customer_id).delete()
    bare = api_a.get(f"/api/v1/orders/{unknown.pk}/").json()
    assert bare["buyer_email"] is None and bare["customer"] is None
    assert bare["lines"][0]["variant"] is None
    shipped = api_a.get(f"/api/v1/orders/{known.pk}/").json()
    assert shipped["buyer_email"] == "buyer@example.net" and shipped["lines"][0]["variant"] is not None
    assert shipped["fulfillments"][0]["tracking_url"] is None
    emails = {c["email"] for c in api_a.get("/api/v1/customers/").json()["results"]}
    assert emails == {"buyer@example.net"}
    issues = api_a.get("/api/v1/reconciliation-issues/").json()["results"]
    assert issues[0]["run"] is None and issues[0]["order"] is None


def test_an_erased_customer_has_a_null_email(api_a, orders_a):
    with shop_context(orders_a[0].shop_id):
        customer = Customer.objects.get(email="buyer@example.net")
    erased = api_a.post(f"/api/v1/customers/{customer.pk}/erase/")
    assert erased.status_code == 200 and erased.json()["email"] is None


def test_a_reconciliation_run_is_documented_as_202(api_a, orders_a, django_capture_on_commit_callbacks):
    responses = document()["paths"]["/api/v1/reconciliation-runs/"]["post"]["responses"]
    assert "202" in responses and "201" not in responses
    assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/ReconciliationRun")
    with django_capture_on_commit_callbacks(execute=False):
        response = api_a.post("/api/v1/reconciliation-runs/", {"account": orders_a[0].account_id}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "running"


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/orders/?status=AAA", "status"),
        ("/api/v1/orders/?channel=nowhere", "channel"),
        ("/api/v1/orders/?placed_from=yesterday", "placed_from"),
        ("/api/v1/orders/?placed_to=2026-13-45", "placed_to"),
        ("/api/v1/orders/?account=x", "account"),
        ("/api/v1/orders/?market=1.5", "market"),
        ("/api/v1/reconciliation-issues/?account=1e3", "account"),
        ("/api/v1/reconciliation-issues/?status=AAA", "status"),
        ("/api/v1/reconciliation-issues/?kind=AAA", "kind"),
    ],
)
def test_unknown_filter_values_are_a_400(api_a, orders_a, url, field):
    response = api_a.get(url)
    assert is_problem(response), response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_filters_still_filter_and_are_documented(api_a, api_b, orders_a):
    known, _unknown = orders_a
    day = known.placed_at.date().isoformat()
    found = api_a.get(f"/api/v1/orders/?channel=meta&status=fulfilled&placed_from={day}&placed_to={day}")
    assert [o["external_id"] for o in found.json()["results"]] == ["A-1"]
    assert [o["external_id"] for o in api_a.get("/api/v1/orders/?q=GONE-1").json()["results"]] == ["A-2"]
    assert len(api_a.get("/api/v1/reconciliation-issues/?status=open&kind=status_drift").json()["results"]) == 1
    huge = 2**70  # beyond 64 bits: no such account, not a server error
    assert api_a.get(f"/api/v1/orders/?account={huge}&market={huge}").json()["results"] == []
    assert api_a.get(f"/api/v1/reconciliation-issues/?account={huge}").json()["results"] == []
    # Shop B's key, filtering on shop A's account: nothing of A.
    assert api_b.get(f"/api/v1/orders/?account={known.account_id}").json()["results"] == []
    assert api_b.get(f"/api/v1/reconciliation-issues/?account={known.account_id}").json()["results"] == []
    parameters = {
        p["name"]: p for p in document()["paths"]["/api/v1/orders/"]["get"]["parameters"] if p["in"] == "query"
    }
    assert {"channel", "status", "market", "account", "placed_from", "placed_to", "q"} <= set(parameters)
    assert "AAA" not in parameters["status"]["schema"]["enum"] and "fulfilled" in parameters["status"]["schema"]["enum"]


def test_a_refund_naming_a_line_of_another_order_is_refused(api_a, api_b, orders_a):
    known, unknown = orders_a
    with shop_context(known.shop_id):
        foreign_line = unknown.lines.get().pk
        own_line = known.lines.get().pk
    response = api_a.post(
        f"/api/v1/orders/{known.pk}/refund/",
        {"amount": "5", "lines": [{"line": own_line, "quantity": 1}, {"line": foreign_line, "quantity": 1}]},
        format="json",
    )
    assert is_problem(response), response.content
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["lines"] and str(foreign_line) in errors[0]["message"]
    with shop_context(known.shop_id):
        assert not Refund.objects.exists()  # nothing recorded, not even the lines that were on the order
        assert Order.objects.get(pk=known.pk).lines.get().quantity_refunded == 0
    ok = api_a.post(
        f"/api/v1/orders/{known.pk}/refund/",
        {"amount": "5", "lines": [{"line": own_line, "quantity": 1}]},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["lines"][0]["quantity_refunded"] == 1
    # Shop B's key cannot refund shop A's order at all.
    assert api_b.post(f"/api/v1/orders/{known.pk}/refund/", {"amount": "1"}, format="json").status_code == 404
