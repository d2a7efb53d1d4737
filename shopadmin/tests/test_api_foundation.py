"""API keys, authentication, scopes, throttling and problem+json errors."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from shopadmin.api.throttling import ApiKeyRateThrottle
from shopadmin.models import ApiKey
from shopadmin.services import api_key_create, api_key_revoke
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def key_a(shop_a):
    with shop_context(shop_a):
        return api_key_create(shop=shop_a, name="partner", scopes=["catalog:read"])


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["title"] and body["type"]
    return body


def test_the_key_reads_its_own_shop(key_a, shop_a):
    _api_key, key = key_a
    response = bearer(key).get("/api/v1/shop/")
    assert response.status_code == 200
    assert response.json()["slug"] == "alice" and response.json()["default_currency"] == "USD"


def test_last_used_is_recorded(key_a, shop_a):
    api_key, key = key_a
    bearer(key).get("/api/v1/shop/")
    with shop_context(shop_a):
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_no_key_is_401_problem(db):
    body = assert_problem(APIClient().get("/api/v1/shop/"), 401, "not_authenticated")
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer sa_000000000000_nope", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "],
)
def test_bad_keys_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_problem(client.get("/api/v1/shop/"), 401, "authentication_failed")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(key_a, scheme):
    _api_key, key = key_a
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    assert client.get("/api/v1/shop/").status_code == 200


@pytest.mark.parametrize(
    "credential",
    ["sa_é_x", "sa_abc_dé", "sa_\u00ff\u00fe_x", "sa_a_b\x00", "sa_a_b\x7f", "ключ", "sa_" + "a" * 300],
)
def test_non_ascii_or_control_credentials_are_a_clean_401(key_a, credential):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    for _ in range(2):  # and the next call works the same way
        assert_problem(client.get("/api/v1/shop/"), 401, "authentication_failed")
    _api_key, key = key_a
    assert bearer(key).get("/api/v1/shop/").status_code == 200


def test_non_ascii_credentials_over_http_are_a_clean_401(key_a, live_server):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("GET", "/api/v1/shop/")
    connection.putheader("Authorization", "Bearer sa_ab\xe9_\xff".encode("latin-1"))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 401
    assert response.getheader("Content-Type").startswith("application/problem+json")


def test_a_tampered_secret_with_a_real_prefix_is_refused(key_a):
    _api_key, key = key_a
    assert_problem(bearer(key[:-2] + "xx").get("/api/v1/shop/"), 401, "authentication_failed")


def test_a_revoked_key_is_refused(key_a, shop_a):
    api_key, key = key_a
    with shop_context(shop_a):
        api_key_revoke(api_key=api_key)
    body = assert_problem(bearer(key).get("/api/v1/shop/"), 401, "authentication_failed")
    assert "revoked" in body["detail"]


def test_charlies_key_sees_charlies_shop_only(shop_a, api_b):
    assert api_b.get("/api/v1/shop/").json()["slug"] == "charlie"


def test_keys_are_throttled_per_key(key_a, shop_b, monkeypatch):
    cache.clear()
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    _api_key, key = key_a
    client = bearer(key)
    assert client.get("/api/v1/shop/").status_code == 200
    assert client.get("/api/v1/shop/").status_code == 200
    response = client.get("/api/v1/shop/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    with shop_context(shop_b):
        _other, other_key = api_key_create(shop=shop_b, name="other", scopes=["orders:read"])
    assert bearer(other_key).get("/api/v1/shop/").status_code == 200, "another key has its own budget"


def test_unknown_api_path_is_problem_json(key_a):
    _api_key, key = key_a
    assert_problem(bearer(key).get("/api/v1/no-such-thing/"), 404, "not_found")


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/shop/" in document["paths"]
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI's assets come from the installed sidecar package, not a CDN.
    assert b"cdn" not in docs.content.lower() and b"/static/drf_spectacular_sidecar/" in docs.content


def test_key_with_unknown_scope_cannot_be_created(shop_a):
    from django.core.exceptions import ValidationError

    with shop_context(shop_a), pytest.raises(ValidationError) as excinfo:
        api_key_create(shop=shop_a, name="bad", scopes=["catalog:read", "root"])
    assert "root" in str(excinfo.value)


def test_keys_are_stored_as_hashes_only(key_a, shop_a):
    api_key, key = key_a
    with shop_context(shop_a):
        stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert all(key not in str(value) for value in stored.values())
    assert stored["created_at"] <= timezone.now()


def test_malformed_json_is_a_400_problem(api_a):
    response = api_a.generic(
        "POST", "/api/v1/channel-accounts/", '{"channel": "meta", "name": ', content_type="application/json"
    )
    body = assert_problem(response, 400, "malformed_json")
    assert "JSON" in body["detail"]


def test_a_key_without_the_scope_is_refused_with_the_scope_named(shop_a):
    with shop_context(shop_a):
        _api_key, key = api_key_create(shop=shop_a, name="orders only", scopes=["orders:read"])
    body = assert_problem(bearer(key).get("/api/v1/channel-accounts/"), 403, "missing_scope")
    assert "channels:read" in body["detail"]


def test_a_read_scope_does_not_allow_writes(shop_a):
    with shop_context(shop_a):
        _api_key, key = api_key_create(shop=shop_a, name="read only", scopes=["channels:read"])
    client = bearer(key)
    assert client.get("/api/v1/channel-accounts/").status_code == 200
    body = assert_problem(
        client.post("/api/v1/channel-accounts/", {"channel": "snapchat", "name": "x"}, format="json"),
        403,
        "missing_scope",
    )
    assert "channels:write" in body["detail"]


def test_field_errors_are_listed_by_field(api_a):
    response = api_a.post("/api/v1/channel-accounts/", {"channel": "myspace", "name": ""}, format="json")
    body = assert_problem(response, 400, "validation_error")
    fields = {error["field"] for error in body["errors"]}
    assert {"channel", "name"} <= fields


def test_every_operation_documents_its_problem_responses(client):
    document = client.get("/api/schema/?format=json").json()
    assert "Problem" in document["components"]["schemas"]
    operations = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operations += 1
            responses = operation["responses"]
            expected = {"400", "401", "403", "429"} | ({"404"} if "{" in path else set())
            if method in ("post", "put", "patch"):
                expected |= {"413", "415"}
            for status in expected:
                content = responses.get(status, {}).get("content", {})
                assert "application/problem+json" in content, f"{method.upper()} {path}: {status}"
    assert operations > 50
