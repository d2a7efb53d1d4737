"""Orders benchmarks, printed as JSON.

    .venv/bin/python bench/bench_orders.py [--orders 2000] [--reconcile 100000] [--senders 8]
        [--web-workers 2] [--web-threads 4] [--history 20000] [--keep]

Creates a scratch database (`bench_orders`, migrated as the owner role, used as the app
role so row-level security is on), puts `--history` orders of another shop in it and
analyses it (a deployment that has been running, with autovacuum's statistics), and measures,
on this machine over loopback:

- webhook ingest end to end, as deployed: the web app under gunicorn (`--web-workers`
  processes of `--web-threads` threads, as in the README's production commands), the TikTok
  Shop sandbox under a gunicorn of its own (the channel, on the same machine here: its CPU is
  taken from ours), and a real Celery worker process (prefork, 2 children, what a 2-core box runs) behind Redis.
  `--orders` orders are placed in the sandbox and announced by signed webhooks from
  `--senders` threads, with 10% of the deliveries repeated byte for byte (a channel's
  redelivery). Reported: acknowledgement latency (the webhook's HTTP answer) p50/p99,
  orders per second from the first delivery until the last order is imported (the worker
  drains the stored events in batches of 50: one order-detail read from the sandbox over HTTP,
  one import transaction with stock allocation), the duplicate count (must be 0), and what the
  worker reported per batch (channel read and import time), and the CPU milliseconds per order
  of each process (web, channel sandbox, worker, senders, PostgreSQL, Redis): where the
  machine's cores went.
- where that time goes (`--orders` more orders, in this process): the deliveries stored through
  the receiver over HTTP, then one drain of them with every query counted. Reported per order:
  milliseconds and queries of the receiver, the channel read, the import, and within the import
  the stock allocation and the sales rollup (orders.rollup).
- reconciliation of `--reconcile` orders: that many orders on the sandbox and here (bulk
  inserted), 0.1% of them with a planted total mismatch; one reconciliation run over real HTTP
  (TikTok pages of 100). Reported: seconds, orders per second, findings, and the seconds
  apart: the channel's pages (fetch, with the sandbox's serving inside), the sandbox's serving
  alone, and ours (the run without the sandbox's serving).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import socket
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.test_settings")
os.environ["SHOPADMIN_TEST_DB"] = os.environ.get("BENCH_DB", "bench_orders")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
# The threaded server runs each request in a new thread: its connection comes from the
# deployment's connection pool (DATABASE_POOL) and goes back to it with the request, as behind a
# pooled production server, rather than being opened for every webhook.
os.environ["CONN_MAX_AGE"] = "0"
os.environ.setdefault("DATABASE_POOL", "true")
os.environ.setdefault("DATABASE_POOL_MAX", "24")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

import httpx  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from shopadmin.audit import Actor, acting_as  # noqa: E402
from shopadmin.models import Door  # noqa: E402
from shopadmin.services import shop_create  # noqa: E402
from shopadmin.tenancy import shop_context  # noqa: E402

TIKTOK = {
    "app_key": "bench-app-key",
    "app_secret": "bench-app-secret-0001",
    "access_token": "bench-access-token-0001",
    "shop_cipher": "BENCH_CIPHER",
}


logging.getLogger("httpx").setLevel(logging.WARNING)


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def setup_db():
    config = setup_databases(verbosity=0, interactive=False, aliases={"owner"}, serialized_aliases=set())
    owner, default = connections["owner"], connections["default"]
    default.close()
    default.settings_dict["NAME"] = owner.settings_dict["NAME"]
    owner.close()
    return config


def serve() -> str:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def setup(self):
            super().setup()
            # Headers and body leave in separate writes; without TCP_NODELAY the body waits for
            # the client's delayed acknowledgement (about 40 ms a request on Linux's loopback).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process tree of this machine, by pid,
    with the PostgreSQL and Redis servers summed under "postgresql" and "redis" and this process
    alone under "self" (from /proc; a process's figure includes its children that have exited)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, used, names = {}, {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        pid = int(stat.parent.name)
        parents[pid], names[pid] = int(rest[1]), name
        used[pid] = (int(rest[11]) + int(rest[12])) / tick
    totals = {"postgresql": 0.0, "redis": 0.0, "self": used.get(os.getpid(), 0.0)}
    for pid, seconds in used.items():
        if names[pid].startswith("postgres"):
            totals["postgresql"] += seconds
        elif names[pid].startswith("redis"):
            totals["redis"] += seconds
        node = pid
        while node in parents:  # each ancestor's tree counts it
            totals[node] = totals.get(node, 0.0) + seconds
            node = parents[node]
    return totals


class Gunicorn:
    """`gunicorn shopadmin.wsgi` in a process of its own, against the bench database."""

    def __init__(self, name: str, workers: int, threads: int = 1):
        import subprocess

        from django.conf import settings

        from shopadmin.testing.worker import subprocess_database_url

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopadmin.test_settings",
            "DATABASE_URL": subprocess_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            # Persistent connections per worker process, as in production.
            "DATABASE_POOL": "false",
            "CONN_MAX_AGE": "600",
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "shopadmin.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={workers}",
                f"--threads={threads}",
                f"--name={name}",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {name} did not start") from None
                time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


def make_shop(slug: str, skus: list[str], on_hand: int):
    from catalog.models import MovementReason
    from catalog.services import StockChange, location_create, product_create, stock_post_movements

    with acting_as(Actor(door=Door.CLI, label="bench")):
        shop = shop_create(name=f"Bench {slug}", slug=slug, currency="USD", country="US")
        with shop_context(shop):
            location = location_create(name="Main", code="main", country="US")
            product = product_create(
                title="Bench tee", status="active", brand="Bench", variants=[{"sku": s, "price": "9.99"} for s in skus]
            )
            if on_hand:
                stock_post_movements(
                    movements=[
                        StockChange(v.pk, location.pk, on_hand, MovementReason.RECEIVED, "bench")
                        for v in product.variants.all()
                    ]
                )
    return shop


def tiktok_account(shop, base: str, name: str):
    from channels.services import channel_account_create

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        return channel_account_create(
            shop=shop, channel="tiktok_shop", name=name, credentials=TIKTOK, api_base_url=f"{base}/sandbox/tiktok"
        )


def sandbox_account(key: str):
    from channels.sandbox.models import SandboxAccount

    account, _ = SandboxAccount.objects.update_or_create(
        channel="tiktok_shop",
        key=key,
        defaults={
            "secret": TIKTOK["app_secret"],
            "access_token": TIKTOK["access_token"],
            "shop_cipher": TIKTOK["shop_cipher"],
            "faults": {},
        },
    )
    return account


def deployment_history(orders: int) -> None:
    """A deployment that has been taking orders: another shop's `orders` orders (each with a line,
    its allocation, an event and a customer) bulk-inserted, then every table analysed.

    Autovacuum does the analysing in production; it is off on the benchmark's server. Without
    it a backend plans its foreign-key checks while the order tables are empty, keeps that plan,
    and then looks each order up through any index that starts with shop_id, i.e. walks all
    of the shop's orders per line. A fresh, never-analysed database is not what a flash sale
    meets."""
    from orders.models import Allocation, Customer, Lifecycle, Order, OrderEvent, OrderLine

    shop = make_shop("history", ["HIS-1"], on_hand=0)
    account = tiktok_account(shop, "http://127.0.0.1:9", "History")
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        from catalog.models import Location, ProductVariant

        variant, location = ProductVariant.objects.get(), Location.objects.get()
        when = timezone.now() - dt.timedelta(days=2)
        price = Decimal("9.99")
        for start in range(0, orders, 5000):
            numbers = range(start, min(orders, start + 5000))
            customers = Customer.objects.bulk_create(Customer(shop=shop, email=f"h{i}@example.com") for i in numbers)
            placed = Order.objects.bulk_create(
                Order(
                    shop=shop,
                    account=account,
                    channel="tiktok_shop",
                    external_id=f"H{i:012d}",
                    channel_status="AWAITING_SHIPMENT",
                    status=Lifecycle.AWAITING_FULFILLMENT,
                    placed_at=when,
                    currency="USD",
                    total=price,
                    shop_currency="USD",
                    total_shop=price,
                    customer=customer,
                )
                for i, customer in zip(numbers, customers, strict=True)
            )
            lines = OrderLine.objects.bulk_create(
                OrderLine(
                    shop=shop, order=o, variant=variant, sku="HIS-1", quantity=1, unit_price=price, line_total=price
                )
                for o in placed
            )
            Allocation.objects.bulk_create(
                Allocation(shop=shop, line=line, location=location, quantity=1, allocated=1) for line in lines
            )
            OrderEvent.objects.bulk_create(
                OrderEvent(shop=shop, order=o, kind=OrderEvent.Kind.RECEIVED, message="Received") for o in placed
            )
            with connections["owner"].cursor() as cursor:
                cursor.execute("ANALYZE")


def bench_ingest(count: int, senders: int, web_workers: int, web_threads: int) -> dict:
    from channels.adapters.tiktok_shop import webhook_signature
    from channels.sandbox.models import SandboxOrder
    from orders.models import Order
    from shopadmin.testing.worker import WorkerProcess, purge_broker

    web = Gunicorn("bench-web", workers=web_workers, threads=web_threads)
    channel = Gunicorn("bench-channel", workers=2)
    skus = [f"ING-{i}" for i in range(20)]
    shop = make_shop("ingest", skus, on_hand=count)
    account = tiktok_account(shop, channel.url, "Ingest")
    sandbox = sandbox_account(TIKTOK["app_key"])
    now = timezone.now()
    rng = random.Random(3)
    orders = [
        SandboxOrder(
            account=sandbox,
            order_id=f"57{i:012d}",
            status="AWAITING_SHIPMENT",
            lines=[{"item_id": rng.choice(skus), "product_id": "", "quantity": 1, "price": "9.99"}],
            total="9.99",
            currency="USD",
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    ]
    SandboxOrder.objects.bulk_create(orders, batch_size=2000)
    deliveries = []
    for o in orders:
        body = {
            "type": 1,
            "tts_notification_id": uuid.uuid4().hex,
            "shop_id": TIKTOK["shop_cipher"],
            "timestamp": int(time.time()),
            "data": {"order_id": o.order_id, "order_status": o.status},
        }
        raw = json.dumps(body).encode()
        deliveries.append(
            (raw, webhook_signature(app_key=TIKTOK["app_key"], app_secret=TIKTOK["app_secret"], raw_body=raw))
        )
    redelivered = rng.sample(deliveries, k=count // 10)
    # Redeliveries are interleaved at random: whichever copy arrives first is the delivery.
    schedule = deliveries + redelivered
    rng.shuffle(schedule)
    url = f"{web.url}/webhooks/tiktok_shop/{account.webhook_key}/"

    purge_broker()
    # The worker keeps its database connections (as in production); only this process's
    # per-request server threads close theirs.
    worker = WorkerProcess(
        "bench-orders", concurrency=2, pool="prefork", extra_env={"DATABASE_POOL": "false", "CONN_MAX_AGE": "600"}
    ).wait_ready()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    trees = {
        "web": web.process.pid,
        "channel_sandbox": channel.process.pid,
        "worker": worker.process.pid,
        "senders": "self",
        "postgresql": "postgresql",
        "redis": "redis",
    }
    cpu_before = cpu_seconds()
    local = threading.local()

    def send(delivery):
        raw, signature = delivery
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=30)
        started = time.perf_counter()
        response = client.post(
            url, content=raw, headers={"Authorization": signature, "Content-Type": "application/json"}
        )
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    def imported() -> int:
        with shop_context(shop):
            return Order.objects.count()

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=senders) as pool:
            list(pool.map(send, schedule))
        sent_in = time.perf_counter() - started
        deadline = time.monotonic() + max(600, count)
        while imported() < count and time.monotonic() < deadline:
            time.sleep(0.2)
        total = time.perf_counter() - started
        cpu_after = cpu_seconds()
    finally:
        worker.stop()
        web.stop()
        channel.stop()
    cpu_ms = {
        part: round((cpu_after.get(key, 0) - cpu_before.get(key, 0)) * 1000 / count, 2) for part, key in trees.items()
    }
    report = worker_report(worker.lines)
    with shop_context(shop):
        ids = list(Order.objects.values_list("external_id", flat=True))
        from catalog.models import StockLevel
        from channels.models import WebhookEvent

        events = WebhookEvent.objects.count()
        failed = WebhookEvent.objects.filter(status="failed").count()
        negative = StockLevel.objects.filter(on_hand__lt=0).count()
    return {
        "orders": count,
        "deliveries": len(schedule),
        "redeliveries": len(redelivered),
        "senders": senders,
        "web_workers": web_workers,
        "web_threads": web_threads,
        "http_statuses": statuses,
        "ack_latency_p50_ms": round(statistics.median(latencies), 1),
        "ack_latency_p99_ms": round(percentile(latencies, 99), 1),
        "deliveries_per_s": round(len(schedule) / sent_in, 1),
        "orders_imported": len(ids),
        "duplicates": len(ids) - len(set(ids)),
        "events_stored": events,
        "events_failed": failed,
        "negative_stock_rows": negative,
        "end_to_end_s": round(total, 2),
        "orders_per_s_end_to_end": round(len(ids) / total, 1),
        "worker": report,
        # Where the machine's two cores went: CPU milliseconds per order of each process tree
        # (the senders are this process: its threads, the polling and the test data).
        "cpu_ms_per_order": {**cpu_ms, "all": round(sum(cpu_ms.values()), 2)},
        "cpu_cores_busy": round(sum(cpu_ms.values()) * count / 1000 / total, 2),
    }


def worker_report(lines: list[str]) -> dict:
    """What the worker logged per batch: orders read from the channel, orders imported, and how long each took."""
    read = [re.search(r"read (\d+) orders from the channel in ([\d.]+) ms", line) for line in lines]
    imported = [re.search(r"imported (\d+) orders \(\d+ created\) in ([\d.]+) ms", line) for line in lines]
    read = [(int(m[1]), float(m[2])) for m in read if m]
    imported = [(int(m[1]), float(m[2])) for m in imported if m]
    orders = sum(n for n, _ms in imported) or 1
    return {
        "batches": len(imported),
        "orders_per_batch": round(orders / max(len(imported), 1), 1),
        "channel_read_ms_per_order": round(sum(ms for _n, ms in read) / orders, 2),
        "import_ms_per_order": round(sum(ms for _n, ms in imported) / orders, 2),
    }


class Stages:
    """Wall time and queries spent inside some functions, while it is installed."""

    def __init__(self, names: dict[str, tuple[object, str]]):
        self.names = names
        self.ms = dict.fromkeys(names, 0.0)
        self.queries = dict.fromkeys([*names, "all"], 0)
        self.active: list[str] = []
        self.saved = []

    def _wrap(self, stage, fn):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            self.active.append(stage)
            try:
                return fn(*args, **kwargs)
            finally:
                self.active.pop()
                self.ms[stage] += (time.perf_counter() - started) * 1000

        return timed

    def _count(self, execute, sql, params, many, context):
        self.queries["all"] += 1
        for stage in set(self.active):
            self.queries[stage] += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        for stage, (owner, attr) in self.names.items():
            fn = getattr(owner, attr)
            self.saved.append((owner, attr, fn))
            setattr(owner, attr, self._wrap(stage, fn))
        self.wrapper = connections["default"].execute_wrapper(self._count)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self.wrapper.__exit__(*exc)
        for owner, attr, fn in reversed(self.saved):
            setattr(owner, attr, fn)


def bench_ingest_profile(count: int) -> dict:
    import channels.services
    import orders.services.ingest
    import orders.sync
    from channels.adapters.tiktok_shop import TikTokShopAdapter, webhook_signature
    from channels.sandbox.models import SandboxOrder
    from orders.models import Order
    from shopadmin.testing.worker import purge_broker

    base = serve()
    key = "bench-profile-key"
    shop = make_shop("ingest-profile", [f"PRO-{i}" for i in range(20)], on_hand=count)
    from channels.services import channel_account_create

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        account = channel_account_create(
            shop=shop,
            channel="tiktok_shop",
            name="Profile",
            credentials={**TIKTOK, "app_key": key},
            api_base_url=f"{base}/sandbox/tiktok",
        )
    sandbox = sandbox_account(key)
    now = timezone.now()
    rng = random.Random(3)
    placed = SandboxOrder.objects.bulk_create(
        SandboxOrder(
            account=sandbox,
            order_id=f"56{i:012d}",
            status="AWAITING_SHIPMENT",
            lines=[{"item_id": f"PRO-{rng.randrange(20)}", "product_id": "", "quantity": 1, "price": "9.99"}],
            total="9.99",
            currency="USD",
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    )
    url = f"{base}/webhooks/tiktok_shop/{account.webhook_key}/"
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for o in placed:
            raw = json.dumps(
                {
                    "type": 1,
                    "tts_notification_id": uuid.uuid4().hex,
                    "shop_id": TIKTOK["shop_cipher"],
                    "timestamp": int(time.time()),
                    "data": {"order_id": o.order_id, "order_status": o.status},
                }
            ).encode()
            signature = webhook_signature(app_key=key, app_secret=TIKTOK["app_secret"], raw_body=raw)
            client.post(url, content=raw, headers={"Authorization": signature, "Content-Type": "application/json"})
    receiver_ms = (time.perf_counter() - started) * 1000 / count
    purge_broker()  # the drain runs here, not in a worker
    stages = {
        "drain": (channels.services, "webhook_events_drain"),
        "channel_read": (TikTokShopAdapter, "order_detail"),
        "import": (orders.sync, "orders_import_batch"),
        "allocation": (orders.services.ingest, "_allocate_many"),
        "sales_rollup": (orders.services.ingest, "sales_rollup_created"),
    }
    with shop_context(shop), acting_as(Actor(door=Door.TASK, label="bench")), Stages(stages) as measured:
        channels.services.webhook_events_drain(account=account)
        imported = Order.objects.count()
    per_order = max(imported, 1)
    return {
        "orders": count,
        "orders_imported": imported,
        "ms_per_order": {
            "receiver_http_sequential": round(receiver_ms, 2),
            **{stage: round(ms / per_order, 2) for stage, ms in measured.ms.items()},
        },
        "queries_per_order": {
            "all": round(measured.queries["all"] / per_order, 2),
            **{stage: round(measured.queries[stage] / per_order, 2) for stage in stages},
            "all_but_sales_rollup": round((measured.queries["all"] - measured.queries["sales_rollup"]) / per_order, 2),
        },
    }


def bench_reconcile(count: int) -> dict:
    from channels.sandbox.models import SandboxOrder
    from orders.models import Lifecycle, Order, OrderLine, ReconciliationRun
    from orders.reconciliation import reconciliation_run

    base = serve()
    shop = make_shop("reconcile", ["REC-1"], on_hand=0)
    key = "bench-reconcile-key"
    credentials = {**TIKTOK, "app_key": key}
    from channels.services import channel_account_create

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="bench")):
        account = channel_account_create(
            shop=shop,
            channel="tiktok_shop",
            name="Reconcile",
            credentials=credentials,
            api_base_url=f"{base}/sandbox/tiktok",
        )
    sandbox = sandbox_account(key)
    now = timezone.now().replace(microsecond=0)
    planted = set(random.Random(5).sample(range(count), k=max(1, count // 1000)))
    batch = 5000
    with shop_context(shop):
        from catalog.models import ProductVariant

        variant = ProductVariant.objects.get(sku="REC-1")
        for start in range(0, count, batch):
            chunk = range(start, min(count, start + batch))
            placed = {i: now - dt.timedelta(seconds=count - i) for i in chunk}
            SandboxOrder.objects.bulk_create(
                [
                    SandboxOrder(
                        account=sandbox,
                        order_id=f"88{i:012d}",
                        status="AWAITING_SHIPMENT",
                        lines=[{"item_id": "REC-1", "product_id": "", "quantity": 1, "price": "9.99"}],
                        total="19.99" if i in planted else "9.99",
                        currency="USD",
                        created_at=placed[i],
                        updated_at=placed[i],
                    )
                    for i in chunk
                ]
            )
            ours = Order.objects.bulk_create(
                [
                    Order(
                        shop=shop,
                        account=account,
                        channel="tiktok_shop",
                        external_id=f"88{i:012d}",
                        channel_status="AWAITING_SHIPMENT",
                        status=Lifecycle.AWAITING_FULFILLMENT,
                        placed_at=placed[i],
                        channel_updated_at=placed[i],
                        currency="USD",
                        subtotal=Decimal("9.99"),
                        total=Decimal("9.99"),
                        shop_currency="USD",
                        total_shop=Decimal("9.99"),
                    )
                    for i in chunk
                ]
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        shop=shop,
                        order=o,
                        variant=variant,
                        channel_item_id="REC-1",
                        sku="REC-1",
                        quantity=1,
                        unit_price=Decimal("9.99"),
                        line_total=Decimal("9.99"),
                    )
                    for o in ours
                ]
            )
        run = ReconciliationRun.objects.create(account=account, trigger="bench")
    # What autovacuum does soon after a bulk load: the planner's counts of the new rows (only a
    # table's owner may ANALYZE it).
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE orders_order, orders_orderline, channels_sandbox_sandboxorder")
    with shop_context(shop), _timed_channel() as spent:
        started, cpu_started = time.perf_counter(), time.thread_time()
        run = reconciliation_run(run=ReconciliationRun.objects.select_related("account").get(pk=run.pk))
        seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    return {
        "orders": count,
        "status": run.status,
        "error": run.error,
        "orders_checked": run.orders_checked,
        "findings": run.counts,
        "planted_amount_mismatches": len(planted),
        "seconds": round(seconds, 1),
        "orders_per_s": round(count / seconds, 1),
        "channel_pages": -(-count // 100),
        # The run's time apart: reading the channel's pages (its HTTP calls, the sandbox's serving
        # within them), the sandbox's own serving, and ours (everything but that serving).
        "channel_fetch_s": round(spent["fetch"], 1),
        "sandbox_serving_s": round(spent["serving"], 1),
        "our_s": round(seconds - spent["serving"], 1),
        "our_s_besides_fetch": round(seconds - spent["fetch"], 1),
        # The processor time of the run's own thread (the sandbox serves from another).
        "our_cpu_s": round(cpu, 1),
    }


@contextmanager
def _timed_channel():
    """Seconds spent in the adapter's order pages, and in the sandbox's serving of requests (the
    app and the writing of its answer; it serves from a thread of this process, so its time is
    inside the run's)."""
    from django.core.servers.basehttp import ServerHandler

    from channels.adapters.tiktok_shop import TikTokShopAdapter

    spent = {"fetch": 0.0, "serving": 0.0}
    lock = threading.Lock()
    fetch_orders, handle = TikTokShopAdapter.fetch_orders, ServerHandler.run

    def timed(key, call):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                with lock:
                    spent[key] += time.perf_counter() - started

        return wrapper

    TikTokShopAdapter.fetch_orders = timed("fetch", fetch_orders)
    ServerHandler.run = timed("serving", handle)
    try:
        yield spent
    finally:
        TikTokShopAdapter.fetch_orders, ServerHandler.run = fetch_orders, handle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes of the web app")
    parser.add_argument("--web-threads", type=int, default=4, help="threads of each gunicorn process")
    parser.add_argument("--reconcile", type=int, default=100_000)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument(
        "--history", type=int, default=20_000, help="orders of another shop already in the database, analysed"
    )
    parser.add_argument("--no-breakdown", action="store_true", help="webhook ingest end to end only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    config = setup_db()
    result = {"db": connections["default"].settings_dict["NAME"]}
    try:
        if args.history:
            deployment_history(args.history)
        if not args.skip_ingest:
            result["webhook_ingest"] = bench_ingest(args.orders, args.senders, args.web_workers, args.web_threads)
            if not args.no_breakdown:
                result["webhook_ingest_breakdown"] = bench_ingest_profile(args.orders)
        if args.reconcile:
            result["reconcile"] = bench_reconcile(args.reconcile)
    finally:
        if not args.keep:
            for conn in connections.all():
                conn.close()
                if conn.settings_dict.get("OPTIONS", {}).get("pool"):
                    conn.close_pool()
            teardown_databases(config, verbosity=0)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
