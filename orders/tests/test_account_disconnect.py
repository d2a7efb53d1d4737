"""A channel account with orders cannot be disconnected: orders are accounting records."""

import pytest
from django.urls import reverse

from channels.models import ChannelAccount
from orders.services.ingest import order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_with_an_order(shop_a, meta_account):
    with shop_context(shop_a):
        stocked_variant(shop_a)
        order_import(account=meta_account, data=channel_order())
    return meta_account


def test_disconnecting_in_the_ui_explains_and_keeps_everything(alice_client, account_with_an_order, shop_a):
    response = alice_client.post(
        reverse("channels:account-delete", args=["alice", account_with_an_order.pk]), follow=True
    )
    assert response.status_code == 200
    assert "accounting records" in response.content.decode()
    with shop_context(shop_a):
        assert ChannelAccount.objects.filter(pk=account_with_an_order.pk).exists()


def test_disconnecting_through_the_api_is_a_problem_not_a_crash(api_a, account_with_an_order, shop_a):
    response = api_a.delete(f"/api/v1/channel-accounts/{account_with_an_order.pk}/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "Active" in response.json()["errors"][0]["message"]
    with shop_context(shop_a):
        assert ChannelAccount.objects.filter(pk=account_with_an_order.pk).exists()
