"""Shared set-up of the orders tests: a shop with stock, channel accounts, channel orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from channels.adapters.base import ChannelOrder, ChannelOrderLine
from channels.sandbox.control import control_headers
from channels.tests.factories import META_CREDENTIALS, TIKTOK_CREDENTIALS, make_account
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context


def stocked_variant(shop, *, sku="TEE-M", on_hand=10, price="49.90", location_code="main", title="Tee"):
    """A product with one variant and `on_hand` units at a location (created if missing)."""
    from catalog.models import Location, MovementReason
    from catalog.services import StockChange, location_create, product_create, stock_post_movements

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        location = Location.objects.filter(code=location_code).first() or location_create(
            name=location_code.title(), code=location_code, country=shop.country
        )
        product = product_create(title=title, status="active", brand="Alice", variants=[{"sku": sku, "price": price}])
        variant = product.variants.get()
        if on_hand:
            stock_post_movements(
                movements=[StockChange(variant.pk, location.pk, on_hand, MovementReason.RECEIVED, "test")]
            )
        return variant, location


def level(shop, variant):
    from catalog.models import StockLevel

    with shop_context(shop):
        levels = list(StockLevel.objects.filter(variant=variant))
        return sum(lv.on_hand for lv in levels), sum(lv.allocated for lv in levels)


def channel_order(
    external_id="1001",
    *,
    status="CREATED",
    lifecycle="awaiting_fulfillment",
    lines=(("TEE-M", 1, "49.90"),),
    currency="USD",
    updated_at=None,
    email="buyer@example.net",
    total=None,
):
    line_objs = [
        ChannelOrderLine(channel_item_id=sku, sku=sku, quantity=q, unit_price=Decimal(price)) for sku, q, price in lines
    ]
    subtotal = sum((ln.unit_price * ln.quantity for ln in line_objs), Decimal("0"))
    when = updated_at or timezone.now()
    return ChannelOrder(
        external_id=external_id,
        channel_status=status,
        lifecycle=lifecycle,
        currency=currency,
        total=Decimal(total) if total is not None else subtotal,
        subtotal=subtotal,
        lines=line_objs,
        placed_at=when - dt.timedelta(minutes=5),
        updated_at=when,
        buyer_name="Bea Buyer",
        buyer_email=email,
        buyer_phone="+1 555 0100",
        shipping_address={"name": "Bea Buyer", "address1": "1 Main St", "country": "US"},
        buyer_message="Please gift wrap",
        raw={"id": external_id, "buyer": email},
    )


@pytest.fixture
def meta_account(shop_a):
    return make_account(shop_a, "meta")


@pytest.fixture
def tiktok_account(shop_a):
    return make_account(shop_a, "tiktok_shop")


def sandbox_setup(live_server, channel, key, **config):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/", headers=control_headers(), json=config, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def sandbox_order(live_server, channel, key, items):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/orders/",
        headers=control_headers(),
        json={"items": items},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()


def sandbox_list(channel, key, item_ids):
    """Put items on the simulated channel (as a publish would have) so orders can be placed."""
    from channels.sandbox.models import SandboxAccount, SandboxItem

    account = SandboxAccount.objects.get(channel=channel, key=key)
    for item_id in item_ids:
        data = (
            {"id": item_id, "price": "49.90 USD"}
            if channel == "meta"
            else {"skus": [{"seller_sku": item_id, "price": {"amount": "49.90", "currency": "USD"}}]}
        )
        SandboxItem.objects.update_or_create(account=account, item_id=item_id, defaults={"data": data, "active": True})


def meta_sandbox(live_server, account):
    from orders.tests.conftest import sandbox_setup

    return sandbox_setup(
        live_server,
        "meta",
        META_CREDENTIALS["catalog_id"],
        secret=META_CREDENTIALS["app_secret"],
        access_token=META_CREDENTIALS["access_token"],
        commerce_account_id=META_CREDENTIALS["commerce_account_id"],
        webhook_url=f"{live_server.url}/webhooks/meta/{account.webhook_key}/",
    )


def tiktok_sandbox(live_server, account):
    return sandbox_setup(
        live_server,
        "tiktok_shop",
        TIKTOK_CREDENTIALS["app_key"],
        secret=TIKTOK_CREDENTIALS["app_secret"],
        access_token=TIKTOK_CREDENTIALS["access_token"],
        shop_cipher=TIKTOK_CREDENTIALS["shop_cipher"],
        webhook_url=f"{live_server.url}/webhooks/tiktok_shop/{account.webhook_key}/",
    )


def point_at(account, live_server, path):
    """Aim a channel account at the live server's sandbox."""
    from channels.models import ChannelAccount

    with shop_context(account.shop_id):
        ChannelAccount.objects.filter(pk=account.pk).update(api_base_url=f"{live_server.url}/sandbox/{path}")
        account.refresh_from_db()
    return account
