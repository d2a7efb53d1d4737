"""Input that used to end in a server error is a 400/413 problem+json (API) or a 400/413 page (UI).

Each class is refused where input enters (shopadmin.inputs, shopadmin.api.parsers,
shopadmin.api.pagination, shopadmin.api.fields, shopadmin.api.idempotency), so every
endpoint is covered; these tests prove it on representative endpoints.
"""

import base64
import json

import pytest

from shopadmin.api.errors import PROBLEM_CONTENT_TYPE

pytestmark = pytest.mark.django_db


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body = response.json()
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return body


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/?brand=a%00b",
        "/api/v1/products/?search=%00",
        "/api/v1/variants/?sku%00=x",
        "/api/v1/stock/movements/?reference=x%00",
        "/api/v1/exchange-rates/?base=%00",
        "/api/v1/products/%00/",
    ],
)
def test_nul_in_query_or_path_is_a_400_problem(api_a, url):
    body = assert_problem(api_a.get(url), 400, "validation_error")
    assert "NUL" in body["detail"]


def test_nul_in_a_json_string_is_a_400_naming_the_field(api_a):
    response = api_a.post(
        "/api/v1/products/",
        data=json.dumps({"title": "Tee\u0000", "handle": "tee"}),
        content_type="application/json",
    )
    body = assert_problem(response, 400, "validation_error")
    assert body["errors"][0]["field"] == "title"


def test_nul_in_a_json_key_is_a_400(api_a):
    response = api_a.post("/api/v1/products/", data='{"ti\\u0000tle": "x"}', content_type="application/json")
    assert_problem(response, 400, "validation_error")


def test_deeply_nested_json_is_a_400(api_a):
    for depth in (40, 100_000):
        response = api_a.post("/api/v1/products/", data="[" * depth + "]" * depth, content_type="application/json")
        assert_problem(response, 400, "malformed_json")


def test_nan_is_not_json(api_a):
    response = api_a.post("/api/v1/products/", data='{"title": NaN}', content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor("p=abc"),
        _cursor("p=" + "9" * 30),
        _cursor("p=1%00"),
        _cursor("o=-1&p=5"),
        _cursor("r=x"),
        base64.b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_garbage_cursor_is_a_400(api_a, cursor):
    for url in ("/api/v1/products/", "/api/v1/stock/movements/", "/api/v1/exchange-rates/"):
        body = assert_problem(api_a.get(url, {"cursor": cursor}), 400, "validation_error")
        assert body["errors"][0]["field"] == "cursor"


def test_a_real_cursor_still_pages(api_a, shop_a):
    for index in range(3):
        api_a.post("/api/v1/products/", {"title": f"P{index}"}, format="json")
    first = api_a.get("/api/v1/products/?limit=2").json()
    second = api_a.get(first["next"])
    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


def test_an_integer_beyond_64_bits_is_a_400_naming_the_field(api_a, shop_a):
    body = {"movements": [{"sku": "X", "location": "main", "quantity": 2**70, "reason": "received"}]}
    response = api_a.post("/api/v1/stock/movements/", body, format="json")
    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"][0]["field"] == "movements.0.quantity"


def test_a_decimal_beyond_the_fields_precision_is_a_400(api_a, shop_a):
    quote = {
        "destination_country": "GB",
        "currency": "GBP",
        "items": [{"unit_price": "1" + "0" * 30, "quantity": 1, "hs_code": "6109.10"}],
    }
    problem = assert_problem(api_a.post("/api/v1/landed-cost/quotes/", quote, format="json"), 400)
    assert problem["errors"][0]["field"] == "items.0.unit_price"
    quote["items"][0].update(unit_price="9999999999.9999", quantity=2**62)
    problem = assert_problem(api_a.post("/api/v1/landed-cost/quotes/", quote, format="json"), 400)
    assert problem["errors"][0]["field"] == "items.0.quantity"
    # The largest amounts the fields take still give a quote, not an arithmetic error.
    quote["items"][0].update(quantity=1_000_000)
    quote.update(shipping="9999999999.9999", insurance="9999999999.9999")
    assert api_a.post("/api/v1/landed-cost/quotes/", quote, format="json").status_code == 200


def test_an_idempotency_key_longer_than_its_column_is_a_400(api_a):
    response = api_a.post("/api/v1/products/", {"title": "Tee"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    body = assert_problem(response, 400, "validation_error")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    # Nothing was written.
    assert api_a.get("/api/v1/products/").json()["results"] == []
    ok = api_a.post("/api/v1/products/", {"title": "Tee"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    again = api_a.post("/api/v1/products/", {"title": "Tee"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert ok.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_a_body_over_the_upload_limit_is_a_413_problem(api_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_a.post("/api/v1/products/", data=json.dumps({"title": "x" * 2000}), content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


def test_a_form_over_the_upload_limit_is_a_413_page(alice_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice_client.post("/app/alice/settings/", {"name": "x" * 2000})
    assert response.status_code == 413
    assert b"Too much data" in response.content


def test_nul_in_a_ui_form_field_or_query_is_a_400_page(alice_client):
    response = alice_client.post("/app/alice/settings/", {"name": "Alice\x00"})
    assert response.status_code == 400
    assert b"NUL" in response.content
    response = alice_client.get("/app/alice/catalog/", {"q": "\x00"})
    assert response.status_code == 400
    response = alice_client.get("/app/alice/catalog/%00/")
    assert response.status_code == 400


def test_nul_on_the_login_page_is_a_400_not_a_crash(client):
    response = client.post("/accounts/login/", {"username": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "value", ["0423-09-09T18:15:02+19:48", "2026-01-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00"]
)
def test_a_date_time_filter_postgresql_cannot_take_is_a_400_or_normalised(api_a, value):
    for url in ("/api/v1/products/", "/api/v1/variants/", "/api/v1/stock/", "/api/v1/stock/movements/"):
        name = "since" if "movements" in url else "updated_since"
        response = api_a.get(url, {name: value})
        assert response.status_code in (200, 400), (url, response.content[:300])
        if response.status_code == 400:
            assert_problem(response, 400, "validation_error")


def test_unknown_filter_values_are_a_400(api_a):
    for url in (
        "/api/v1/products/?status=AAA",
        "/api/v1/variants/?status=AAA",
        "/api/v1/stock/movements/?reason=AAA",
        "/api/v1/exchange-rates/?source=AAA",
        "/api/v1/products/?category=abc",
        "/api/v1/products/?updated_since=yesterday",
    ):
        body = assert_problem(api_a.get(url), 400, "validation_error")
        assert body["errors"][0]["field"] == url.split("?")[1].split("=")[0]
