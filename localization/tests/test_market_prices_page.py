"""The market prices page: products by name with their options and SKU, the rule in
words, the landed-cost column only where duty and tax are priced in, no query per row."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.tests.factories import make_product
from localization import services
from localization.models import DdpPricing, DutyMode
from localization.pricing import market_prices_recompute, rule_words
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def japan(shop, **fields):
    with shop_context(shop):
        services.exchange_rate_set_manual(shop=shop, base="USD", quote="JPY", rate=Decimal("150"))
        market = services.market_create(
            shop=shop,
            name="Japan",
            countries=["JP"],
            currency="JPY",
            languages=["ja"],
            rate_mode="manual",
            adjustment_percent=Decimal("2.5"),
            rounding="nearest_100",
            **fields,
        )
        market_prices_recompute(shop_id=shop.pk)
    return market


def products(shop, count, start=0):
    with shop_context(shop):
        for i in range(start, start + count):
            make_product(f"Linen shirt {i}", skus=[f"LIN{i}-S", f"LIN{i}-M"], price="19.99")


def test_prices_name_the_product_its_options_and_the_rule_in_words(alice_client, shop_a):
    products(shop_a, 2)
    market = japan(shop_a, duty_mode=DutyMode.DAP)
    page = alice_client.get(reverse("localization:market-prices", args=[shop_a.slug, market.pk])).content.decode()
    assert "Linen shirt 0" in page and "Size: M" in page and "LIN0-M" in page
    assert "+2.5% adjustment · Nearest 100" in page and "nearest_100" not in page
    assert "manual rate" in page
    # DAP: the buyer pays duty on delivery, so there is no landed-cost column (and no row of ¥0).
    assert "Duty and tax priced in" not in page and "Landed cost in" not in page and "¥0" not in page
    # Found by product name too.
    found = alice_client.get(reverse("localization:market-prices", args=[shop_a.slug, market.pk]), {"q": "shirt 1"})
    assert [p.variant.sku for p in found.context["page"]] == ["LIN1-M", "LIN1-S"]


def test_the_landed_cost_column_is_there_only_when_ddp_prices_it_in(alice_client, shop_a):
    products(shop_a, 1)
    absorbed = japan(shop_a, duty_mode=DutyMode.DDP, ddp_pricing=DdpPricing.ABSORB)
    page = alice_client.get(reverse("localization:market-prices", args=[shop_a.slug, absorbed.pk])).content.decode()
    assert "Duty and tax priced in" not in page and "absorbs duty and import tax" in page
    with shop_context(shop_a):
        services.market_update(market=absorbed, ddp_pricing=DdpPricing.PRICE_IN)
        market_prices_recompute(shop_id=shop_a.pk)
    page = alice_client.get(reverse("localization:market-prices", args=[shop_a.slug, absorbed.pk])).content.decode()
    assert "Duty and tax priced in" in page


def test_the_page_makes_no_query_per_price(alice_client, shop_a):
    products(shop_a, 1)
    market = japan(shop_a, duty_mode=DutyMode.DAP)
    url = reverse("localization:market-prices", args=[shop_a.slug, market.pk])
    alice_client.get(url)
    with CaptureQueriesContext(connection) as few:
        alice_client.get(url)
    products(shop_a, 10, start=1)
    with shop_context(shop_a):
        market_prices_recompute(shop_id=shop_a.pk)
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get(url)
    assert len(response.context["page"]) == 22
    assert len(many) == len(few), [q["sql"] for q in many][-5:]


def test_rule_words_in_french():
    from django.utils import translation

    assert rule_words("+0% · none") == "No rounding (minor units only)"
    assert rule_words("-1.5% · end_90") == "-1.5% adjustment · End in .90"
    with translation.override("fr"):
        assert "+2,5\u00a0%" in rule_words("+2.5% · nearest_100")
