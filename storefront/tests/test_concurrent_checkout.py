"""50 buyers check out the last 10 units at the same moment, against the live server: exactly
10 orders, 40 clear refusals, and stock never below zero."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.test import override_settings

from catalog import services as catalog
from catalog.models import Product, StockLevel
from catalog.tests.factories import make_location
from orders.models import Order
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db(transaction=True)

BUYERS = 50
UNITS = 10


def _seed_last_units(shop) -> None:
    from localization.pricing import market_prices_recompute

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="fixture")):
        location = make_location()
        product = catalog.product_create(
            title="Last Lamp", status=Product.Status.ACTIVE, variants=[{"sku": "LAMP-1", "price": "30.00"}]
        )
        catalog.stock_set(variant=product.variants.get(), location=location, on_hand=UNITS)
        market_prices_recompute(shop_id=shop.pk)


def test_fifty_concurrent_checkouts_for_the_last_ten_units(live_server, shop_a):
    _seed_last_units(shop_a)
    url = "/s/alice/checkout/?products=LAMP-1:1"

    def buy(index: int) -> tuple[int, str]:
        with httpx.Client(base_url=live_server.url, timeout=60) as client:
            client.get(url)
            response = client.post(
                url,
                data={
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                    "name": f"Buyer {index}",
                    "phone": f"+1 415 555 {index:04d}",
                    "country": "US",
                    "line1": f"{index} Market St",
                    "city": "San Francisco",
                    "region": "CA",
                    "postcode": "94105",
                    "payment_method": "cod",
                },
            )
            return response.status_code, response.text

    # Plain HTTP to the live server: the CSRF cookie must not be Secure-only for httpx to send it.
    settings = override_settings(STOREFRONT_RATE_LIMIT_PER_MINUTE=0, CSRF_COOKIE_SECURE=False)
    with settings, ThreadPoolExecutor(max_workers=BUYERS) as pool:
        results = list(pool.map(buy, range(BUYERS)))
    codes = sorted(code for code, _text in results)
    assert codes.count(303) == UNITS, codes
    refusals = [text for code, text in results if code == 409]
    assert len(refusals) == BUYERS - UNITS, codes
    assert all("Last Lamp is sold out." in text for text in refusals)
    with shop_context(shop_a):
        assert Order.objects.count() == UNITS
        level = StockLevel.objects.get(variant__sku="LAMP-1")
        assert (level.on_hand, level.allocated) == (UNITS, UNITS)
        assert not Order.objects.filter(lines__quantity_short__gt=0).exists()
