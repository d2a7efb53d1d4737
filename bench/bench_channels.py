"""Channels benchmarks, printed as JSON.

    .venv/bin/python bench/bench_channels.py [--variants 100000] [--publish 10000] [--keep]
                                             [--only feed|plan|publish]

Creates a scratch database (`bench_channels`, migrated as the owner role, used as the app
role so row-level security is on), seeds a shop with `--variants` variants and measures:
- the Meta CSV feed of one market, streamed through the real view in a separate process
  (seconds, peak RSS), against PostgreSQL `COPY (…) TO STDOUT` of the same rows (catalog,
  first image, stock and the stored market price) in the same run (the floor);
- plan computation for all listings with 1% changed since the last accepted payloads, and in
  the same run the comparison building every payload (`plan_compute(full=True)`);
- publishing `--publish` items to the Meta sandbox over real HTTP (a threaded server in
  this process): plan, apply, every batch sent, polled and recorded; items per second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.test_settings")
os.environ["SHOPADMIN_TEST_DB"] = os.environ.get("BENCH_DB", "bench_channels")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from channels.sandbox.control import control_headers  # noqa: E402
from shopadmin.audit import Actor, acting_as  # noqa: E402
from shopadmin.models import Door  # noqa: E402
from shopadmin.services import shop_create  # noqa: E402
from shopadmin.tenancy import shop_context  # noqa: E402

META_CREDENTIALS = {
    "catalog_id": "99887766",
    "commerce_account_id": "5550001112",
    "access_token": "EAAB-bench-token-000000000001",
    "app_secret": "bench-app-secret-0001",
    "verify_token": "bench-verify",
}
COPY_SQL = """
COPY (
  SELECT v.sku, p.title, p.description, p.condition, v.price, p.handle, p.brand, v.gtin, v.mpn,
         v.option_values, c.google_product_category,
         (SELECT m.url FROM catalog_productmedia m WHERE m.product_id = p.id ORDER BY m.position, m.id LIMIT 1),
         (SELECT COALESCE(SUM(s.on_hand - s.allocated), 0) FROM catalog_stocklevel s WHERE s.variant_id = v.id),
         mp.amount, mp.compare_at_amount, mp.sale_amount, mp.sale_starts_at, mp.sale_ends_at
  FROM catalog_productvariant v
  JOIN catalog_product p ON p.id = v.product_id
  LEFT JOIN catalog_category c ON c.id = p.category_id
  LEFT JOIN localization_marketprice mp ON mp.variant_id = v.id
       AND mp.market_id = (SELECT id FROM localization_market WHERE is_home)
  WHERE p.status = 'active'
  ORDER BY v.id
) TO STDOUT WITH CSV HEADER
"""


def setup_db():
    config = setup_databases(verbosity=0, interactive=False, aliases={"owner"}, serialized_aliases=set())
    owner, default = connections["owner"], connections["default"]
    default.close()
    default.settings_dict["NAME"] = owner.settings_dict["NAME"]
    owner.close()
    return config


def make_shop(slug, variants, currency="USD"):
    from catalog.models import Product
    from catalog.seeding import seed_catalog

    with acting_as(Actor(door=Door.CLI, label="bench")):
        shop = shop_create(name=f"Bench {slug}", slug=slug, currency=currency, country="US")
        with shop_context(shop):
            seed_catalog(shop=shop, variants=variants, seed=1)
            Product.objects.update(status=Product.Status.ACTIVE)
            # Channels publish stored market prices: store them (localization's task does this
            # after every change; setup, not measured).
            from localization.pricing import market_prices_recompute

            market_prices_recompute(shop_id=shop.pk)
    return shop


def account(shop, channel, name, **kwargs):
    from channels.listings import listing_settings_update
    from channels.services import channel_account_create

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        acct = channel_account_create(shop=shop, channel=channel, name=name, **kwargs)
        listing_settings_update(account=acct, storefront_url="https://bench.example.com")
    return acct


def peak_rss_mb() -> float:
    """This process's peak RSS. getrusage's ru_maxrss is not it in a child: Linux carries the
    parent's high-water mark across fork and exec, so the child's own (VmHWM) is read where
    there is one."""
    import resource

    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_feed(path: str) -> None:
    """Run in a separate process: stream the feed through the view; report time, rows, RSS
    (the peak, and the peak before the request: what importing the project takes)."""
    from django.test import Client
    from django.urls import resolve

    connections["default"].settings_dict["NAME"] = connections["owner"].settings_dict["TEST"]["NAME"]
    client = Client()
    resolve(path)  # the URLconf, which any process's first request imports, is not the feed's time
    before = peak_rss_mb()
    started = time.perf_counter()
    response = client.get(path)
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "bytes": size,
                "lines": rows,
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "rss_before_request_mb": round(before, 1),
            }
        )
    )


def bench_feed(shop, acct, runs=3):
    """The feed through the view and the COPY floor, alternated `runs` times; the fastest of each
    counts (the machine may be shared: alternating keeps both under the same load)."""
    from channels.selectors import account_feeds

    url = next(f["url"] for f in account_feeds(acct) if f["format"] == "csv")
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    feeds, copies = [], []
    for _run in range(runs):
        result = subprocess.run(
            [sys.executable, __file__, "--child-feed", path],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "SHOPADMIN_TEST_DB": os.environ["SHOPADMIN_TEST_DB"]},
        )
        feeds.append(json.loads(result.stdout.strip().splitlines()[-1]))
        connection = connections["default"]
        connection.ensure_connection()
        raw = connection.connection
        with shop_context(shop):
            started = time.perf_counter()
            copied = 0
            with raw.transaction(), raw.cursor() as cursor:
                cursor.execute("SELECT set_config('app.shop_id', %s, true)", [str(shop.pk)])
                with cursor.copy(COPY_SQL) as copy:
                    for block in copy:
                        copied += len(block)
            copies.append(time.perf_counter() - started)
    feed = min(feeds, key=lambda run: run["seconds"])
    copy_seconds = min(copies)
    return {
        **feed,
        "runs": runs,
        "copy_seconds": round(copy_seconds, 2),
        "copy_bytes": copied,
        "ratio_vs_copy": round(feed["seconds"] / copy_seconds, 1) if copy_seconds else None,
    }


def bench_plan(shop, variants):
    from django.db.models import F
    from django.utils import timezone

    from catalog.models import ProductVariant
    from channels.publishing import plan_compute, publish_plan_apply, publish_plan_create

    acct = account(shop, "snapchat", "Plan bench")
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        started = time.perf_counter()
        first = publish_plan_create(account=acct)
        first_seconds = time.perf_counter() - started
        publish_plan_apply(plan=first)  # a feed channel: every item counts as accepted
        changed = max(1, variants // 100)
        ids = list(ProductVariant.objects.order_by("?").values_list("id", flat=True)[:changed])
        ProductVariant.objects.filter(pk__in=ids).update(mpn=F("sku"), updated_at=timezone.now())
        started = time.perf_counter()
        plan = publish_plan_create(account=acct)
        seconds = time.perf_counter() - started
        # The same comparison building every payload (as plans did before inputs hashes), in this run.
        started = time.perf_counter()
        full = plan_compute(account=acct, full=True)
        full_seconds = time.perf_counter() - started
    assert plan.updates == changed == len(full["changes"]), (plan.updates, changed, len(full["changes"]))
    return {
        "listings": first.creates,
        "changed": changed,
        "planned_updates": plan.updates,
        "seconds": round(seconds, 2),
        "full_compute_seconds": round(full_seconds, 2),
        "first_plan_seconds": round(first_seconds, 2),
    }


def serve():
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def bench_publish(count):
    import httpx

    from channels.models import ChannelListing
    from channels.publishing import publish_batch_run, publish_plan_apply, publish_plan_create

    shop = make_shop("benchpub", count)
    base = serve()
    credentials = META_CREDENTIALS
    httpx.post(
        f"{base}/sandbox/_control/meta/{credentials['catalog_id']}/",
        headers=control_headers(),
        json={"access_token": credentials["access_token"], "secret": credentials["app_secret"]},
        timeout=30,
    ).raise_for_status()
    acct = account(shop, "meta", "Publish bench", credentials=credentials, api_base_url=f"{base}/sandbox/meta")
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        started = time.perf_counter()
        plan = publish_plan_create(account=acct)
        publish_plan_apply(plan=plan)
        for batch in plan.batches.order_by("number"):
            publish_batch_run(batch_id=batch.pk)
        seconds = time.perf_counter() - started
        published = ChannelListing.objects.filter(account=acct, status="published").count()
        batches = plan.batches.count()
    return {
        "items": plan.creates,
        "published": published,
        "batches": batches,
        "seconds": round(seconds, 2),
        "items_per_second": round(plan.creates / seconds, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--publish", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", choices=["feed", "plan", "publish"], help="run one of the benchmarks")
    parser.add_argument("--child-feed")
    args = parser.parse_args()
    if args.child_feed:
        child_feed(args.child_feed)
        return
    config = setup_db()
    try:
        started = time.perf_counter()
        shop = make_shop("bench", args.variants)
        seeded = time.perf_counter() - started
        results = {"variants": args.variants, "seed_seconds": round(seeded, 1)}
        if args.only in (None, "feed"):
            meta = account(shop, "meta", "Feed bench", credentials=META_CREDENTIALS)
            results["meta_csv_feed"] = bench_feed(shop, meta)
        if args.only in (None, "plan"):
            results["plan_1pct_changed"] = bench_plan(shop, args.variants)
        if args.only in (None, "publish"):
            results["publish_sandbox"] = bench_publish(args.publish)
        print(json.dumps(results, indent=2))
    finally:
        if not args.keep:
            for connection in connections.all():
                connection.close()
            teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
