"""Catalog benchmarks on a 100k-variant shop, printed as JSON.

    .venv/bin/python bench/bench_catalog.py [--variants 100000] [--requests 60] [--keep]

Creates a scratch database (`bench_catalog`, migrated as the owner role, used as the app
role so row-level security is on, as in production), seeds it with seed_catalog, then
measures the variants API, the product list page and the streamed CSV export (in a
separate process, so its peak RSS is the export's own).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.test_settings")
os.environ["SHOPADMIN_TEST_DB"] = os.environ.get("BENCH_DB", "bench_catalog")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("API_RATE_LIMIT", "100000/min")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from shopadmin.audit import Actor, acting_as  # noqa: E402
from shopadmin.models import Door, User  # noqa: E402
from shopadmin.services import api_key_create, shop_create  # noqa: E402

SLUG = "bench"


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary(times_ms):
    return {
        "p50_ms": round(statistics.median(times_ms), 1),
        "p95_ms": round(percentile(times_ms, 95), 1),
        "n": len(times_ms),
    }


def setup_db():
    config = setup_databases(verbosity=0, interactive=False, aliases={"owner"}, serialized_aliases=set())
    owner, default = connections["owner"], connections["default"]
    default.close()
    default.settings_dict["NAME"] = owner.settings_dict["NAME"]
    owner.close()
    return config


def bench_api(n):
    from catalog.models import ProductVariant  # noqa: F401 — the app registry is ready here

    _key, secret = api_key_create(shop=shop, name="bench", scopes=["catalog:read"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    times, queries = [], []
    url = "/api/v1/variants/?limit=100"
    for i in range(n + 5):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert len(body["results"]) == 100
        if i >= 5:  # the first requests warm caches and connections
            times.append(elapsed)
            queries.append(len(ctx.captured_queries))
        # Walk forward through the catalog, then start again: first and deep pages alike.
        url = body["next"] if body["next"] and i % 20 != 19 else "/api/v1/variants/?limit=100"
    return {**summary(times), "queries_per_request": max(queries)}


def bench_list_page(n):
    user = User.objects.get(email="bench@example.com")
    client = Client()
    client.force_login(user)
    base = f"/app/{SLUG}/catalog/"
    variants = ["", "?status=active", "?sort=title", "?stock=in", "?q=Hoodie", "?brand=Lumen&sort=-created"]
    times, queries = [], []
    for i in range(n + 5):
        url = base + variants[i % len(variants)]
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200
        if i >= 5:
            times.append(elapsed)
            queries.append(len(ctx.captured_queries))
        # Also a deep page: follow "next" a few times from the default list.
        next_url = response.context["next_url"] if response.context else ""
        if next_url and i % 3 == 0:
            started = time.perf_counter()
            assert client.get(base + next_url).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    return {**summary(times), "queries_per_request": max(queries)}


def bench_export():
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_catalog_export.py"), "--shop", SLUG],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    config = setup_db()
    try:
        with acting_as(Actor(door=Door.CLI, label="bench")):
            owner = User.objects.create_user(email="bench@example.com", password=None)
            shop = shop_create(name="Bench Apparel", slug=SLUG, currency="USD", country="US", owner=owner)
        started = time.perf_counter()
        call_command("seed_catalog", shop=SLUG, variants=args.variants, seed=1, stdout=open(os.devnull, "w"))  # noqa: SIM115
        seed_seconds = time.perf_counter() - started
        # Planner statistics, as autovacuum would gather them shortly after a bulk load.
        # Only a table's owner may ANALYZE it, so this runs on the owner connection.
        with connections["owner"].cursor() as cursor:
            cursor.execute(
                "ANALYZE catalog_product, catalog_productvariant, catalog_stocklevel, catalog_productmedia, "
                "catalog_productoption, catalog_stockmovement, catalog_category"
            )
        connections["owner"].close()
        report = {
            "variants": args.variants,
            "seed_catalog_seconds": round(seed_seconds, 1),
            "api_variants_limit_100": bench_api(args.requests),
            "product_list_page": bench_list_page(args.requests),
            "csv_export": bench_export(),
            "database": settings.DATABASES["default"]["NAME"],
        }
        print(json.dumps(report, indent=2))
    finally:
        if not args.keep:
            connections["default"].close()
            teardown_databases(config, verbosity=0)
