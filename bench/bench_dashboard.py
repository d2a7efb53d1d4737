"""Benchmark: the dashboard page (the shop home) on a shop with 100k variants and 200k orders.

Runs against a scratch PostgreSQL database of its own (`bench_dashboard`, created and
migrated as the owner role, like the test suite; kept between runs, `--drop` removes it).
Pages are served through the Django test client as the app role, so row-level security is
on, as in production. The catalog comes from seed_catalog; listings (3 accounts), orders
and their lines (spread over 13 months) are bulk-inserted.

    .venv/bin/python bench/bench_dashboard.py [--variants 100000] [--orders 200000] [--runs 15] [--drop]
    .venv/bin/python bench/bench_dashboard.py --day-orders 10,2000,10000

Prints one JSON object: p50/p95 ms and the number of queries per page. `--day-orders` instead
measures what keeping the daily rollups costs an import as a day fills: for each size, a shop
of its own whose day already holds that many orders (bulk-inserted and rolled up) imports 20
more through the order service; reported are the rollup step's median milliseconds and its
queries, and the whole import's median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.test_settings")
os.environ["SHOPADMIN_TEST_DB"] = os.environ.get("BENCH_DB", "bench_dashboard")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

SLUG = "bench-dashboard"
CHUNK = 5000


def database():
    config = setup_databases(verbosity=0, interactive=False, keepdb=True, aliases={"owner"}, serialized_aliases=set())
    owner, default = connections["owner"], connections["default"]
    default.close()
    default.settings_dict["NAME"] = owner.settings_dict["NAME"]
    owner.close()
    return config


def seed(n_variants: int, n_orders: int):
    from catalog.models import ProductVariant
    from channels.models import ChannelListing, ListingStatus
    from channels.tests.factories import make_account
    from orders.models import IssueKind, Order, OrderLine, ReconciliationIssue
    from shopadmin.audit import Actor, acting_as
    from shopadmin.models import Door, Shop, User
    from shopadmin.services import shop_create
    from shopadmin.tenancy import shop_context

    shop = Shop.objects.filter(slug=SLUG).first()
    if shop is None:
        with acting_as(Actor(door=Door.CLI, label="bench")):
            owner = User.objects.create_user(email="bench-dashboard@example.com", password=None)
            shop = shop_create(name="Bench Dashboard", slug=SLUG, currency="USD", country="US", owner=owner)
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        have = ProductVariant.objects.count()
        if have < n_variants:
            call_command("seed_catalog", shop=SLUG, variants=n_variants - have, seed=3, stdout=open(os.devnull, "w"))  # noqa: SIM115
        from channels.models import ChannelAccount

        accounts = list(ChannelAccount.objects.order_by("pk"))
        if not accounts:
            accounts = [make_account(shop, channel) for channel in ("meta", "tiktok_shop", "pinterest")]
        variants = list(ProductVariant.objects.values_list("id", "sku", "price").order_by("id")[:n_variants])
        rng = random.Random(5)
        if not ChannelListing.objects.exists():
            now = timezone.now()
            statuses = [ListingStatus.PUBLISHED] * 90 + [ListingStatus.PENDING] * 6 + [ListingStatus.REJECTED] * 4
            reasons = [
                [{"field": "image_link", "code": "invalid", "message": "Image could not be downloaded"}],
                [{"field": "title", "code": "invalid", "message": "Title is longer than 200 characters"}],
                [{"field": "price", "code": "invalid", "message": 'Invalid price: use e.g. "9.99 USD"'}],
            ]
            for account in accounts:
                rows = []
                for vid, sku, _price in variants:
                    status = rng.choice(statuses)
                    rows.append(
                        ChannelListing(
                            shop=shop,
                            account=account,
                            variant_id=vid,
                            item_id=sku,
                            status=status,
                            published_at=now - dt.timedelta(minutes=rng.randint(1, 600))
                            if status == ListingStatus.PUBLISHED
                            else None,
                            errors=rng.choice(reasons) if status == ListingStatus.REJECTED else [],
                        )
                    )
                ChannelListing.objects.bulk_create(rows, batch_size=CHUNK)
        have = have_before = Order.objects.count()
        order_accounts = [a for a in accounts if a.channel in ("meta", "tiktok_shop")]
        now = timezone.now()
        while have < n_orders:
            batch = min(CHUNK, n_orders - have)
            orders, picks = [], []
            for n in range(batch):
                account = rng.choice(order_accounts)
                chosen = rng.sample(variants, k=rng.choice([1, 1, 2, 3]))
                lines = [(vid, sku, Decimal(price), rng.choice([1, 1, 2])) for vid, sku, price in chosen]
                total = sum((price * qty for _v, _s, price, qty in lines), Decimal(0))
                placed = now - dt.timedelta(minutes=rng.randint(1, 400 * 24 * 60))
                orders.append(
                    Order(
                        shop=shop,
                        account=account,
                        channel=account.channel,
                        external_id=f"B{have + n:08d}",
                        status=rng.choice(["awaiting_fulfillment", "fulfilled", "fulfilled", "cancelled"]),
                        placed_at=placed,
                        currency="USD",
                        subtotal=total,
                        total=total,
                        shop_currency="USD",
                        subtotal_shop=total,
                        total_shop=total,
                        rate=Decimal(1),
                        created_at=placed,
                    )
                )
                picks.append(lines)
            chunk_started = time.perf_counter()
            with transaction.atomic():
                Order.objects.bulk_create(orders, batch_size=CHUNK)
                OrderLine.objects.bulk_create(
                    [
                        OrderLine(
                            shop=shop,
                            order=order,
                            variant_id=vid,
                            sku=sku,
                            quantity=qty,
                            unit_price=price,
                            line_total=price * qty,
                        )
                        for order, lines in zip(orders, picks, strict=True)
                        for vid, sku, price, qty in lines
                    ],
                    batch_size=CHUNK,
                )
            have += batch
            # Autovacuum's part (it is off on the benchmark's server): a backend plans its
            # foreign-key checks once and keeps the plan until the table's statistics change, and
            # a plan made while orders_order was empty walks all of the shop's orders per line.
            with connections["owner"].cursor() as cursor:
                cursor.execute("ANALYZE orders_order, orders_orderline")
            print(f"orders {have}: chunk {time.perf_counter() - chunk_started:.1f} s", file=sys.stderr)
        if have_before < n_orders:
            # Bulk inserted past the services that keep the dashboard's daily rollups; statistics
            # first, as after any bulk load (only a table's owner may ANALYZE it).
            from orders.rollup import sales_rollup_rebuild

            with connections["owner"].cursor() as cursor:
                cursor.execute("ANALYZE orders_order, orders_orderline")
            started = time.perf_counter()
            sales_rollup_rebuild(tz_name=shop.timezone)
            print(f"rollup rebuild of {n_orders} orders: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if not ReconciliationIssue.objects.exists():
            ReconciliationIssue.objects.bulk_create(
                ReconciliationIssue(shop=shop, account=order_accounts[0], kind=IssueKind.OVERSELL, key=f"K{i}")
                for i in range(50)
            )
    # Only a table's owner may ANALYZE it, so this runs on the owner connection.
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE")
    return shop


def measure(shop, runs: int, period: str) -> dict:
    from django.test import Client

    from shopadmin.models import Membership

    client = Client()
    from shopadmin.tenancy import shop_context

    with shop_context(shop):  # memberships are row-secured
        owner = Membership.objects.filter(shop=shop).select_related("user").first().user
    client.force_login(owner)
    url = f"/app/{shop.slug}/?period={period}"
    response = client.get(url)  # warm up caches and the connection
    assert response.status_code == 200, response.status_code
    timings, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        queries = len(captured.captured_queries)
    timings.sort()
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "queries": queries,
        "slowest_queries_ms": [round(float(q["time"]) * 1000, 1) for q in slowest],
    }


def day_imports(held: int, imports: int = 20) -> dict:
    """A day already holding `held` orders (bulk-inserted, then rolled up), and `imports` more
    orders of that day imported through the order service: the rollup step of each timed."""
    from catalog.models import MovementReason
    from catalog.services import StockChange, location_create, product_create, stock_post_movements
    from channels.adapters.base import ChannelOrder, ChannelOrderLine
    from channels.tests.factories import make_account
    from orders.models import Lifecycle, Order, OrderLine
    from orders.rollup import sales_rollup_rebuild
    from orders.services import ingest
    from shopadmin.audit import Actor, acting_as
    from shopadmin.models import Door
    from shopadmin.services import shop_create
    from shopadmin.tenancy import shop_context

    slug = f"bench-day-{held}-{int(time.time())}"
    with acting_as(Actor(door=Door.CLI, label="bench")):
        shop = shop_create(name=f"Bench day {held}", slug=slug, currency="USD", country="US")
        with shop_context(shop):
            location = location_create(name="Main", code="main", country="US")
            product = product_create(
                title="Day tee", status="active", brand="Bench", variants=[{"sku": "DAY-1", "price": "9.99"}]
            )
            variant = product.variants.get()
            stock_post_movements(
                movements=[StockChange(variant.pk, location.pk, imports * 2, MovementReason.RECEIVED, "bench")]
            )
    account = make_account(shop, "tiktok_shop")
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    price = Decimal("9.99")
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        for start in range(0, held, CHUNK):
            orders = Order.objects.bulk_create(
                Order(
                    shop=shop,
                    account=account,
                    channel=account.channel,
                    external_id=f"H{i:07d}",
                    channel_status="AWAITING_SHIPMENT",
                    status=Lifecycle.AWAITING_FULFILLMENT,
                    placed_at=noon - dt.timedelta(seconds=i % 3600),
                    currency="USD",
                    total=price,
                    shop_currency="USD",
                    total_shop=price,
                    rate=Decimal("1"),
                )
                for i in range(start, min(held, start + CHUNK))
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    shop=shop, order=o, variant=variant, sku="DAY-1", quantity=1, unit_price=price, line_total=price
                )
                for o in orders
            )
        sales_rollup_rebuild(tz_name=shop.timezone)
    steps: list[tuple[float, int]] = []
    touch = ingest.sales_rollup_touch

    def timed_touch(*args, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            touch(*args, **kwargs)
            elapsed = (time.perf_counter() - started) * 1000
        steps.append((elapsed, len(captured.captured_queries)))

    ingest.sales_rollup_touch = timed_touch
    imports_ms = []
    try:
        with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
            for i in range(imports):
                line = ChannelOrderLine(channel_item_id="DAY-1", sku="DAY-1", quantity=1, unit_price=price)
                when = noon + dt.timedelta(seconds=i)
                data = ChannelOrder(
                    external_id=f"D{i:06d}",
                    channel_status="AWAITING_SHIPMENT",
                    lifecycle="awaiting_fulfillment",
                    currency="USD",
                    total=price,
                    subtotal=price,
                    lines=[line],
                    placed_at=when,
                    updated_at=when,
                )
                started = time.perf_counter()
                ingest.order_import(account=account, data=data)
                imports_ms.append((time.perf_counter() - started) * 1000)
    finally:
        ingest.sales_rollup_touch = touch
    return {
        "orders_of_the_day_before": held,
        "imports": imports,
        "rollup_step_ms_p50": round(statistics.median(s[0] for s in steps), 2),
        "rollup_step_queries": sorted({s[1] for s in steps}),
        "import_ms_p50": round(statistics.median(imports_ms), 2),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--day-orders", default="", help="e.g. 10,2000,10000: days holding that many orders")
    args = parser.parse_args()
    config = database()
    if args.day_orders:
        try:
            sizes = [int(n) for n in args.day_orders.split(",")]
            print(json.dumps({"benchmark": "day_imports", "days": [day_imports(n) for n in sizes]}))
        finally:
            if args.drop:
                teardown_databases(config, verbosity=0)
        return
    try:
        started = time.perf_counter()
        shop = seed(args.variants, args.orders)
        seeded = time.perf_counter() - started
        from django.conf import settings

        settings.DEBUG = False
        result = {
            "benchmark": "dashboard",
            "variants": args.variants,
            "orders": args.orders,
            "seed_seconds": round(seeded, 1),
            "runs": args.runs,
        }
        for period in ("day", "month"):
            result[period] = measure(shop, args.runs, period)
        print(json.dumps(result))
    finally:
        if args.drop:
            teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
