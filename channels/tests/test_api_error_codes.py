"""The channels app's domain error codes reach a partner in problem+json (`errors[].code`)."""

import pytest

from channels.tests.factories import META_CREDENTIALS, make_account

pytestmark = pytest.mark.django_db


def _post(api, **overrides):
    body = {"channel": "meta", "name": "FB US", "credentials": META_CREDENTIALS, "markets": ["US"]}
    body.update(overrides)
    return api.post("/api/v1/channel-accounts/", body, format="json")


def _codes(response) -> dict[str, str]:
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def test_credentials_errors_carry_codes(api_a):
    codes = _codes(_post(api_a, credentials={"catalog_id": "x", "colour": "red"}))
    assert codes["credentials.access_token"] == "credential_required"
    assert codes["credentials.catalog_id"] == "credential_invalid"
    assert codes["credentials.colour"] == "unknown_credential"


def test_market_errors_carry_codes_including_the_validators(api_a):
    codes = _codes(_post(api_a, markets=["US", "US", {"market": "EU", "country": "XX"}, "no spaces"]))
    assert codes == {
        "markets.1": "market_duplicate",
        "markets.2": "invalid_country",  # shopadmin's validator: the code travels through the channels service
        "markets.3": "market_invalid",
    }


def test_a_market_the_shop_does_not_have_is_market_not_in_shop(api_a, shop_a):
    response = _post(api_a, markets=["US", "GB", {"market": "US", "currency": "EUR"}, {"market_id": 999999}])
    codes = _codes(response)
    assert codes == {
        "markets.1": "market_not_in_shop",
        "markets.2": "market_not_in_shop",
        "markets.3": "market_not_in_shop",
    }
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "No active market of the shop sells to GB." in messages["markets.1"]
    assert "sells to US in EUR" in messages["markets.2"]
    assert "Home" in messages["markets.1"]  # the markets it has are named


def test_a_taken_account_name_is_account_name_taken(api_a, shop_a):
    make_account(shop_a, "meta", name="FB US")
    assert _codes(_post(api_a)) == {"name": "account_name_taken"}


def test_a_method_the_channel_does_not_offer_carries_its_code(api_a):
    body = {"channel": "pinterest", "name": "Pins", "credentials": {}, "checkout_method": "checkout_url"}
    codes = _codes(api_a.post("/api/v1/channel-accounts/", body, format="json"))
    assert codes["checkout_method"] == "checkout_method_unavailable"
    codes = _codes(_post(api_a, publish_method="carrier-pigeon"))
    assert codes["publish_method"] == "invalid_choice"  # the serializer's own check keeps DRF's code


def test_an_account_keeps_its_channel_and_a_feed_channel_has_nothing_to_authorize(api_a, shop_a):
    from shopadmin.tenancy import shop_context

    with shop_context(shop_a):
        account = make_account(shop_a, "google_merchant", name="Feed")
    response = api_a.patch(f"/api/v1/channel-accounts/{account.pk}/", {"channel": "meta"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "channel_unchangeable"
    response = api_a.post(f"/api/v1/channel-accounts/{account.pk}/authorize/")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "nothing_to_authorize"
