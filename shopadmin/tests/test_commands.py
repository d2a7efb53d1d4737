import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from shopadmin.models import Membership, Shop
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def test_create_shop_with_owner(capsys):
    call_command("create_shop", slug="zed", name="Zed", currency="jpy", country="jp", owner="zed@example.com")
    shop = Shop.objects.get(slug="zed")
    assert (shop.default_currency, shop.country) == ("JPY", "JP")
    with shop_context(shop):  # memberships are row-secured per shop
        assert Membership.objects.get(shop=shop).role == "owner"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"currency": "EURO", "country": "FR", "slug": "ok"}, "ISO 4217"),
        ({"currency": "EUR", "country": "XX", "slug": "ok"}, "ISO 3166"),
        ({"currency": "EUR", "country": "FR", "slug": "Not A Slug"}, "lowercase"),
    ],
)
def test_create_shop_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_shop", name="Bad", **args)
    assert not Shop.objects.exists()


def test_create_shop_refuses_a_taken_slug(shop_a):
    with pytest.raises(CommandError, match="slug"):
        call_command("create_shop", slug="alice", name="Again", currency="USD", country="US")


def test_create_api_key_prints_a_working_key(shop_a, capsys):
    call_command("create_api_key", shop="alice", scopes="catalog:read,orders:read")
    key = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/shop/").json()["slug"] == "alice"


def test_create_api_key_refuses_unknown_scopes_and_shops(shop_a):
    with pytest.raises(CommandError, match="Unknown scopes"):
        call_command("create_api_key", shop="alice", scopes="everything")
    with pytest.raises(CommandError, match="No shop"):
        call_command("create_api_key", shop="nope", scopes="catalog:read")


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo@shopadmin.local" in out
    assert Shop.objects.filter(slug="demo").count() == 1
