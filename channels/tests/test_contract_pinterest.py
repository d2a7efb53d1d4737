"""The Pinterest adapter and sandbox against Pinterest's own API description.

`data/pinterest_v5_catalog_items.json` holds the schemas of the two endpoints the adapter uses,
cut from github.com/pinterest/api-description (v5/openapi.json). Every request the adapter
sends is validated against the request schema its operation names (the `operation`
discriminator), every sandbox answer against the response or Error schema; then the refusals
(oversize batch, bad attributes, bad auth, writes into a catalog fed by a feed data source) and
the adapter end to end over real HTTP.
"""

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft7Validator

from channels.adapters.base import AdapterError, ChannelItem
from channels.adapters.pinterest import PinterestAdapter
from channels.sandbox.control import control_headers
from channels.tests.factories import PINTEREST_CREDENTIALS

pytestmark = pytest.mark.django_db(transaction=True)


def _nullable(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema's `type: [<type>, "null"]`."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


SPEC = json.loads((Path(__file__).parent / "data" / "pinterest_v5_catalog_items.json").read_text())
SPEC["schemas"] = _nullable(SPEC["schemas"])
REQUEST_SCHEMAS = {
    "UPSERT": "CatalogsItemsUpsertBatchRequest",
    "CREATE": "CatalogsItemsCreateBatchRequest",
    "UPDATE": "CatalogsItemsUpdateBatchRequest",
    "DELETE": "CatalogsItemsDeleteBatchRequest",
    "DELETE_DISCONTINUED": "CatalogsItemsDeleteDiscontinuedBatchRequest",
}
AD_ACCOUNT = PINTEREST_CREDENTIALS["ad_account_id"]
TOKEN = PINTEREST_CREDENTIALS["access_token"]


def schema_errors(name: str, instance) -> list[str]:
    """Why `instance` does not match #/components/schemas/<name> ([] when it does)."""
    document = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": SPEC["schemas"]}}
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in Draft7Validator(document).iter_errors(instance)]


def assert_matches(name: str, instance) -> None:
    errors = schema_errors(name, instance)
    assert not errors, errors


def assert_request_matches(body: dict) -> None:
    assert_matches(REQUEST_SCHEMAS[body["operation"]], body)


class Recording(httpx.HTTPTransport):
    """Real HTTP, keeping each request the adapter sends."""

    def __init__(self):
        super().__init__()
        self.bodies: list[dict] = []

    def handle_request(self, request):
        if request.method == "POST":
            self.bodies.append(json.loads(request.content))
        return super().handle_request(request)


def control(live_server, **config):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/pinterest/{AD_ACCOUNT}/",
        headers=control_headers(),
        json=config,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def state(live_server):
    return httpx.get(
        f"{live_server.url}/sandbox/_control/pinterest/{AD_ACCOUNT}/?details=1", headers=control_headers(), timeout=10
    ).json()


@pytest.fixture
def api(live_server):
    """Raw calls to the sandbox's Pinterest API as the account's token holder."""
    control(live_server, access_token=TOKEN, settings={}, faults={})
    with httpx.Client(
        base_url=f"{live_server.url}/sandbox/pinterest",
        headers={"Authorization": f"Bearer {TOKEN}"},
        params={"ad_account_id": AD_ACCOUNT},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def recording():
    return Recording()


@pytest.fixture
def adapter(live_server, api, recording):
    adapter = PinterestAdapter(
        base_url=f"{live_server.url}/sandbox/pinterest",
        credentials=PINTEREST_CREDENTIALS,
        market={"country": "US", "language": "en", "currency": "USD"},
        sleep=lambda seconds: None,
        transport=recording,
    )
    yield adapter
    adapter.close()


def item(n, **overrides):
    values = {
        "id": f"SKU-{n}",
        "title": f"Linen shirt {n}",
        "description": "A shirt of washed linen.",
        "link": f"https://alice.example.com/products/linen?variant={n}",
        "image_link": f"https://alice.example.com/i/{n}.jpg",
        "price": Decimal("49.90"),
        "currency": "USD",
        "brand": "Alice",
        "gtin": "4006381333931",
        "item_group_id": "linen-shirt",
        "size": "M",
        "color": "blue",
        "google_product_category": "212",
        "custom_labels": ["summer", "", "linen"],
    }
    values.update(overrides)
    return ChannelItem(**values)


def valid_body(operation="UPSERT", n=1):
    return {
        "country": "US",
        "language": "EN",
        "operation": operation,
        "items": [
            {
                "item_id": f"RAW-{n}",
                "attributes": {
                    "title": "Women's denim shirt, large",
                    "description": "Casual fit denim shirt.",
                    "link": "https://www.example.com/cat/womens-clothing/denim-shirt-0294",
                    "image_link": ["https://scene.example.com/image/image.jpg"],
                    "price": "24.99 USD",
                    "availability": "in stock",
                    "condition": "new",
                },
            }
        ],
    }


# --- Requests the API description documents as valid ---------------------------------------


def test_documented_valid_requests_are_accepted_and_answered_in_pinterest_shape(api):
    for operation in ("UPSERT", "CREATE"):
        body = valid_body(operation, n=operation)
        assert_request_matches(body)
        response = api.post("/v5/catalogs/items/batch", json=body)
        assert response.status_code == 200, response.text
        assert_matches("CatalogsRetailItemsBatch", response.json())
        assert response.json()["status"] == "PROCESSING"
        status = api.get(f"/v5/catalogs/items/batch/{response.json()['batch_id']}")
        assert status.status_code == 200
        assert_matches("CatalogsRetailItemsBatch", status.json())
        assert [r["status"] for r in status.json()["items"]] == ["SUCCESS"]
    update = {
        "country": "US",
        "language": "en-US",  # a CatalogsLocale value
        "operation": "UPDATE",
        "items": [{"item_id": "RAW-UPSERT", "attributes": {"price": "19.99 USD"}, "update_mask": ["price"]}],
    }
    assert_request_matches(update)
    response = api.post("/v5/catalogs/items/batch", json=update)
    assert response.status_code == 200, response.text
    records = api.get(f"/v5/catalogs/items/batch/{response.json()['batch_id']}").json()["items"]
    assert records[0]["status"] == "SUCCESS"
    delete = {"country": "US", "language": "EN", "operation": "DELETE", "items": [{"item_id": "RAW-CREATE"}]}
    assert_request_matches(delete)
    assert api.post("/v5/catalogs/items/batch", json=delete).status_code == 200


def test_every_request_the_adapter_sends_matches_the_request_schema(adapter, recording):
    items = [item(1), item(2, sale_price=Decimal("39.90")), item(3, availability="preorder", gtin="", mpn="A-3")]
    handle = adapter.publish_batch(items)
    adapter.batch_status(handle)
    adapter.delete_items(items[:1])
    assert [b["operation"] for b in recording.bodies] == ["UPSERT", "DELETE"]
    for body in recording.bodies:
        assert_request_matches(body)
    upsert = recording.bodies[0]
    assert (upsert["country"], upsert["language"]) == ("US", "EN")
    attributes = upsert["items"][1]["attributes"]
    assert attributes["sale_price"] == "39.90 USD" and attributes["image_link"] == ["https://alice.example.com/i/2.jpg"]
    assert attributes["custom_label_0"] == "summer" and attributes["custom_label_2"] == "linen"
    assert "custom_label_1" not in attributes
    assert upsert["items"][2]["attributes"]["availability"] == "preorder"


# --- Refusals -----------------------------------------------------------------------------


def test_oversize_batch_is_refused_by_sandbox_and_adapter(api, adapter, recording):
    body = valid_body()
    body["items"] = body["items"] * 1001
    assert schema_errors("CatalogsItemsUpsertBatchRequest", body)  # maxItems: 1000
    response = api.post("/v5/catalogs/items/batch", json=body)
    assert response.status_code == 400
    assert_matches("Error", response.json())
    assert response.json()["code"] == 1
    with pytest.raises(AdapterError):
        adapter.publish_batch([item(i) for i in range(1001)])
    assert recording.bodies == []  # refused before anything was sent


@pytest.mark.parametrize(
    "change,reason",
    [
        (lambda b: b["items"][0]["attributes"].update(colour="blue"), "colour"),
        (lambda b: b["items"][0]["attributes"].update(image_link={"url": "x"}), "array"),
        (lambda b: b.update(country="XX"), "Country"),
        (lambda b: b.update(language="english"), "Language"),
        (lambda b: b.pop("language"), "'language' is a required property"),
        (lambda b: b.update(catalog_id="1"), "catalog_id"),
        (lambda b: b.update(operation="REPLACE"), "REPLACE"),
        (lambda b: b.update(items=[]), "too short"),
        (lambda b: b["items"][0].update(update_mask=["price"]), "update_mask"),
    ],
)
def test_requests_outside_the_schema_are_refused_whole(api, change, reason):
    body = valid_body()
    change(body)
    response = api.post("/v5/catalogs/items/batch", json=body)
    assert response.status_code == 400, response.text
    assert_matches("Error", response.json())
    assert response.json()["code"] == 1 and reason in response.json()["message"]


def test_item_problems_come_back_as_validation_events(api):
    body = valid_body()
    good = body["items"][0]
    missing_title = {"item_id": "NO-TITLE", "attributes": {**good["attributes"], "title": ""}}
    bad_price = {"item_id": "BAD-PRICE", "attributes": {**good["attributes"], "price": "24,99 €"}}
    bad_availability = {"item_id": "BAD-AV", "attributes": {**good["attributes"], "availability": "backorder"}}
    long_title = {"item_id": "LONG", "attributes": {**good["attributes"], "title": "x" * 501}}
    body["items"] = [good, missing_title, bad_price, bad_availability, long_title]
    batch_id = api.post("/v5/catalogs/items/batch", json=body).json()["batch_id"]
    answer = api.get(f"/v5/catalogs/items/batch/{batch_id}").json()
    assert_matches("CatalogsRetailItemsBatch", answer)
    records = {r["item_id"]: r for r in answer["items"]}
    assert records["RAW-1"]["status"] == "SUCCESS" and records["RAW-1"]["errors"] == []
    assert records["NO-TITLE"]["status"] == "FAILURE"
    # The one code the API description documents: 106, title missing.
    assert records["NO-TITLE"]["errors"] == [
        {
            "attribute": "title",
            "code": 106,
            "message": "Item is missing title in its product metadata, this item will not be published.",
        }
    ]
    assert records["BAD-PRICE"]["errors"][0]["attribute"] == "price"
    assert records["BAD-AV"]["errors"][0]["attribute"] == "availability"
    # A title over 500 characters is truncated, not refused: a warning.
    assert records["LONG"]["status"] == "SUCCESS"
    assert records["LONG"]["warnings"][0]["attribute"] == "title"


def test_bad_auth_is_refused_with_pinterests_error(live_server, api, adapter):
    for token in ("", "pina_wrong-token"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        post = httpx.post(
            f"{live_server.url}/sandbox/pinterest/v5/catalogs/items/batch",
            params={"ad_account_id": AD_ACCOUNT},
            json=valid_body(),
            headers=headers,
            timeout=10,
        )
        get = httpx.get(
            f"{live_server.url}/sandbox/pinterest/v5/catalogs/items/batch/abc123",
            params={"ad_account_id": AD_ACCOUNT},
            headers=headers,
            timeout=10,
        )
        for response in (post, get):
            assert response.status_code == 401
            assert response.json() == {"code": 2, "message": "Authentication failed."}
    wrong = PinterestAdapter(
        base_url=adapter.base_url, credentials={**PINTEREST_CREDENTIALS, "access_token": "pina_wrong"}
    )
    with pytest.raises(AdapterError) as exc:
        wrong.publish_batch([item(1)])
    wrong.close()
    assert exc.value.status == 401 and exc.value.code == "2"


def test_unknown_batch_is_pinterests_404(api):
    response = api.get("/v5/catalogs/items/batch/0123456789abcdef")
    assert response.status_code == 404
    assert response.json() == {"code": 4331, "message": "Sorry! We could not find your batch ID."}


def test_catalog_with_a_feed_data_source_refuses_api_writes(live_server, api, adapter, recording):
    control(live_server, settings={"feed_data_source": True})
    for operation in ("UPSERT", "CREATE", "UPDATE"):
        response = api.post("/v5/catalogs/items/batch", json=valid_body(operation))
        assert response.status_code == 403, (operation, response.text)
        assert_matches("Error", response.json())
        assert "feed data source" in response.json()["message"]
    # Removing what the API once put there stays possible.
    delete = {"country": "US", "language": "EN", "operation": "DELETE", "items": [{"item_id": "RAW-1"}]}
    assert api.post("/v5/catalogs/items/batch", json=delete).status_code == 200
    with pytest.raises(AdapterError) as exc:
        adapter.publish_batch([item(1)])
    assert exc.value.status == 403
    assert "feed" in str(exc.value)
    assert not state(live_server)["items"]  # nothing was written
    control(live_server, settings={})
    adapter.batch_status(adapter.publish_batch([item(1)]))
    assert state(live_server)["items"]["SKU-1"]["active"]


# --- The adapter end to end over real HTTP -----------------------------------------------------


def test_adapter_publishes_polls_and_deletes(live_server, adapter):
    control(live_server, faults={"processing_polls": 1})
    handle = adapter.publish_batch([item(1), item(2), item(3, title="")])
    first = adapter.batch_status(handle)
    assert not first.done and first.results == []
    status = adapter.batch_status(handle)
    assert status.done and not status.failed
    by_id = {r.item_id: r for r in status.results}
    assert by_id["SKU-1"].ok and by_id["SKU-1"].channel_item_id == "SKU-1"
    assert by_id["SKU-2"].ok
    rejected = by_id["SKU-3"]
    assert not rejected.ok and rejected.channel_item_id == ""
    assert (rejected.errors[0].code, rejected.errors[0].field) == ("106", "title")
    listed = state(live_server)["items"]
    assert listed["SKU-1"]["active"] and "SKU-3" not in listed
    assert listed["SKU-1"]["overrides"]["US|EN"]["price"] == "49.90 USD"

    control(live_server, faults={})
    delete_handle = adapter.delete_items([item(1)])
    deleted = adapter.batch_status(delete_handle)
    assert deleted.done and [r.ok for r in deleted.results] == [True]
    assert not state(live_server)["items"]["SKU-1"]["active"]


def test_each_market_is_its_own_country_and_language(live_server, api):
    adapter = PinterestAdapter(
        base_url=f"{live_server.url}/sandbox/pinterest",
        credentials=PINTEREST_CREDENTIALS,
        market={"country": "FR", "language": "fr", "currency": "EUR"},
    )
    try:
        status = adapter.batch_status(adapter.publish_batch([item(1, title="Chemise en lin", currency="EUR")]))
    finally:
        adapter.close()
    assert status.results[0].ok
    overrides = state(live_server)["items"]["SKU-1"]["overrides"]
    assert overrides["FR|FR"]["title"] == "Chemise en lin" and overrides["FR|FR"]["price"] == "49.90 EUR"


def test_a_language_pinterest_does_not_take_is_refused_before_sending(live_server, recording):
    adapter = PinterestAdapter(
        base_url=f"{live_server.url}/sandbox/pinterest",
        credentials=PINTEREST_CREDENTIALS,
        market={"country": "IE", "language": "ga", "currency": "EUR"},  # Irish: not in S:Language
        transport=recording,
    )
    try:
        with pytest.raises(AdapterError) as exc:
            adapter.publish_batch([item(1)])
    finally:
        adapter.close()
    assert "GA" in str(exc.value) and recording.bodies == []
