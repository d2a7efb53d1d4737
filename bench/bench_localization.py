"""Benchmark: market prices for 100k variants x 10 markets, and landed-cost quotes per second.

Runs against a scratch PostgreSQL database of its own (`bench_localization`, created and
migrated as the owner role, like the test suite's setup; kept between runs, `--drop` removes
it). Queries run as the app role, so row-level security is on, as in production.

    .venv/bin/python bench/bench_localization.py [--variants 100000] [--sample 10000] [--drop]
    .venv/bin/python bench/bench_localization.py --breakdown UK


Market prices are timed in three passes: every price new (insert), nothing changed (nothing
written), every market's rate moved (every price rewritten). Each pass also reports the CPU
seconds of the PostgreSQL backend when the server runs on this machine: on shared cores
that number moves far less than wall time. Prints one JSON object.

`--breakdown MARKET` instead takes one market's first computation apart (on the database a
run has left): the market's plain insert is timed (best of 3, each in a transaction rolled
back, with the foreign keys checked in the statement) as it is, then with parts of the table
dropped inside that transaction: its foreign keys, then its plain indexes, then its unique
indexes; and the price formula alone. The differences are what each part costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.test_settings")
os.environ["SHOPADMIN_TEST_DB"] = os.environ.get("BENCH_DB", "bench_localization")

import django

django.setup()

from django.db import connections, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from djmoney.money import Money  # noqa: E402

SLUG = "bench-localization"
MARKETS = [
    # name, countries, currency, rounding, adjustment, duty mode, ddp pricing
    ("EU", ["FR", "DE", "IT"], "EUR", "end_90", "1.5", "DDP", "price_in"),
    ("UK", ["GB"], "GBP", "end_99", "0", "DDP", "absorb"),
    ("Japan", ["JP"], "JPY", "nearest_100", "2", "DAP", "absorb"),
    ("Canada", ["CA"], "CAD", "end_99", "0", "DAP", "absorb"),
    ("Australia", ["AU"], "AUD", "end_95", "3", "DDP", "price_in"),
    ("Switzerland", ["CH"], "CHF", "end_90", "0", "DAP", "absorb"),
    ("Sweden", ["SE"], "SEK", "nearest_10", "0", "DAP", "absorb"),
    ("Norway", ["NO"], "NOK", "nearest_10", "0", "DAP", "absorb"),
    ("Kuwait", ["KW"], "KWD", "none", "0", "DAP", "absorb"),
]
RATES = {
    "EUR": "0.867519",
    "GBP": "0.7640",
    "JPY": "157.70",
    "CAD": "1.4126",
    "AUD": "1.5547",
    "CHF": "0.8082",
    "SEK": "9.5597",
    "NOK": "10.2528",
    "KWD": "0.3071",
}
HS = ["610910", "621410", "420221", "640399", "611020"]


def database():
    config = setup_databases(verbosity=0, interactive=False, keepdb=True, aliases={"owner"}, serialized_aliases=set())
    owner, default = connections["owner"], connections["default"]
    default.close()
    default.settings_dict["NAME"] = owner.settings_dict["NAME"]
    owner.close()
    return config


def seed(n_variants: int):
    from catalog.models import Product, ProductVariant
    from localization import services
    from localization.models import Market
    from shopadmin.models import Shop
    from shopadmin.services import shop_create
    from shopadmin.tenancy import shop_context

    services.schedule_price_recompute = lambda **kwargs: None  # the benchmark recomputes explicitly
    shop = Shop.objects.filter(slug=SLUG).first() or shop_create(
        name="Bench Localization", slug=SLUG, currency="USD", country="US"
    )
    with shop_context(shop), transaction.atomic():
        for currency, rate in RATES.items():
            services.exchange_rate_set_manual(shop=shop, base="USD", quote=currency, rate=rate)
        for name, countries, currency, rounding, adjustment, duty_mode, ddp in MARKETS:
            if not Market.objects.filter(name=name).exists():
                services.market_create(
                    shop=shop,
                    name=name,
                    countries=countries,
                    currency=currency,
                    languages=["en"],
                    rate_mode="manual",
                    rounding=rounding,
                    adjustment_percent=Decimal(adjustment),
                    duty_mode=duty_mode,
                    ddp_pricing=ddp,
                    tax_inclusive=countries[0] not in ("CA",),
                )
        have = ProductVariant.objects.count()
        per_product = 10
        products_needed = max(0, (n_variants - have) // per_product)
        start = Product.objects.count()
        for batch_start in range(0, products_needed, 2000):
            batch = range(start + batch_start, start + min(batch_start + 2000, products_needed))
            products = Product.objects.bulk_create(
                Product(
                    shop=shop,
                    title=f"Bench product {i}",
                    handle=f"bench-{i}",
                    status="active",
                    hs_code=HS[i % len(HS)],
                    country_of_origin="CN" if i % 3 else "PT",
                )
                for i in batch
            )
            ProductVariant.objects.bulk_create(
                (
                    ProductVariant(
                        shop=shop,
                        product=p,
                        sku=f"B-{p.pk}-{j}",
                        option_values={"Size": str(j)},
                        price=Money(Decimal(5 + (p.pk * 7 + j * 13) % 200) + Decimal("0.99"), "USD"),
                        weight_grams=200 + j * 10,
                        position=j,
                    )
                    for p in products
                    for j in range(per_product)
                ),
                batch_size=5000,
            )
    return shop


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend (when the server runs on this machine):
    steadier than wall time while other work shares the cores."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(work) -> tuple[float, float | None, object]:
    """(wall seconds, backend CPU seconds, result) of `work` in one transaction, commit included."""
    cpu_before, started = backend_cpu_seconds(), time.perf_counter()
    with transaction.atomic():
        result = work()
    wall, cpu_after = time.perf_counter() - started, backend_cpu_seconds()
    return wall, None if cpu_before is None else cpu_after - cpu_before, result


def bench_prices(shop, sample: int) -> dict:
    from catalog.models import ProductVariant
    from localization import services
    from localization.models import Market, MarketPrice
    from localization.pricing import market_prices_recompute
    from localization.tests.naive_pricing import market_prices_recompute_naive
    from shopadmin.tenancy import shop_context

    def recompute(**kwargs):
        return market_prices_recompute(shop_id=shop.pk, **kwargs)

    def cpu(seconds):
        return None if seconds is None else round(seconds, 2)

    with shop_context(shop):
        variants = ProductVariant.objects.count()
        markets = Market.objects.filter(is_active=True).count()
        # First pass: no stored price, every one is inserted, as for a new shop or market. The
        # previous run's rows are truncated (as the owner), not deleted: a million dead rows
        # with the same keys would make every insert check them, which no real first
        # computation meets.
        with connections["owner"].cursor() as cursor:
            cursor.execute(f"TRUNCATE {MarketPrice._meta.db_table}")
        bulk_full, cpu_full, result = timed(recompute)
        # Second pass: nothing changed, so nothing is written.
        bulk_unchanged, cpu_unchanged, unchanged = timed(recompute)
        # Third pass: every market's rate moved, so every price is rewritten (the daily ECB case).
        with transaction.atomic():
            for currency, rate in RATES.items():
                services.exchange_rate_set_manual(
                    shop=shop, base="USD", quote=currency, rate=str(Decimal(rate) * Decimal("1.001"))
                )
        bulk_rates, cpu_rates, rates_changed = timed(recompute)

        sample_ids = list(ProductVariant.objects.order_by("pk").values_list("pk", flat=True)[:sample])
        one_market = [Market.objects.get(name="UK").pk]
        ProductVariant.objects.filter(pk__in=sample_ids).update(price=F("price") + 1)
        bulk_sample, _cpu, _result = timed(lambda: recompute(market_ids=one_market, variant_ids=sample_ids))
        naive_sample, _cpu, naive_count = timed(
            lambda: market_prices_recompute_naive(shop_id=shop.pk, market_ids=one_market, variant_ids=sample_ids)
        )
        ProductVariant.objects.filter(pk__in=sample_ids).update(price=F("price") - 1)

    naive_per_price = naive_sample / naive_count
    bulk_per_price = bulk_full / max(result["prices"], 1)
    return {
        "variants": variants,
        "markets": markets,
        "prices_written": result["prices_written"],
        "bulk_seconds_insert": round(bulk_full, 2),
        "bulk_db_cpu_seconds_insert": cpu(cpu_full),
        "bulk_seconds_unchanged": round(bulk_unchanged, 2),
        "bulk_db_cpu_seconds_unchanged": cpu(cpu_unchanged),
        "prices_written_unchanged": unchanged["prices_written"],
        "bulk_seconds_rates_changed": round(bulk_rates, 2),
        "bulk_db_cpu_seconds_rates_changed": cpu(cpu_rates),
        "prices_written_rates_changed": rates_changed["prices_written"],
        "bulk_prices_per_second": round(result["prices"] / bulk_full),
        "sample_prices": naive_count,
        "naive_orm_seconds_sample": round(naive_sample, 2),
        "bulk_seconds_same_sample": round(bulk_sample, 3),
        "speedup_same_sample": round(naive_sample / bulk_sample, 1),
        "naive_estimated_seconds_full": round(naive_per_price * result["prices"]),
        "speedup_per_price_full_vs_naive": round(naive_per_price / bulk_per_price, 1),
    }


def bench_quotes(shop, seconds: float = 5.0) -> dict:
    from localization.landed_cost import QuoteItem, QuoteRequest, quote_landed_cost
    from shopadmin.tenancy import shop_context

    basket = QuoteRequest(
        destination_country="GB",
        origin_country="US",
        currency="USD",
        quote_currency="GBP",
        shipping=Decimal("30"),
        insurance=Decimal("2"),
        items=[
            QuoteItem(quantity=q, unit_price=Decimal(p), hs_code=hs, weight_kg=Decimal("0.3"), origin_country=o)
            for q, p, hs, o in [
                (1, "45.00", "610910", "CN"),
                (2, "180.00", "621410", "IT"),
                (1, "120.00", "420221", "PT"),
                (1, "89.00", "640399", "VN"),
                (3, "15.00", "611020", ""),
            ]
        ],
    )
    with shop_context(shop), transaction.atomic():
        quote_landed_cost(basket, shop_id=shop.pk)  # warm-up
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            quote_landed_cost(basket, shop_id=shop.pk)
            count += 1
        elapsed = time.perf_counter() - started
    return {
        "basket_lines": 5,
        "quotes": count,
        "seconds": round(elapsed, 2),
        "quotes_per_second": round(count / elapsed, 1),
    }


def insert_breakdown(market_name: str) -> dict:
    from localization.models import Market
    from localization.pricing import _COMPUTED, _DUTY, _DUTY_COLUMNS, _NO_DUTY_COLUMNS, _rounded, _sql, market_params
    from shopadmin.models import Shop
    from shopadmin.tenancy import shop_context

    shop = Shop.objects.get(slug=SLUG)
    with shop_context(shop):
        market = Market.objects.get(name=market_name)
        params = market_params(market, shop)
    table = "localization_marketprice"
    owner = connections["owner"]  # dropping a constraint takes the table's owner
    with owner.cursor() as cursor:
        cursor.execute(f"SELECT conname, contype FROM pg_constraint WHERE conrelid = '{table}'::regclass")
        constraints = cursor.fetchall()
        cursor.execute(
            f"SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '{table}'::regclass "
            "AND NOT indisprimary AND NOT indisunique"
        )
        plain = [name for (name,) in cursor.fetchall()]
    foreign = [f"ALTER TABLE {table} DROP CONSTRAINT {name}" for name, kind in constraints if kind == "f"]
    unique = [f"ALTER TABLE {table} DROP CONSTRAINT {name} CASCADE" for name, kind in constraints if kind == "u"]
    indexes = [f"DROP INDEX {name}" for name in plain]
    price_in = params["price_in"]
    formula = _COMPUTED.format(
        variant_filter="",
        duty_columns=_DUTY_COLUMNS if price_in else _NO_DUTY_COLUMNS,
        duty=_DUTY if price_in else "",
        rounded_price=_rounded("qp", "rp"),
        rounded_compare=_rounded("qc", "rc"),
    )
    insert = _sql(with_variant_filter=False, price_in=price_in, only_new=True)

    def best_ms(statement, before=()):
        times = []
        with owner.cursor() as cursor:
            for _ in range(3):
                cursor.execute("BEGIN")
                cursor.execute("SELECT set_config('app.all_shops', 'on', true)")
                cursor.execute("SET LOCAL enable_nestloop = off")
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"DELETE FROM {table} WHERE market_id = %s", [params["market"]])
                for sql in before:
                    cursor.execute(sql)
                started = time.perf_counter()
                cursor.execute(statement, params)
                times.append((time.perf_counter() - started) * 1000)
                cursor.execute("ROLLBACK")
        return round(min(times))

    whole = best_ms(insert)
    no_keys = best_ms(insert, foreign)
    no_plain = best_ms(insert, foreign + indexes)
    bare = best_ms(insert, foreign + indexes + unique)
    with shop_context(shop):
        from catalog.models import ProductVariant

        rows = ProductVariant.objects.count()
    return {
        "benchmark": "market_price_insert_breakdown",
        "market": market_name,
        "rows": rows,
        "insert_ms": whole,
        "foreign_key_checks_ms": whole - no_keys,
        "plain_indexes_ms": no_keys - no_plain,
        "unique_indexes_ms": no_plain - bare,
        "heap_and_primary_key_ms": bare,
        "formula_alone_ms": best_ms(formula + " SELECT count(*) FROM (SELECT * FROM computed OFFSET 0) c"),
        "foreign_keys": [name for name, kind in constraints if kind == "f"],
        "plain_indexes": plain,
        "unique_constraints": [name for name, kind in constraints if kind == "u"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--drop", action="store_true", help="drop the scratch database afterwards")
    parser.add_argument("--breakdown", metavar="MARKET", help="one market's first computation taken apart")
    args = parser.parse_args()
    config = database()
    if args.breakdown:
        print(json.dumps(insert_breakdown(args.breakdown), indent=2))
        return
    try:
        started = time.perf_counter()
        shop = seed(args.variants)
        seed_seconds = time.perf_counter() - started
        # Fresh bulk inserts leave the planner without statistics (autovacuum would catch up
        # later in production); ANALYZE needs the table owner.
        with connections["owner"].cursor() as cursor:
            cursor.execute("ANALYZE catalog_product, catalog_productvariant, localization_marketprice")
        report = {
            "benchmark": "localization",
            "database": connections["default"].settings_dict["NAME"],
            "seed_seconds": round(seed_seconds, 1),
            "market_prices": bench_prices(shop, args.sample),
            "landed_cost": bench_quotes(shop),
        }
        print(json.dumps(report, indent=2))
    finally:
        if args.drop:
            connections["default"].close()
            teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
