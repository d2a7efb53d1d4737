"""The demo that tells the story: three sandbox channels, publishing done, orders flowing in.

`seed_demo` runs this after the catalog, markets and the first orders exist. It connects
Meta, TikTok Shop and Pinterest accounts to the sandbox of the server being started
(`base_url`), sets the simulated accounts up to announce orders to the shop's webhook URLs,
gives the dashboard two months of history (orders the simulated channels also hold, so
reconciliation agrees, imported through the same service as a channel's orders), publishes
the catalog to all three, and schedules the beat task (`demo.tasks`) that has the sandbox
place an order every few seconds for as long as the demo runs.

Publishing and live orders go over real HTTP through the same adapters, webhooks and
import as a real channel; they start once the worker and the web server are up.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from decimal import Decimal

import httpx
from django.conf import settings
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from channels.adapters import adapter_class

logger = logging.getLogger(__name__)

META_NAME = "Demo Facebook & Instagram"
PINTEREST_NAME = "Demo Pinterest"
META_CREDENTIALS = {
    "catalog_id": "880000000000001",
    "commerce_account_id": "880000000000002",
    "access_token": "demo-meta-access-token-0001",
    "app_secret": "demo-meta-app-secret-0001",
    "verify_token": "demo-verify-token",
}
PINTEREST_CREDENTIALS = {"access_token": "demo-pinterest-access-token-0001", "ad_account_id": "880000000000003"}
# A few Pinterest items are refused (the same ones every time) so listing health and the
# attention list have something real to show.
PINTEREST_FAULTS = {"reject_fraction": 0.04}
STOREFRONT_URL = "https://demo-outfitters.example"
# Live orders come from the Meta and TikTok Shop sandboxes; both keep one item per SKU, so
# every order they place names a SKU the import matches to a variant.
LIVE_ORDER_CHANNELS = ("meta", "tiktok_shop")
ORDER_TASK_NAME = "demo: the sandbox places orders"
# The registered name of demo.tasks.demo_place_order_task, which the beat entry names. It is
# the name the task had when it lived in the orders app: a database seeded then keeps working.
ORDER_TASK = "orders.demo_place_order"
ORDER_EVERY_SECONDS = 6
# The dashboard compares the last 30 days with the 30 before: that, and a day or two more.
# Each order goes through the import like a channel's, so the history stays small (~80
# orders) to keep seeding quick.
HISTORY_DAYS = 62
# (country, weight): where the history's buyers live; the orders app maps them to markets.
HISTORY_COUNTRIES = [("US", 8), ("GB", 3), ("FR", 2), ("DE", 2), ("JP", 2), ("CA", 2)]
# Units of each variant the history leaves unsold, so the live orders have stock to take.
HISTORY_KEEPS = 4


def sandbox_key(account) -> str:
    """What the simulated channel knows the account by (see channels/sandbox/models.py)."""
    from channels.sandbox.control import SIMULATORS

    simulator = SIMULATORS.get(account.channel)
    return account.credentials.get(simulator.ACCOUNT_KEY, "") if simulator else ""


def ensure_account(shop, *, channel: str, name: str, credentials: dict, api_base_url: str):
    from channels.models import ChannelAccount
    from channels.services import channel_account_create, channel_account_update

    account = ChannelAccount.objects.filter(channel=channel).order_by("pk").first()
    if account is None:
        return channel_account_create(
            shop=shop, channel=channel, name=name, credentials=credentials, api_base_url=api_base_url
        )
    if account.api_base_url != api_base_url and "/sandbox/" in (account.api_base_url or "/sandbox/"):
        # The demo was started on another host or port: follow it.
        account = channel_account_update(account=account, api_base_url=api_base_url)
    return account


def ensure_sandbox(account, base_url: str, faults: dict | None = None) -> None:
    from channels.sandbox.models import SandboxAccount

    creds = account.credentials
    SandboxAccount.objects.update_or_create(
        channel=account.channel,
        key=sandbox_key(account),
        defaults={
            "secret": creds.get("app_secret", ""),
            "access_token": creds.get("access_token", ""),
            "commerce_account_id": creds.get("commerce_account_id", ""),
            "shop_cipher": creds.get("shop_cipher", ""),
            "webhook_url": base_url + reverse("channels-webhook", args=[account.channel, account.webhook_key])
            if adapter_class(account.channel).has_webhooks
            else "",
            "faults": faults or {},
        },
    )


def history_rates(shop, currencies: set[str], since: dt.datetime) -> None:
    """The manual rates the shop used while the history's orders were placed: today's, in
    effect from `since` (set through the service, like a merchant back-dating a rate)."""
    from localization.rates import RateNotFound, manual_rate
    from localization.services import exchange_rate_set_manual

    home = shop.default_currency
    for currency in sorted(currencies - {home}):
        try:
            manual_rate(home, currency, shop_id=shop.pk, at=since)
            continue  # already in effect then
        except RateNotFound:
            pass
        try:
            today = manual_rate(home, currency, shop_id=shop.pk)
        except RateNotFound:
            continue  # no manual rate: the history sells in the shop's currency there
        exchange_rate_set_manual(shop=shop, base=home, quote=currency, rate=today.rate, effective_at=since)


def _history(shop, accounts: list, rng: random.Random) -> int:
    """Two months of delivered orders, held by the simulated channels and imported here.

    Each is imported with `order_import`, as the channel reports it: delivered, so the import
    records the shipment and takes its units off the shelf through the stock ledger (the
    catalog's stock is what is left after they shipped), and the daily sales follow. The
    history only sells what is in stock. The simulated channels hold the same orders (ids,
    statuses, totals), written in bulk as the fake channel's data, so reconciliation finds
    nothing to report.
    """
    from catalog.models import ProductVariant, StockLevel
    from channels.adapters.base import ChannelOrder, ChannelOrderLine
    from channels.sandbox.control import ORDER_SIMULATORS
    from channels.sandbox.models import SandboxAccount, SandboxOrder
    from localization.models import Market
    from localization.money import quantize
    from localization.rates import RateNotFound, rate_for
    from orders.models import Lifecycle
    from orders.services.ingest import order_import

    variants = list(ProductVariant.objects.filter(product__status="active").order_by("pk")[:120])
    if not variants:
        return 0
    free = dict(
        StockLevel.objects.filter(variant__in=variants)
        .values("variant")
        .annotate(free=Sum(F("on_hand") - F("allocated")))
        .values_list("variant", "free")
    )
    market_of = {}
    for market in Market.objects.filter(is_active=True).order_by("-is_home", "id"):
        for country in market.countries:
            market_of.setdefault(country, market)
    home = shop.default_currency
    now = timezone.now()
    since = now - dt.timedelta(days=HISTORY_DAYS + 1)
    history_rates(shop, {m.currency for m in market_of.values()}, since)
    to_shop = {home: Decimal(1)}
    for market in set(market_of.values()):
        try:
            to_shop[market.currency] = rate_for(market.currency, home, shop_id=shop.pk, mode="auto", at=since).rate
        except RateNotFound:
            continue
    countries, weights = zip(*HISTORY_COUNTRIES, strict=True)
    sandboxes = {a.pk: SandboxAccount.objects.get(channel=a.channel, key=sandbox_key(a)) for a in accounts}
    orders, sandbox_orders = [], []
    for day in range(HISTORY_DAYS, 0, -1):
        # Sales grow over the two months, with busier weekends.
        when_day = now - dt.timedelta(days=day)
        per_day = 1 + (HISTORY_DAYS - day) // 30 + (1 if when_day.weekday() >= 5 else 0)
        for _n in range(rng.randint(per_day - 1, per_day)):
            stocked = [v for v in variants if free.get(v.pk, 0) >= HISTORY_KEEPS + 2]
            if not stocked:
                break
            account = rng.choice(accounts)
            country = rng.choices(countries, weights=weights)[0]
            market = market_of.get(country)
            currency = market.currency if market and market.currency in to_shop else home
            rate = to_shop[currency]
            picked = [
                (v, rng.choice([1, 1, 2]), quantize(v.price.amount / rate, currency))
                for v in rng.sample(stocked, k=min(rng.choice([1, 1, 1, 2]), len(stocked)))
            ]
            for v, qty, _price in picked:
                free[v.pk] -= qty
            total = sum((price * qty for _v, qty, price in picked), Decimal(0))
            placed = when_day.replace(hour=rng.randint(8, 22), minute=rng.randint(0, 59))
            delivered = placed + dt.timedelta(days=3)
            external_id = f"77{day:03d}{len(orders):05d}"
            status = ORDER_SIMULATORS[account.channel].DELIVERED_ORDER_STATUS
            sandbox_orders.append(
                SandboxOrder(
                    account=sandboxes[account.pk],
                    order_id=external_id,
                    status=status,
                    lines=[
                        {"item_id": v.sku, "product_id": "", "quantity": qty, "price": str(price)}
                        for v, qty, price in picked
                    ],
                    total=str(total),
                    currency=currency,
                    created_at=placed,
                    updated_at=delivered,
                    merchant_order_reference=external_id,
                )
            )
            orders.append(
                (
                    account,
                    ChannelOrder(
                        external_id=external_id,
                        channel_status=status,
                        lifecycle=Lifecycle.FULFILLED,
                        currency=currency,
                        subtotal=total,
                        total=total,
                        lines=[
                            ChannelOrderLine(
                                channel_item_id=v.sku, sku=v.sku, quantity=qty, unit_price=price, title=v.title
                            )
                            for v, qty, price in picked
                        ],
                        placed_at=placed,
                        updated_at=delivered,
                        shipping_address={"region_code": country},
                        country=country,
                    ),
                )
            )
    SandboxOrder.objects.bulk_create(sandbox_orders, ignore_conflicts=True)
    for account, data in orders:
        order_import(account=account, data=data, via="demo")
    return len(orders)


def publish_catalog(account, owner, storefront_url: str = STOREFRONT_URL) -> None:
    from channels.listings import listing_settings_for, listing_settings_update
    from channels.models import PublishPlan
    from channels.publishing import publish_plan_apply, publish_plan_create

    if PublishPlan.objects.filter(account=account).exclude(status=PublishPlan.Status.SUPERSEDED).exists():
        return  # published before (or the merchant is reviewing a plan): leave it to them
    if not listing_settings_for(account).auto_apply:
        # Product links go to the merchant's own website when it has one (without one, to the
        # shop's hosted pages); stock that orders take is republished on its own.
        listing_settings_update(account=account, storefront_url=storefront_url, auto_apply=True)
    plan = publish_plan_create(account=account, created_by=owner)
    if plan.creates or plan.updates or plan.deletes:
        # The batches go out on commit, through the worker, to the sandbox over HTTP.
        publish_plan_apply(plan=plan, created_by=owner)


def schedule_orders(shop, *, enabled: bool) -> None:
    """The beat entry that has the sandbox place orders, on only while the sandbox is."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _created = IntervalSchedule.objects.get_or_create(
        every=ORDER_EVERY_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=ORDER_TASK_NAME,
        defaults={
            "task": ORDER_TASK,
            "interval": interval,
            "args": json.dumps([shop.pk]),
            "enabled": enabled,
        },
    )


def seed_demo_story(*, shop, owner, fresh, base_url) -> None:
    from catalog.models import ProductVariant
    from demo.orders import DEMO_ACCOUNT, DEMO_TIKTOK_CREDENTIALS

    if not settings.SANDBOX_ENABLED:
        schedule_orders(shop, enabled=False)
        return
    if not ProductVariant.objects.exists():
        return
    base = base_url.rstrip("/")
    tiktok = ensure_account(
        shop,
        channel="tiktok_shop",
        name=DEMO_ACCOUNT,
        credentials=dict(DEMO_TIKTOK_CREDENTIALS),
        api_base_url=f"{base}/sandbox/tiktok",
    )
    meta = ensure_account(
        shop, channel="meta", name=META_NAME, credentials=META_CREDENTIALS, api_base_url=f"{base}/sandbox/meta"
    )
    pinterest = ensure_account(
        shop,
        channel="pinterest",
        name=PINTEREST_NAME,
        credentials=PINTEREST_CREDENTIALS,
        api_base_url=f"{base}/sandbox/pinterest",
    )
    ensure_sandbox(tiktok, base)
    ensure_sandbox(meta, base)
    ensure_sandbox(pinterest, base, PINTEREST_FAULTS)
    if fresh:
        _history(shop, [meta, tiktok], random.Random(2024))
    for account in (meta, tiktok, pinterest):
        publish_catalog(account, owner)
    schedule_orders(shop, enabled=True)


# --- The live flow of orders (run by demo.tasks.demo_place_order_task) ---------------------------


def _sellable_item(account, rng: random.Random) -> str | None:
    """A published item with stock to spare (so the flow of orders does not oversell much)."""
    from channels.models import ChannelListing, ListingStatus

    stocked = (
        ChannelListing.objects.filter(account=account, status=ListingStatus.PUBLISHED, variant__isnull=False)
        .annotate(available=Sum(F("variant__stock_levels__on_hand") - F("variant__stock_levels__allocated")))
        .filter(available__gte=2)
        .values_list("item_id", flat=True)
    )
    ids = list(stocked.order_by("id")[:200])
    return rng.choice(ids) if ids else None


def place_order(*, rng: random.Random | None = None) -> dict | None:
    """Have one simulated channel place an order; it announces it by signed webhook."""
    from channels.models import ChannelAccount
    from channels.sandbox.control import control_headers

    rng = rng or random.Random()
    accounts = [
        a
        for a in ChannelAccount.objects.filter(channel__in=LIVE_ORDER_CHANNELS, is_active=True)
        if "/sandbox/" in a.api_base_url
    ]
    if not accounts:
        return None
    account = rng.choice(accounts)
    item_id = _sellable_item(account, rng)
    if item_id is None:
        return None
    root = account.api_base_url.rstrip("/").rsplit("/", 1)[0]
    url = f"{root}/_control/{account.channel}/{sandbox_key(account)}/orders/"
    body = {"items": [{"item_id": item_id, "quantity": rng.choice([1, 1, 2])}]}
    response = httpx.post(url, json=body, headers=control_headers(), timeout=15)
    if response.status_code != 201:
        logger.warning("demo order on %s refused: %s %s", account.name, response.status_code, response.text[:200])
        return None
    return response.json()
