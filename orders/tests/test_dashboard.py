"""The dashboard on the shop home and the attention list: access, numbers, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import ChannelListing, ListingStatus
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def plant_orders(shop, account, variant, *, count, total="49.90", prefix="A", days_ago=1):
    from orders.services.ingest import order_import

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        when = timezone.now() - dt.timedelta(days=days_ago)
        for n in range(count):
            data = channel_order(
                f"{prefix}{n:05d}", lines=((variant.sku, 1, total),), currency=shop.default_currency, updated_at=when
            )
            order_import(account=account, data=data, via="test")


@pytest.fixture
def two_shops(shop_a, shop_b):
    from channels.tests.factories import make_account

    variant_a, _loc = stocked_variant(shop_a, sku="TEE-A", on_hand=500, price="49.90", title="Alice Tee")
    variant_b, _loc = stocked_variant(shop_b, sku="TEE-B", on_hand=500, price="70.00", title="Charlie Mug")
    meta_a = make_account(shop_a, "meta")
    meta_b = make_account(shop_b, "meta")
    plant_orders(shop_a, meta_a, variant_a, count=3, total="49.90", prefix="A")
    plant_orders(shop_a, meta_a, variant_a, count=1, total="49.90", prefix="OLD", days_ago=40)
    plant_orders(shop_b, meta_b, variant_b, count=5, total="70.00", prefix="B")
    return {"meta_a": meta_a, "meta_b": meta_b, "variant_a": variant_a, "variant_b": variant_b}


def test_alice_sees_her_shops_numbers_only(alice_client, shop_a, two_shops):
    response = alice_client.get(f"/app/{shop_a.slug}/")
    assert response.status_code == 200
    body = response.content.decode()
    # Shop A: 3 orders of $49.90 in the last 30 days; shop B's five €70 orders never count.
    assert "$149.70" in body
    assert "Alice Tee" in body
    assert "Charlie Mug" not in body
    assert "350.00" not in body and "€" not in body
    totals = response.context["totals"]
    assert (totals.orders, totals.units, totals.revenue) == (3, 3, Decimal("149.700"))
    assert totals.aov == Decimal("49.9")
    # The 40-day-old order falls in the previous 30-day window.
    assert (totals.prev_orders, totals.prev_revenue) == (1, Decimal("49.900"))
    assert [row.label for row in response.context["by_channel"]] == ["Facebook & Instagram (Meta)"]
    # The charts are inline SVG with an accessible name, and the numbers are there as a table.
    assert body.count('role="img"') >= 2
    assert '<title id="chart-time-title">' in body
    assert "<details>" in body
    # The home keeps the tenancy core's content below the dashboard.
    assert body.index('id="dashboard-title"') < body.index("Recent activity")


def test_periods_week_and_month_compare_with_the_previous_period(alice_client, shop_a, two_shops):
    for period in ("week", "month"):
        response = alice_client.get(f"/app/{shop_a.slug}/?period={period}")
        assert response.status_code == 200
        totals = response.context["totals"]
        assert totals.orders == 4 if period == "month" else totals.orders in (3, 4)
        assert len(response.context["series"]) == 12
    response = alice_client.get(f"/app/{shop_a.slug}/?period=bogus")
    assert response.context["period"].key == "day"


def test_bob_the_editor_sees_the_dashboard_and_attention(bob_client, shop_a, two_shops):
    assert bob_client.get(f"/app/{shop_a.slug}/").status_code == 200
    assert bob_client.get(f"/app/{shop_a.slug}/attention/").status_code == 200


def test_charlie_gets_404_for_alices_dashboard_and_attention(charlie_client, shop_a, shop_b, two_shops):
    for path in ("", "attention/", f"attention/rejections/?account={two_shops['meta_a'].pk}&field=x&message=y"):
        assert charlie_client.get(f"/app/{shop_a.slug}/{path}").status_code == 404
    # His own dashboard shows his five orders and none of alice's.
    response = charlie_client.get(f"/app/{shop_b.slug}/")
    totals = response.context["totals"]
    assert (totals.orders, totals.revenue) == (5, Decimal("350.000"))
    assert "Alice Tee" not in response.content.decode()
    # Alice's account id in his shop's URL finds nothing either.
    bad = f"/app/{shop_b.slug}/attention/rejections/?account={two_shops['meta_a'].pk}&field=x&message=y"
    assert charlie_client.get(bad).status_code == 404


def test_the_query_count_does_not_grow_with_the_data(alice_client, shop_a, two_shops, django_assert_max_num_queries):
    from channels.tests.factories import make_account

    pinterest = make_account(shop_a, "pinterest")
    with shop_context(shop_a):
        ChannelListing.objects.create(
            account=pinterest,
            variant=two_shops["variant_a"],
            item_id="TEE-A",
            status=ListingStatus.REJECTED,
            errors=[{"field": "image_link", "code": "x", "message": "Image could not be downloaded"}],
        )
    url = f"/app/{shop_a.slug}/"
    with django_assert_max_num_queries(60) as small:
        alice_client.get(url)
    few = len(small.captured_queries)
    variants = [stocked_variant(shop_a, sku=f"MORE-{i}", on_hand=50, title=f"More {i}")[0] for i in range(1, 4)]
    for i, variant in enumerate(variants):
        plant_orders(shop_a, two_shops["meta_a"], variant, count=15, prefix=f"M{i}")
    with shop_context(shop_a):
        ChannelListing.objects.bulk_create(
            ChannelListing(
                shop=shop_a,
                account=pinterest,
                variant=v,
                item_id=v.sku,
                status=ListingStatus.PUBLISHED,
                published_at=timezone.now(),
            )
            for v in variants
        )
    with django_assert_max_num_queries(few) as many:
        response = alice_client.get(url)
    assert response.context["totals"].orders == 48
    assert len(many.captured_queries) == few


def test_attention_lists_every_kind_of_problem_with_a_link(alice_client, shop_a, two_shops):
    from channels.tests.factories import make_account
    from localization.models import ExchangeRate, Market
    from localization.services import market_create
    from orders.models import Fulfillment, IssueKind, Order, PushState, ReconciliationIssue, Severity
    from orders.services.timeline import issue_raise

    account = two_shops["meta_a"]
    pinterest = make_account(shop_a, "pinterest")
    variant = two_shops["variant_a"]
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        ChannelListing.objects.create(
            account=pinterest,
            variant=variant,
            item_id=variant.sku,
            status=ListingStatus.REJECTED,
            errors=[{"field": "image_link", "code": "INVALID", "message": "Image could not be downloaded"}],
        )
        other, _loc = stocked_variant(shop_a, sku="TEE-ERR", on_hand=1, title="Broken Tee")
        ChannelListing.objects.create(
            account=account,
            variant=other,
            item_id="TEE-ERR",
            status=ListingStatus.ERROR,
            errors=[{"field": "image_link", "code": "missing", "message": "An image is required."}],
        )
        if not Market.objects.filter(currency="GBP").exists():
            market_create(
                shop=shop_a, name="UK", countries=["GB"], currency="GBP", languages=["en"], rate_mode="manual"
            )
        Market.objects.filter(currency="GBP").update(rate_mode="manual")
        old = timezone.now() - dt.timedelta(days=30)
        ExchangeRate.objects.create(
            shop=shop_a,
            base="USD",
            quote="GBP",
            rate=Decimal("0.75"),
            date=old.date(),
            effective_at=old,
            source="manual",
        )
        order = Order.objects.order_by("pk").first()
        issue_raise(
            account=account,
            kind=IssueKind.AMOUNT_MISMATCH,
            key="A00000",
            severity=Severity.ERROR,
            detail="totals differ",
            order=order,
        )
        issue_raise(account=account, kind=IssueKind.OVERSELL, key="A00001:TEE-A", detail="short by 2", order=order)
        Fulfillment.objects.create(order=order, push_state=PushState.FAILED, push_error="503 from the channel")
        assert ReconciliationIssue.objects.filter(status="open").count() == 2
    response = alice_client.get(f"/app/{shop_a.slug}/attention/")
    assert response.status_code == 200
    kinds = {item.kind: item for item in response.context["items"]}
    assert set(kinds) >= {
        "rejected_listings",
        "feed_problems",
        "stale_rates",
        "reconciliation",
        "oversells",
        "failed_pushes",
    }
    slug = shop_a.slug
    assert kinds["rejected_listings"].url == f"/app/{slug}/channels/{pinterest.pk}/listings/?status=rejected"
    assert kinds["feed_problems"].url == f"/app/{slug}/channels/{account.pk}/listings/?check=1"
    assert kinds["stale_rates"].url == f"/app/{slug}/localization/"
    assert kinds["oversells"].url == f"/app/{slug}/orders/reconciliation/?kind=oversell"
    assert kinds["reconciliation"].url == f"/app/{slug}/orders/reconciliation/?kind=amount_mismatch"
    assert kinds["failed_pushes"].url == f"/app/{slug}/orders/{order.pk}/"
    for item in kinds.values():
        assert alice_client.get(item.url).status_code == 200, item.url
    body = response.content.decode()
    assert "Listings rejected by pinterest account" in body
    # The dashboard carries the count and the most frequent rejection reason, linked to its listings.
    home = alice_client.get(f"/app/{slug}/")
    assert home.context["attention_count"] == sum(i.count for i in response.context["items"])
    health = {h.account.pk: h for h in home.context["health"]}
    assert health[pinterest.pk].reasons == [{"field": "image_link", "message": "Image could not be downloaded", "n": 1}]
    assert health[pinterest.pk].rejected == 1
    reasons = alice_client.get(
        f"/app/{slug}/attention/rejections/",
        {"account": pinterest.pk, "field": "image_link", "message": "Image could not be downloaded"},
    )
    assert [listing.item_id for listing in reasons.context["listings"]] == [variant.sku]
    # Stock-outs on listed items: the published listing of a variant with nothing available.
    with shop_context(shop_a):
        ChannelListing.objects.filter(item_id="TEE-ERR").update(status=ListingStatus.PUBLISHED)
        from catalog.models import StockLevel

        StockLevel.objects.filter(variant=other).update(on_hand=0, allocated=0)
    home = alice_client.get(f"/app/{slug}/")
    assert [v["sku"] for v in home.context["stock_outs"]["items"]] == ["TEE-ERR"]


def test_nothing_to_attend_to(alice_client, shop_a):
    response = alice_client.get(f"/app/{shop_a.slug}/attention/")
    assert response.status_code == 200
    assert response.context["total"] == 0
    assert "Nothing needs you right now" in response.content.decode()
    home = alice_client.get(f"/app/{shop_a.slug}/")
    assert home.status_code == 200
    assert home.context["totals"].orders == 0


def test_a_new_time_zone_rebuckets_daily_sales(alice_client, shop_a, monkeypatch, django_capture_on_commit_callbacks):
    from orders import tasks

    rebuilt = []
    monkeypatch.setattr(tasks.sales_rollup_rebuild_task, "delay", lambda shop_id: rebuilt.append(shop_id))
    form = {"name": shop_a.name, "default_currency": "USD", "default_language": "en", "country": "US"}
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("shop-settings", args=["alice"]), {**form, "timezone": "UTC"})
    assert rebuilt == [], "nothing changed"
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("shop-settings", args=["alice"]), {**form, "timezone": "Asia/Tokyo"})
    assert rebuilt == [shop_a.pk]
