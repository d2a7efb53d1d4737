"""Meta's checkout URL: the cart is exactly what the URL says, with the market's prices, tax,
shipping and the coupon; unknown and sold-out items are explained; bad input is a message."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from orders.services.discounts import discount_code_create
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def _coupon(shop, code="SAVE10", **fields):
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="fixture")):
        return discount_code_create(shop=shop, code=code, kind="percentage", value=Decimal("10"), **fields)


def test_two_items_with_escaped_separators_and_a_coupon_show_exactly_that_cart(client, shop_a, store_a):
    _coupon(shop_a)
    # %2C and %3A are the escaped "," and ":"; the mug's retailer id holds colons itself.
    url = (
        "/s/alice/checkout/?products=AL-TEE-S%3A2%2CAL%3AMUG%3ABLUE%3A1&coupon=SAVE10"
        "&cart_origin=facebook&utm_source=facebook&utm_campaign=spring&fbclid=IwAR0abc"
    )
    response = client.get(url)
    assert response.status_code == 200
    cart = response.context["cart"]
    assert [(line.retailer_id, line.quantity, line.ok) for line in cart.lines] == [
        ("AL-TEE-S", 2, True),
        ("AL:MUG:BLUE", 1, True),
    ]
    assert [line.unit_price for line in cart.lines] == [Decimal("19.99"), Decimal("8.50")]
    assert cart.subtotal == Decimal("48.48")
    assert cart.discount is not None and cart.discount_amount == Decimal("4.85")
    assert cart.shipping is not None and cart.shipping_amount == Decimal("5.00")
    expected = cart.subtotal - cart.discount_amount + cart.shipping_amount + (0 if cart.tax_included else cart.tax)
    assert cart.total == expected
    html = response.content.decode()
    assert "SAVE10" in html and "AL Tee" in html and "AL Mug" in html
    assert "$48.48" in html and "$4.85" in html
    # The landing parameters ride along in the checkout form, to reach the order.
    for name, value in (("cart_origin", "facebook"), ("fbclid", "IwAR0abc"), ("utm_campaign", "spring")):
        assert f'name="{name}" value="{value}"' in html
    assert response.cookies.keys() <= {"csrftoken"}
    assert "sessionid" not in response.cookies


def test_an_unknown_coupon_is_refused_with_its_reason_and_the_cart_stays(client, store_a):
    response = client.get("/s/alice/checkout/?products=AL-TEE-S:1&coupon=NOPE")
    cart = response.context["cart"]
    assert cart.discount is None and cart.coupon_error
    assert cart.coupon_error in response.content.decode()
    assert [(line.retailer_id, line.quantity) for line in cart.lines] == [("AL-TEE-S", 1)]


def test_delivery_reads_free_only_when_a_rate_makes_it_free(client, shop_a, store_a):
    """Without any shipping rate the cart does not promise free delivery: it is arranged with the
    shop (a courier paid on delivery, as chat sellers often do)."""
    from localization.models import ShippingRate

    page = client.get("/s/alice/checkout/?products=AL-TEE-S:1").content.decode()
    assert "Courier" in page and "Arranged with the shop" not in page
    with shop_context(shop_a):
        ShippingRate.objects.all().delete()
    page = client.get("/s/alice/checkout/?products=AL-TEE-S:1").content.decode()
    assert "Arranged with the shop" in page and ">Free<" not in page


def test_unknown_and_sold_out_items_are_explained_not_dropped(client, store_a):
    response = client.get("/s/alice/checkout/?products=NOPE-1:1,AL-CAP:1,AL-DRAFT:1,AL-TEE-S:1")
    assert response.status_code == 200
    cart = response.context["cart"]
    assert [(line.retailer_id, line.problem_code) for line in cart.lines] == [
        ("NOPE-1", "unknown"),
        ("AL-CAP", "sold_out"),
        ("AL-DRAFT", "unknown"),  # a draft is not for sale: as unknown as a missing one
        ("AL-TEE-S", ""),
    ]
    html = response.content.decode()
    assert "NOPE-1" in html and "We do not know the item" in html
    assert "AL Cap is sold out." in html
    assert "Secret draft" not in html
    assert not cart.orderable
    assert 'method="post"' not in html  # nothing to place until the cart is fixed


def test_more_than_is_left_is_said_without_revealing_the_count_above_five(client, store_a):
    html = client.get("/s/alice/checkout/?products=AL-TEE-M:4,AL-TEE-S:25").content.decode()
    assert "Only 3 of AL Tee (M) are left" in html
    assert "Not enough of AL Tee (S) is in stock for 25" in html
    assert "20" not in re.sub(r"<[^>]+>", "", html).replace("2026", "")


@pytest.mark.parametrize(
    "products",
    ["abc", ":3", "AL-TEE-S:0", "AL-TEE-S:1000", "AL-TEE-S:-1", "AL-TEE-S:1.5", "AL-TEE-S:٣", "x" * 5000],
)
def test_malformed_products_are_a_message_never_an_error(client, store_a, products):
    response = client.get("/s/alice/checkout/", {"products": products})
    assert response.status_code == 200
    assert response.context["notices"]


def test_the_product_page_form_builds_the_cart_url_keeping_the_cart(client, store_a):
    response = client.get(
        "/s/alice/checkout/", {"products": "AL-TEE-S:1", "add": "AL-TEE-M", "qty": "2", "utm_source": "pinterest"}
    )
    assert response.status_code == 302
    location = response["Location"]
    assert "products=AL-TEE-S%3A1%2CAL-TEE-M%3A2" in location and "utm_source=pinterest" in location
    # The same item again adds to its quantity; set changes it (0 removes it).
    response = client.get("/s/alice/checkout/", {"products": "AL-TEE-S:1", "add": "AL-TEE-S", "qty": "2"})
    assert "products=AL-TEE-S%3A3" in response["Location"]
    response = client.get("/s/alice/checkout/", {"products": "AL-TEE-S:1,AL-TEE-M:1", "set": "AL-TEE-S", "qty": "0"})
    assert "products=AL-TEE-M%3A1" in response["Location"]


def test_the_product_page_has_variants_availability_open_graph_and_product_data(client, shop_a, store_a):
    with shop_context(shop_a):
        variant = store_a["tee"].variants.get(sku="AL-TEE-M")
    response = client.get(f"/s/alice/p/al-tee/?variant={variant.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="AL-TEE-S"' in html and 'value="AL-TEE-M"' in html
    assert "In stock" in html and "Only 3 left" in html
    assert '<meta property="og:title" content="AL Tee">' in html
    assert '<link rel="canonical" href="http://testserver/s/alice/p/al-tee/">' in html or 'rel="canonical"' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "Product" and data["name"] == "AL Tee"
    offers = {offer["sku"]: offer for offer in data["offers"]}
    assert offers["AL-TEE-S"]["price"] == "19.9900" or Decimal(offers["AL-TEE-S"]["price"]) == Decimal("19.99")
    assert offers["AL-TEE-S"]["priceCurrency"] == "USD"
    assert offers["AL-TEE-S"]["availability"] == "https://schema.org/InStock"
    assert offers["AL-TEE-M"]["availability"] == "https://schema.org/LimitedAvailability"
    # The chosen variant is the one preselected; cost and the exact stock of S are never shown.
    assert re.search(r'value="AL-TEE-M" checked', html)
    assert "cost" not in html.lower()
    assert not response.cookies


def test_the_home_lists_active_products_with_thumbnails_and_no_cookies(client, store_a):
    response = client.get("/s/alice/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "AL Tee" in html and "AL Mug" in html and "Secret draft" not in html
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_a_draft_or_unknown_product_page_is_not_found(client, store_a):
    assert client.get("/s/alice/p/al-secret-draft/").status_code == 404
    assert client.get("/s/alice/p/nothing-here/").status_code == 404
    assert client.get("/s/nobody/").status_code == 404


def test_market_and_language_parameters(client, store_a):
    response = client.get("/s/alice/?market=999999&lang=xx")
    assert response.status_code == 200
    html = response.content.decode()
    assert "That market is not available here" in html
    response = client.get("/s/alice/p/al-tee/?lang=bn")
    html = response.content.decode()
    assert '<html lang="bn" dir="ltr">' in html
    assert "১৯.৯৯" in html  # Bengali digits in the price
    response = client.get("/s/alice/", HTTP_ACCEPT_LANGUAGE="ur,en;q=0.5")
    assert '<html lang="ur" dir="rtl">' in response.content.decode()
    response = client.get("/s/alice/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert '<html lang="en"' in response.content.decode()


def test_the_market_picker_keeps_the_cart(client, shop_a, store_a):
    from localization.models import Market
    from localization.pricing import market_prices_recompute
    from localization.services import exchange_rate_set_manual, market_create

    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="EUR", rate="0.9")
        market = market_create(
            shop=shop_a, name="Europe", countries=["FR", "DE"], currency="EUR", languages=["fr"], rate_mode="manual"
        )
        market_prices_recompute(shop_id=shop_a.pk)
        assert market.prices.exists()
        assert Market.objects.count() == 2
    html = client.get("/s/alice/checkout/?products=AL-TEE-S:1&utm_source=x").content.decode()
    assert 'name="market"' in html
    assert '<input type="hidden" name="products" value="AL-TEE-S:1">' in html
    response = client.get(f"/s/alice/checkout/?products=AL-TEE-S:1&market={market.pk}")
    cart = response.context["cart"]
    assert cart.currency == "EUR"
    assert cart.lines[0].ok and cart.lines[0].retailer_id == "AL-TEE-S"
