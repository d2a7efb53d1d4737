"""`seed_demo` tells the story: three sandbox accounts, publishing done, orders flowing in.

Over real HTTP against the live server's sandbox, with a real worker doing the publishing
and the import of the order the sandbox announces by signed webhook.
"""

from __future__ import annotations

import json
import random

import pytest
from django.core.management import call_command

from shopadmin.tenancy import shop_context
from shopadmin.testing.worker import wait_for

# The seeded history's order ids (77, the day, a counter: ten digits); a live order's random id
# may start with 77 too, but is longer.
HISTORY_ID = r"^77[0-9]{8}$"

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The catalog is published by the automatic re-plan once the markets' prices are stored; its
# debounce (30 s by default) only gathers the seed's bursts of changes, so a short one does here.
DEBOUNCE_SECONDS = "2"


def test_the_demo_seed_connects_publishes_and_orders_flow_in(live_server, start_worker, monkeypatch):
    from django_celery_beat.models import PeriodicTask

    from channels import publishing
    from channels.models import ChannelAccount, ChannelListing, ListingStatus
    from channels.sandbox.models import SandboxAccount
    from demo.story import ORDER_TASK_NAME, place_order, sandbox_key
    from orders.models import Order
    from shopadmin.models import Shop

    monkeypatch.setattr(publishing, "REPLAN_DEBOUNCE_SECONDS", float(DEBOUNCE_SECONDS))
    worker = start_worker("worker", ready=False, extra_env={"CHANNELS_REPLAN_DEBOUNCE_SECONDS": DEBOUNCE_SECONDS})
    call_command("seed_demo", base_url=live_server.url)
    worker.wait_ready()
    shop = Shop.objects.get(slug="demo")
    with shop_context(shop):
        accounts = {a.channel: a for a in ChannelAccount.objects.all()}
        assert set(accounts) == {"meta", "tiktok_shop", "pinterest"}
        for account in accounts.values():
            assert account.api_base_url.startswith(f"{live_server.url}/sandbox/")
        history = Order.objects.filter(external_id__regex=HISTORY_ID).count()
        assert history > 50
        assert Order.objects.filter(market__isnull=False).values("market").distinct().count() >= 3

    def published(channel):
        with shop_context(shop):
            return ChannelListing.objects.filter(account=accounts[channel], status=ListingStatus.PUBLISHED).count()

    # The worker sends the batches to the sandbox; each account ends with its catalog published.
    for channel in ("meta", "tiktok_shop", "pinterest"):
        wait_for(lambda ch=channel: published(ch) > 100, timeout=120, message=f"{channel} never published")
    with shop_context(shop):
        # Pinterest refuses a few items on purpose, so listing health has something to show.
        assert ChannelListing.objects.filter(account=accounts["pinterest"], status=ListingStatus.REJECTED).exists()
    sandbox = SandboxAccount.objects.get(channel="meta", key=sandbox_key(accounts["meta"]))
    assert sandbox.webhook_url == f"{live_server.url}/webhooks/meta/{accounts['meta'].webhook_key}/"

    task = PeriodicTask.objects.get(name=ORDER_TASK_NAME)
    assert task.enabled and task.interval.every <= 10
    assert json.loads(task.args) == [shop.pk]

    # Ticks of the beat task: the sandboxes (Meta and TikTok Shop) place orders and announce them;
    # the worker imports each with its line matched to a variant by SKU.
    from channels.sandbox.models import SandboxOrder

    rng = random.Random(7)
    placed_on: dict[str, dict] = {}
    with shop_context(shop):
        before = Order.objects.count()
        for _tick in range(20):
            placed = place_order(rng=rng)
            assert placed is not None and placed["webhook"] == {"status": 200}
            channel = SandboxOrder.objects.select_related("account").get(order_id=placed["order_id"]).account.channel
            placed_on.setdefault(channel, placed)
            if len(placed_on) == 2:
                break
    assert set(placed_on) == {"meta", "tiktok_shop"}
    for channel, placed in placed_on.items():

        def imported(order_id=placed["order_id"]):
            with shop_context(shop):
                return Order.objects.filter(external_id=order_id).first()

        order = wait_for(imported, timeout=60, message=f"the {channel} sandbox's order was never imported")
        assert order.channel == channel
        with shop_context(shop):
            line = order.lines.get()
            assert line.variant_id is not None, f"{channel}: {line.sku} matched no variant"
    with shop_context(shop):
        wait_for(lambda: Order.objects.count() >= before + _tick + 1, timeout=60, message="orders missing")
        assert Order.objects.count() == before + _tick + 1

    # Seeding again changes nothing that is there (idempotent) and keeps the flow on.
    call_command("seed_demo", base_url=live_server.url)
    with shop_context(shop):
        assert ChannelAccount.objects.count() == 3
        assert Order.objects.filter(external_id__regex=HISTORY_ID).count() == history
