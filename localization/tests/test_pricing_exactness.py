"""The stored market prices are exactly the plain reference's, column by column, on a seeded catalog.

Markets cover every rounding preset and custom rules, currencies with 0, 2 and 3 minor units,
positive and negative adjustments, DDP markets pricing in duty (ad valorem, compound, a
preferential origin, an expired rate, a specific rate that does not count) with and without
import tax, fixed, compare-at and sale prices, and a market without a rate.
"""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import ProductVariant
from catalog.tests.factories import make_product
from localization.models import DutyRate, Market, MarketPrice
from localization.pricing import (
    market_params,
    market_prices_recompute,
    market_prices_store_batched,
    market_prices_store_sql,
)
from localization.services import exchange_rate_set_manual, market_create, market_update, market_variant_price_set
from localization.tests.naive_pricing import market_prices_reference
from shopadmin.models import Shop

pytestmark = pytest.mark.django_db
D = Decimal
COLUMNS = [
    "currency", "amount", "compare_at_amount", "sale_amount", "sale_starts_at", "sale_ends_at", "base_amount",
    "base_currency", "origin", "rate", "rate_source", "rate_date", "rule", "landed_cost_amount", "duty_rate_id",
]  # fmt: skip

# name, countries, currency, rate, rounding (preset or (increment, ending, direction)), adjustment,
# DDP pricing landed cost in, tax-inclusive
MARKETS = [
    ("Euro area", ["FR", "DE"], "EUR", "0.867519", "end_90", "1.5", True, True),
    ("United Kingdom", ["GB"], "GBP", "0.7631", "end_99", "0", True, True),
    ("Canada", ["CA"], "CAD", "1.4126", "end_95", "2", True, False),
    ("Australia", ["AU"], "AUD", "1.5547", "whole", "-1.25", True, True),
    ("Switzerland", ["CH"], "CHF", "0.8082", "end_00", "0", True, True),
    ("Japan", ["JP"], "JPY", "157.7", "nearest_100", "3", False, False),
    ("Iceland", ["IS"], "ISK", "138.41", "nearest_10", "0", False, True),
    ("Sweden", ["SE"], "SEK", "9.5597", "nearest_5", "-2.5", False, True),
    ("Kuwait", ["KW"], "KWD", "0.3071", "end_99", "0.75", True, True),
    ("Bahrain", ["BH"], "BHD", "0.376", "none", "-7.5", True, False),
    ("Norway", ["NO"], "NOK", "10.2528", ("0.5", "0", "nearest"), "0", False, True),
    ("Singapore", ["SG"], "SGD", "1.2987", ("10", "9", "up"), "4.125", False, True),
    ("Mexico", ["MX"], "MXN", None, "end_99", "0", False, True),  # no rate: not priced
]
HS_CODES = ["610910", "61091000", "621410", "62141010", "420221", "640399", "611020", "950300", ""]
ORIGINS = ["CN", "US", "PT", "IT", ""]
SPECIAL_PRICES = ["0.00", "0.01", "0.05", "0.49", "0.99", "1.00", "9.99", "12345.67"]


def duty_rates_for_the_test():
    """Rates beyond the starter dataset: the 3-decimal markets get longest-prefix, preferential,
    expired, specific and compound rows."""
    today = timezone.localdate()
    common = {"description": "test", "source": "test", "last_checked": today, "effective_from": dt.date(2020, 1, 1)}
    DutyRate.objects.bulk_create(
        [
            DutyRate(destination="KW", hs_prefix="61", ad_valorem=D("0.04"), **common),
            DutyRate(destination="KW", hs_prefix="6109", ad_valorem=D("0.05"), **common),
            DutyRate(destination="KW", hs_prefix="6109", origin="CN", ad_valorem=D("0.02"), **common),
            DutyRate(destination="KW", hs_prefix="4202", ad_valorem=D("0.07"), **{**common, "effective_to": today}),
            DutyRate(destination="KW", hs_prefix="6403", kind="specific", specific_amount=D("1"), **common),
            DutyRate(
                destination="BH",
                hs_prefix="64",
                kind="compound",
                ad_valorem=D("0.06125"),
                specific_amount=D("1"),
                specific_currency="BHD",
                specific_unit="unit",
                **common,
            ),
        ]
    )


def seed_catalog(shop, rng: random.Random, products: int = 24):
    for index in range(products):
        skus = [f"P{index}-{size}" for size in ("S", "M", "L")[: rng.randint(1, 3)]]
        make_product(
            f"Product {index}",
            skus=skus,
            price="1.00",
            hs_code=rng.choice(HS_CODES),
            country_of_origin=rng.choice(ORIGINS),
        )
    for variant in ProductVariant.objects.order_by("pk"):
        price = D(rng.choice(SPECIAL_PRICES)) if rng.random() < 0.3 else D(rng.randint(50, 99999)) / 100
        compare_at = (price * D(rng.choice(["1.1", "1.333", "2"]))).quantize(D("0.01")) if rng.random() < 0.4 else None
        ProductVariant.objects.filter(pk=variant.pk).update(
            price=price, compare_at_price=compare_at, compare_at_price_currency=None if compare_at is None else "USD"
        )


def seed_markets(shop):
    for name, countries, currency, rate, rounding, adjustment, price_in, tax_inclusive in MARKETS:
        if rate is not None:
            exchange_rate_set_manual(shop=shop, base="USD", quote=currency, rate=rate)
        rule = (
            {"rounding": rounding}
            if isinstance(rounding, str)
            else dict(zip(("rounding_increment", "rounding_ending", "rounding_direction"), rounding, strict=True))
        )
        market_create(
            shop=shop,
            name=name,
            countries=countries,
            currency=currency,
            languages=["en"],
            rate_mode="manual",
            adjustment_percent=D(adjustment),
            duty_mode="DDP" if price_in else "DAP",
            ddp_pricing="price_in" if price_in else "absorb",
            tax_inclusive=tax_inclusive,
            **rule,
        )


def seed_own_prices(rng: random.Random):
    """Fixed prices (with and without compare-at), sale windows (past, running, open-ended), sale-only rows."""
    now = timezone.now()
    variants = list(ProductVariant.objects.order_by("pk"))
    own = {
        "Euro area": {"fixed_price": D("9.50"), "compare_at_price": D("12.00")},
        "United Kingdom": {"sale_price": D("5.00"), "sale_starts_at": now - dt.timedelta(days=1)},
        "Japan": {"fixed_price": D("1500"), "sale_price": D("1200"), "sale_ends_at": now + dt.timedelta(days=3)},
        "Kuwait": {"fixed_price": D("3.250")},
        "Bahrain": {
            "fixed_price": D("2.125"),
            "sale_price": D("1.990"),
            "sale_starts_at": now - dt.timedelta(days=9),
            "sale_ends_at": now - dt.timedelta(days=2),
        },
        "Australia": {"fixed_price": D("0")},
    }
    for name, fields in own.items():
        market = Market.objects.get(name=name)
        for variant in rng.sample(variants, 3):
            market_variant_price_set(market=market, variant=variant, **fields)


def stored(market) -> dict[int, dict]:
    return {
        row["variant_id"]: {column: row[column] for column in COLUMNS}
        for row in MarketPrice.objects.filter(market=market).values("variant_id", *COLUMNS)
    }


def assert_stored_prices_are_the_references(shop):
    compared = 0
    for market in Market.objects.order_by("pk"):
        expected = market_prices_reference(shop_id=shop.pk, market=market)
        if expected is None:
            assert not MarketPrice.objects.filter(market=market).exists()
            continue
        found = stored(market)
        assert found.keys() == expected.keys(), market.name
        for variant_id, columns in expected.items():
            assert found[variant_id] == columns, (market.name, ProductVariant.objects.get(pk=variant_id).sku)
        compared += len(expected)
    return compared


@pytest.fixture(params=[20261206, 7, 1999])
def seeded_shop(request, in_shop_a):
    rng = random.Random(request.param)
    duty_rates_for_the_test()
    seed_catalog(in_shop_a, rng)
    seed_markets(in_shop_a)
    seed_own_prices(rng)
    return in_shop_a, rng


def test_the_sql_path_stores_exactly_the_reference_prices(seeded_shop):
    shop, rng = seeded_shop
    markets = Market.objects.count()
    variants = ProductVariant.objects.count()

    first = market_prices_recompute(shop_id=shop.pk)
    assert first["markets_without_rate"] == ["Mexico"]
    assert first["prices"] == first["prices_written"] == (markets - 1) * variants
    assert assert_stored_prices_are_the_references(shop) == first["prices"]
    landed = MarketPrice.objects.filter(market__duty_mode="DDP", landed_cost_amount__gt=0)
    assert landed.filter(duty_rate__isnull=False).exists() and landed.filter(duty_rate__isnull=True).exists()
    assert (
        MarketPrice.objects.filter(origin="fixed").exists() and MarketPrice.objects.exclude(sale_amount=None).exists()
    )

    # Nothing changed: nothing is written, the stored rows stay as they were.
    before = dict(MarketPrice.objects.values_list("pk", "computed_at"))
    again = market_prices_recompute(shop_id=shop.pk)
    assert (again["prices"], again["prices_written"]) == (first["prices"], 0)
    assert dict(MarketPrice.objects.values_list("pk", "computed_at")) == before

    # Some inputs change: the prices they make are rewritten, the others are left alone.
    changed_variants = rng.sample(list(ProductVariant.objects.order_by("pk")), 5)
    for variant in changed_variants:
        ProductVariant.objects.filter(pk=variant.pk).update(price=variant.price.amount + D("3.33"))
    exchange_rate_set_manual(shop=shop, base="USD", quote="JPY", rate="161.25")
    market_update(market=Market.objects.get(name="Sweden"), rounding="end_00", adjustment_percent=D("1"))
    market_variant_price_set(
        market=Market.objects.get(name="Canada"), variant=changed_variants[0], fixed_price=D("19.95")
    )
    make_product("Late arrival", skus=["LATE-1"], price="42.42", hs_code="610910", country_of_origin="CN")
    third = market_prices_recompute(shop_id=shop.pk)
    assert third["prices"] == (markets - 1) * (variants + 1)
    assert assert_stored_prices_are_the_references(shop) == third["prices"]
    rewritten = {pk for pk, at in MarketPrice.objects.values_list("pk", "computed_at") if before.get(pk) != at}
    assert len(rewritten) == third["prices_written"]
    untouched = MarketPrice.objects.exclude(market__name__in=["Japan", "Sweden"]).exclude(
        variant__in=[*changed_variants, *ProductVariant.objects.filter(sku="LATE-1")]
    )
    assert untouched.exists() and not rewritten & set(untouched.values_list("pk", flat=True))


def test_the_batched_path_stores_exactly_the_reference_prices(seeded_shop):
    """The portable path (the embedded SQLite of `make run`), run here on PostgreSQL."""
    shop, _rng = seeded_shop
    shop = Shop.objects.get(pk=shop.pk)
    for market in Market.objects.order_by("pk"):
        params = market_params(market, shop)
        if params is not None:
            market_prices_store_batched(market=market, params=params)
    assert assert_stored_prices_are_the_references(shop) > 0


def test_only_some_variants(seeded_shop):
    shop, rng = seeded_shop
    market_prices_recompute(shop_id=shop.pk)
    chosen = rng.sample(list(ProductVariant.objects.values_list("pk", flat=True)), 4)
    ProductVariant.objects.filter(pk__in=chosen).update(price=D("77.77"))
    result = market_prices_recompute(shop_id=shop.pk, variant_ids=chosen)
    assert result["prices"] == result["prices_written"] == 4 * (Market.objects.count() - 1)
    assert_stored_prices_are_the_references(shop)


def stored_rows(market):
    return sorted(MarketPrice.objects.filter(market=market).values_list("variant_id", *STORED_FIELDS, "computed_at"))


STORED_FIELDS = [
    "currency", "amount", "compare_at_amount", "sale_amount", "sale_starts_at", "sale_ends_at", "base_amount",
    "base_currency", "origin", "rate", "rate_source", "rate_date", "rule", "landed_cost_amount", "duty_rate_id",
]  # fmt: skip


def test_the_plain_insert_stores_the_rows_the_general_statement_stores(seeded_shop):
    """A market without stored prices gets the plain insert; the update-and-insert statement,
    run on the same empty market, stores the very same rows (DDP and not, fixed and sale prices)."""
    shop, rng = seeded_shop
    shop = Shop.objects.get(pk=shop.pk)
    compared = 0
    for market in Market.objects.order_by("pk"):
        params = market_params(market, shop)
        if params is None:
            continue
        for variant_ids in (None, rng.sample(list(ProductVariant.objects.values_list("pk", flat=True)), 3)):
            assert market_prices_store_sql(params=params, variant_ids=variant_ids, only_new=True)[1] > 0
            from_insert = stored_rows(market)
            MarketPrice.objects.filter(market=market).delete()
            assert market_prices_store_sql(params=params, variant_ids=variant_ids, only_new=False)[1] > 0
            assert stored_rows(market) == from_insert
            MarketPrice.objects.filter(market=market).delete()
            compared += len(from_insert)
    assert compared > 0


def test_the_plain_insert_is_taken_only_while_nothing_is_stored(seeded_shop):
    shop, _rng = seeded_shop
    market = Market.objects.filter(duty_mode="DDP").order_by("pk").first()
    params = market_params(market, Shop.objects.get(pk=shop.pk))
    variants = ProductVariant.objects.count()
    assert market_prices_store_sql(params=params) == (variants, variants)
    # Everything stored and unchanged: the general statement finds nothing to write.
    assert market_prices_store_sql(params=params) == (variants, 0)
    # One price gone: only it is written again, beside the stored ones.
    MarketPrice.objects.filter(market=market).order_by("pk").first().delete()
    assert market_prices_store_sql(params=params) == (variants, 1)
    assert stored(market) == market_prices_reference(shop_id=shop.pk, market=market)


def test_a_whole_market_reads_with_hash_joins_and_leaves_the_setting_as_it_was(seeded_shop):
    from django.db import connection

    shop, _rng = seeded_shop
    market = Market.objects.order_by("pk").first()
    params = market_params(market, Shop.objects.get(pk=shop.pk))
    plans = []

    def explain(execute, sql, sql_params, many, context):
        if "INSERT INTO localization_marketprice" in sql:
            with connection.cursor() as cursor:
                cursor.execute("SHOW enable_nestloop")
                plans.append(cursor.fetchone()[0])
        return execute(sql, sql_params, many, context)

    with connection.execute_wrapper(explain):
        market_prices_store_sql(params=params)  # the whole market
        market_prices_store_sql(params=params, variant_ids=[ProductVariant.objects.first().pk])
    assert plans == ["off", "on"]  # a few variants keep the planner's own choice
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"
