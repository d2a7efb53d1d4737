"""`seed_demo` tells the story: three sandbox accounts, publishing done, orders flowing in.

Over real HTTP against the live server's sandbox, with a real worker doing the publishing
and the import of the order the sandbox announces by signed webhook.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from shopadmin.tenancy import shop_context
from shopadmin.testing.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_seed_connects_publishes_and_orders_flow_in(live_server, live_worker):
    from django_celery_beat.models import PeriodicTask

    from channels.models import ChannelAccount, ChannelListing, ListingStatus
    from channels.sandbox.models import SandboxAccount
    from orders.demo_story import ORDER_TASK_NAME, place_order
    from orders.models import Order
    from shopadmin.models import Shop

    call_command("seed_demo", base_url=live_server.url)
    shop = Shop.objects.get(slug="demo")
    with shop_context(shop):
        accounts = {a.channel: a for a in ChannelAccount.objects.all()}
        assert set(accounts) == {"meta", "tiktok_shop", "pinterest"}
        for account in accounts.values():
            assert account.api_base_url.startswith(f"{live_server.url}/sandbox/")
        history = Order.objects.filter(external_id__startswith="77").count()
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
    sandbox = SandboxAccount.objects.get(channel="meta")
    assert sandbox.webhook_url == f"{live_server.url}/webhooks/meta/{accounts['meta'].webhook_key}/"

    task = PeriodicTask.objects.get(name=ORDER_TASK_NAME)
    assert task.enabled and task.interval.every <= 10
    assert json.loads(task.args) == [shop.pk]

    # One tick of the beat task: the sandbox places an order and announces it; the worker imports it.
    with shop_context(shop):
        before = Order.objects.count()
        placed = place_order()
    assert placed is not None and placed["webhook"] == {"status": 200}

    def imported():
        with shop_context(shop):
            return Order.objects.filter(external_id=placed["order_id"]).first()

    order = wait_for(imported, timeout=60, message="the sandbox's order was never imported")
    assert order.channel == "meta"
    with shop_context(shop):
        assert order.lines.count() == 1
        assert Order.objects.count() == before + 1

    # Seeding again changes nothing that is there (idempotent) and keeps the flow on.
    call_command("seed_demo", base_url=live_server.url)
    with shop_context(shop):
        assert ChannelAccount.objects.count() == 3
        assert Order.objects.filter(external_id__startswith="77").count() == history
