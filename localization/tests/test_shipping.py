"""Shipping rates: the contract `shipping_options` (flat, by weight with its band, free over, order,
inactive, other markets and shops), and the services' checks and audit entries."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from localization import services
from localization.models import Market, ShippingRate
from localization.shipping import ShippingOption, shipping_option_for, shipping_options, started_kilograms
from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def market(in_shop_a):
    return services.market_create(
        shop=in_shop_a, name="Europe", countries=["FR", "DE"], currency="EUR", languages=["fr"]
    )


def flat(market, name="Flat", amount="4.50", **kw):
    return services.shipping_rate_create(market=market, name=name, kind="flat", amount=D(amount), **kw)


def by_weight(market, name="Courier", amount="5.00", per_kg="2.00", **kw):
    return services.shipping_rate_create(
        market=market, name=name, kind="weight", amount=D(amount), per_kg_amount=D(per_kg), **kw
    )


def free_over(market, name="Post", amount="4.00", threshold="50.00", **kw):
    return services.shipping_rate_create(
        market=market, name=name, kind="free_over", amount=D(amount), free_over=D(threshold), **kw
    )


def offered(market, weight=0, subtotal="0"):
    return {o.name: o.amount for o in shipping_options(market=market, weight_grams=weight, subtotal=D(subtotal))}


def test_a_flat_rate_costs_its_amount_in_the_markets_currency(market):
    rate = flat(market, name="Colissimo, 2–3 jours")
    assert shipping_options(market=market, weight_grams=750, subtotal=D("12.00")) == [
        ShippingOption(rate_id=rate.pk, name="Colissimo, 2–3 jours", amount=D("4.50"), currency="EUR")
    ]


def test_the_merchants_words_are_kept_as_written(market):
    flat(market, name="  কুরিয়ার, ২–৩ দিন  ")
    assert list(offered(market)) == ["কুরিয়ার, ২–৩ দিন"]  # trimmed, nothing else changed


def test_every_started_kilogram_counts():
    assert [started_kilograms(g) for g in (0, 1, 999, 1000, 1001, 2000, 2001)] == [0, 1, 1, 1, 2, 2, 3]


def test_by_weight_is_base_plus_amount_per_started_kg(market):
    by_weight(market)  # €5.00 + €2.00 per started kg
    assert offered(market, weight=0) == {"Courier": D("5.00")}
    assert offered(market, weight=1) == {"Courier": D("7.00")}
    assert offered(market, weight=1000) == {"Courier": D("7.00")}
    assert offered(market, weight=1001) == {"Courier": D("9.00")}
    assert offered(market, weight=12_345) == {"Courier": D("31.00")}  # 13 started kg


def test_a_weight_band_includes_both_of_its_edges(market):
    by_weight(market, min_weight_grams=500, max_weight_grams=2000)
    assert offered(market, weight=499) == {}
    assert offered(market, weight=500) == {"Courier": D("7.00")}
    assert offered(market, weight=2000) == {"Courier": D("9.00")}
    assert offered(market, weight=2001) == {}


def test_a_band_with_one_edge(market):
    flat(market, name="Light", max_weight_grams=1000)
    flat(market, name="Heavy", amount="9.00", min_weight_grams=1001)
    assert offered(market, weight=0) == {"Light": D("4.50")}
    assert offered(market, weight=1000) == {"Light": D("4.50")}
    assert offered(market, weight=1001) == {"Heavy": D("9.00")}
    assert offered(market, weight=10**9) == {"Heavy": D("9.00")}


def test_free_over_is_free_at_exactly_the_threshold(market):
    free_over(market)  # €4.00, free from €50.00
    assert offered(market, subtotal="49.99") == {"Post": D("4.00")}
    assert offered(market, subtotal="50.00") == {"Post": D("0.00")}
    assert offered(market, subtotal="50") == {"Post": D("0.00")}
    assert offered(market, subtotal="50.01") == {"Post": D("0.00")}
    assert offered(market, subtotal="0") == {"Post": D("4.00")}


def test_amounts_are_rounded_to_the_currencys_minor_unit(in_shop_a):
    yen = services.market_create(shop=in_shop_a, name="Japan", countries=["JP"], currency="JPY", languages=["ja"])
    by_weight(yen, amount="800", per_kg="150")
    (option,) = shipping_options(market=yen, weight_grams=1500, subtotal=D("3000"))
    assert (option.amount, str(option.amount), option.currency) == (D("1100"), "1100", "JPY")


def test_amounts_come_with_the_currencys_places(market):
    flat(market, amount="4.5")
    (option,) = shipping_options(market=market, weight_grams=0, subtotal=D("1"))
    assert str(option.amount) == "4.50"  # stored as 4.5000, given as the currency writes it


def test_inactive_rates_are_not_offered(market):
    flat(market, name="Off", is_active=False)
    rate = flat(market, name="On")
    assert offered(market) == {"On": D("4.50")}
    services.shipping_rate_update(rate=rate, is_active=False)
    assert offered(market) == {}


def test_position_orders_the_options_and_ties_go_cheapest_first(market):
    flat(market, name="Express", amount="15.00", position=0)
    flat(market, name="Economy", amount="3.00", position=1)
    flat(market, name="Standard", amount="6.00", position=1)
    free_over(market, name="Post", amount="8.00", threshold="20.00", position=1)  # free for this basket
    names = [o.name for o in shipping_options(market=market, weight_grams=100, subtotal=D("25"))]
    assert names == ["Express", "Post", "Economy", "Standard"]


def test_another_markets_rates_are_never_offered(market, in_shop_a):
    home = Market.objects.get(is_home=True)
    flat(home, name="Home delivery")
    flat(market, name="EU delivery")
    assert list(offered(market)) == ["EU delivery"]
    assert list(offered(home)) == ["Home delivery"]
    home_rate = ShippingRate.objects.get(name="Home delivery")
    assert shipping_option_for(market=market, rate_id=home_rate.pk, weight_grams=0, subtotal=D("0")) is None


def test_another_shops_rates_are_never_offered(market, shop_b):
    flat(market, name="Alice's courier")
    with shop_context(shop_b):
        # In charlie's shop, alice's market offers nothing: her rates are not his to read.
        assert shipping_options(market=market, weight_grams=0, subtotal=D("0")) == []
        charlie_market = Market.objects.get(is_home=True)
        assert shipping_options(market=charlie_market, weight_grams=0, subtotal=D("0")) == []


def test_a_rate_is_not_offered_once_its_market_changes_currency_until_saved_again(market):
    rate = flat(market)
    services.market_update(market=market, currency="GBP")
    market.refresh_from_db()
    assert offered(market) == {}
    rate.refresh_from_db()
    assert (rate.currency, rate.is_current) == ("EUR", False)
    services.shipping_rate_update(rate=rate, amount=D("4.00"))
    assert offered(market) == {"Flat": D("4.00")}
    assert shipping_options(market=market, weight_grams=0, subtotal=D("0"))[0].currency == "GBP"


@pytest.mark.parametrize("weight", [-1, 1.5, "100", None, True])
def test_a_weight_that_is_not_whole_grams_is_a_programming_error(market, weight):
    with pytest.raises(ValueError):
        shipping_options(market=market, weight_grams=weight, subtotal=D("0"))


# --- The services ------------------------------------------------------------------------------


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "flat", "amount": D("-1")}, {"amount": ["shipping_amount_negative"]}),
        ({"kind": "weight", "amount": D("1")}, {"per_kg_amount": ["shipping_per_kg_required"]}),
        (
            {"kind": "weight", "amount": D("1"), "per_kg_amount": D("-0.01")},
            {"per_kg_amount": ["shipping_amount_negative"]},
        ),
        ({"kind": "free_over", "amount": D("1")}, {"free_over": ["shipping_threshold_required"]}),
        ({"kind": "free_over", "amount": D("1"), "free_over": D("-5")}, {"free_over": ["shipping_amount_negative"]}),
        (
            {"kind": "flat", "amount": D("1"), "min_weight_grams": 2001, "max_weight_grams": 2000},
            {"max_weight_grams": ["shipping_weight_band_invalid"]},
        ),
        ({"kind": "flat", "amount": D("4.999")}, {"amount": ["price_not_in_minor_units"]}),
        ({"kind": "flat", "amount": D("1"), "name": ""}, {"name": ["blank"]}),
        ({"kind": "express", "amount": D("1")}, {"kind": ["invalid_choice"]}),
    ],
)
def test_the_services_refuse_with_a_code_on_the_field(market, fields, expected):
    with pytest.raises(ValidationError) as caught:
        services.shipping_rate_create(market=market, **{"name": "Rate", **fields})
    assert codes(caught.value) == expected
    assert not ShippingRate.objects.exists()


def test_a_yen_rate_has_no_decimals(in_shop_a):
    yen = services.market_create(shop=in_shop_a, name="Japan", countries=["JP"], currency="JPY", languages=["ja"])
    with pytest.raises(ValidationError) as caught:
        services.shipping_rate_create(market=yen, name="EMS", kind="flat", amount=D("800.50"))
    assert codes(caught.value) == {"amount": ["price_not_in_minor_units"]}


def test_a_kinds_unused_amounts_are_not_kept(market):
    rate = by_weight(market)
    rate = services.shipping_rate_update(rate=rate, kind="flat")
    assert (rate.per_kg_amount, rate.free_over) == (None, None)
    rate.refresh_from_db()
    assert (rate.kind, rate.amount, rate.per_kg_amount) == ("flat", D("5.0000"), None)


def test_create_update_delete_are_in_the_audit_log(market):
    with acting_as(Actor(door=Door.CLI, label="test")):
        rate = flat(market)
        services.shipping_rate_update(rate=rate, amount=D("4.50"))  # no change: no entry
        services.shipping_rate_update(rate=rate, amount=D("5.00"), name="Flat rate")
        services.shipping_rate_delete(rate=rate)
    entries = list(AuditLogEntry.objects.filter(model="localization.ShippingRate").order_by("pk"))
    assert [e.action for e in entries] == ["shipping_rate.create", "shipping_rate.update", "shipping_rate.delete"]
    assert entries[0].changes["amount"] == "4.5000" and entries[0].changes["currency"] == "EUR"
    assert entries[1].changes == {"amount": ["4.5000", "5.0000"], "name": ["Flat", "Flat rate"]}
    assert not ShippingRate.objects.exists()


def test_deleting_a_market_deletes_its_rates(in_shop_a):
    market = services.market_create(shop=in_shop_a, name="Gone", countries=["IT"], currency="EUR", languages=["it"])
    flat(market)
    services.market_delete(market=market)
    assert not ShippingRate.objects.exists()


def test_the_worked_example_of_the_docs(market):
    """docs/localization.md, *Shipping rates*: three rates of a EUR market and two baskets."""
    courier = by_weight(market, name="Courier", max_weight_grams=2000, position=0)
    post = free_over(market, name="Post", position=1)
    flat(market, name="Pickup", amount="0", position=1, is_active=False)
    assert shipping_options(market=market, weight_grams=1200, subtotal=D("45.00")) == [
        ShippingOption(rate_id=courier.pk, name="Courier", amount=D("9.00"), currency="EUR"),
        ShippingOption(rate_id=post.pk, name="Post", amount=D("4.00"), currency="EUR"),
    ]
    assert shipping_options(market=market, weight_grams=2500, subtotal=D("60.00")) == [
        ShippingOption(rate_id=post.pk, name="Post", amount=D("0.00"), currency="EUR"),
    ]
