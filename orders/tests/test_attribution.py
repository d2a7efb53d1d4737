"""Where an order came from: the landing's parameters read into a source and campaign, the daily
traffic counter, and the attribution an imported order keeps (one by one and in a batch)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from orders.attribution import (
    CAMPAIGN_LENGTH,
    PARAM_LENGTH,
    SOURCE_LENGTH,
    Landing,
    landing_from_params,
    traffic_count,
)
from orders.models import Order, TrafficDaily
from orders.services.ingest import order_import, orders_import_batch
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

# (parameters, source, campaign)
MAPPING = [
    # Meta's checkout URL says which of its apps the cart came from.
    ({"cart_origin": "instagram"}, "instagram", ""),
    ({"cart_origin": "facebook", "utm_source": "meta", "utm_campaign": "Meta shop"}, "facebook", "Meta shop"),
    ({"cart_origin": "Instagram"}, "instagram", ""),
    ({"cart_origin": "whatsapp"}, "whatsapp", ""),
    ({"cart_origin": "somewhere_new"}, "meta", ""),
    # Our own listings' links: utm_source is the account's channel, utm_campaign its name.
    ({"utm_source": "tiktok_shop", "utm_medium": "social", "utm_campaign": "TikTok BD"}, "tiktok_shop", "TikTok BD"),
    ({"utm_source": "pinterest", "utm_medium": "social", "utm_campaign": "Pins"}, "pinterest", "Pins"),
    ({"utm_source": "google_merchant", "utm_campaign": "Google"}, "google_merchant", "Google"),
    ({"utm_source": "snapchat"}, "snapchat", ""),
    ({"utm_source": "meta", "utm_campaign": "FB & IG"}, "meta", "FB & IG"),
    # fbclid alone: a click on Facebook or Instagram.
    ({"fbclid": "IwAR0abc"}, "meta", ""),
    ({"fbclid": "IwAR0abc", "utm_source": "instagram"}, "instagram", ""),
    # The usual spellings of networks.
    ({"utm_source": "WhatsApp"}, "whatsapp", ""),
    ({"utm_source": "messenger"}, "messenger", ""),
    ({"utm_source": "fb"}, "facebook", ""),
    ({"utm_source": "Facebook"}, "facebook", ""),
    ({"utm_source": "IG"}, "instagram", ""),
    ({"utm_source": "tiktok"}, "tiktok_shop", ""),
    ({"utm_source": "google"}, "google_merchant", ""),
    # Anything else is kept as given, lower-cased and made safe.
    ({"utm_source": "Newsletter Nov!"}, "newsletter_nov", ""),
    ({"utm_campaign": "দুর্গাপূজা ২০২৬", "utm_source": "facebook"}, "facebook", "দুর্গাপূজা ২০২৬"),
    # Nothing that names a source: direct.
    ({}, "direct", ""),
    ({"utm_source": ""}, "direct", ""),
    ({"utm_source": "!!!"}, "direct", ""),
    ({"utm_source": "\x00\x01"}, "direct", ""),
    ({"utm_medium": "social", "utm_campaign": "orphan"}, "direct", "orphan"),
]


@pytest.mark.parametrize(("params", "source", "campaign"), MAPPING)
def test_landing_mapping(params, source, campaign):
    landing = landing_from_params(params)
    assert (landing.source, landing.campaign) == (source, campaign)


def test_a_query_dict_is_read_like_a_request():
    landing = landing_from_params(QueryDict("cart_origin=instagram&utm_campaign=Winter%20sale&products=12%3A1&x=1"))
    assert landing == Landing(
        source="instagram", campaign="Winter sale", params={"cart_origin": "instagram", "utm_campaign": "Winter sale"}
    )
    # Only the landing parameters are kept, never the cart or anything else.
    assert "products" not in landing.params and "x" not in landing.params


@pytest.mark.parametrize("params", [None, "utm_source=meta", 42, ["utm_source"], {"utm_source": None}])
def test_what_is_no_mapping_is_direct(params):
    assert landing_from_params(params).source == "direct"


def test_overlong_and_odd_values_are_capped():
    landing = landing_from_params(
        {"utm_source": "x" * 5000, "utm_campaign": "y" * 5000, "fbclid": "z" * 5000, "utm_term": ["a", "b"]}
    )
    assert landing.source == "x" * SOURCE_LENGTH
    assert landing.campaign == "y" * CAMPAIGN_LENGTH
    assert landing.params["utm_source"] == "x" * PARAM_LENGTH
    assert landing.params["fbclid"] == "z" * PARAM_LENGTH
    assert landing.params["utm_term"] == "a"


def test_as_attribution():
    landing = landing_from_params({"cart_origin": "instagram", "utm_campaign": "Eid", "fbclid": "abc"})
    assert landing.as_attribution() == {
        "source": "instagram",
        "campaign": "Eid",
        "landing": {"cart_origin": "instagram", "utm_campaign": "Eid", "fbclid": "abc"},
    }


# --- The daily counter ----------------------------------------------------------------------------


def test_traffic_count_upserts_one_row_per_day_source_and_campaign(in_shop_a):
    insta = landing_from_params({"cart_origin": "instagram", "utm_campaign": "Eid"})
    day = dt.date(2026, 11, 15)
    with CaptureQueriesContext(connection) as captured:
        traffic_count(landing=insta, kind="view", day=day)
    assert len(captured) == 1
    assert "ON CONFLICT" in captured[0]["sql"]
    traffic_count(landing=insta, kind="view", day=day)
    traffic_count(landing=insta, kind="checkout", day=day)
    # Without a day, the shop's local day is read in the same statement.
    with CaptureQueriesContext(connection) as captured:
        traffic_count(landing=insta, kind="view")
    assert len(captured) == 1
    TrafficDaily.objects.exclude(day__in=[day, day + dt.timedelta(days=1)]).delete()
    traffic_count(landing=landing_from_params({"cart_origin": "instagram"}), kind="view", day=day)
    traffic_count(landing=insta, kind="view", day=day + dt.timedelta(days=1))
    rows = {
        (r.day, r.source, r.campaign): (r.page_views, r.checkout_starts)
        for r in TrafficDaily.objects.order_by("day", "campaign")
    }
    assert rows == {
        (day, "instagram", ""): (1, 0),
        (day, "instagram", "Eid"): (2, 1),
        (day + dt.timedelta(days=1), "instagram", "Eid"): (1, 0),
    }


def test_traffic_count_counts_the_shops_local_day(db):
    from django.utils import timezone

    from shopadmin.services import shop_create

    with acting_as(Actor(door=Door.CLI, label="test")):
        shop = shop_create(name="Dhaka", slug="dhaka", currency="BDT", country="BD", timezone_name="Asia/Dhaka")
    with shop_context(shop):
        traffic_count(landing=landing_from_params({}), kind="view")
        row = TrafficDaily.objects.get()
    from zoneinfo import ZoneInfo

    assert row.day == timezone.now().astimezone(ZoneInfo("Asia/Dhaka")).date()
    assert row.source == "direct"


def test_traffic_count_refuses_an_unknown_kind(in_shop_a):
    with pytest.raises(ValueError, match="kind"):
        traffic_count(landing=landing_from_params({}), kind="purchase")


def test_charlie_never_sees_alices_traffic(shop_a, shop_b):
    with shop_context(shop_a):
        traffic_count(landing=landing_from_params({"utm_source": "pinterest"}), kind="view")
    with shop_context(shop_b):
        assert not TrafficDaily.objects.exists()
        traffic_count(landing=landing_from_params({"utm_source": "pinterest"}), kind="view")
    with shop_context(shop_a):
        assert TrafficDaily.objects.get().page_views == 1


# --- An order keeps where it came from ------------------------------------------------------------


def _attributed(external_id, params, **kwargs):
    data = channel_order(external_id, **kwargs)
    data.attribution = landing_from_params(params).as_attribution()
    return data


def test_an_imported_order_keeps_its_attribution(shop_a, meta_account):
    stocked_variant(shop_a)
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        order, outcome = order_import(
            account=meta_account,
            data=_attributed("A1", {"cart_origin": "instagram", "utm_campaign": "Eid", "fbclid": "f" * 900}),
        )
        assert outcome == "created"
        order.refresh_from_db()
        assert (order.source, order.campaign) == ("instagram", "Eid")
        assert order.landing == {"cart_origin": "instagram", "utm_campaign": "Eid", "fbclid": "f" * PARAM_LENGTH}
        # The channel's later update does not move it.
        again = channel_order("A1", status="SHIPPED", total="60.00")
        order_import(account=meta_account, data=again)
        order.refresh_from_db()
        assert (order.source, order.campaign) == ("instagram", "Eid")


def test_an_order_without_attribution_comes_from_its_channel(shop_a, meta_account, tiktok_account):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        order_import(account=meta_account, data=channel_order("M1"))
        order_import(account=tiktok_account, data=channel_order("T1"))
        assert dict(Order.objects.values_list("external_id", "source")) == {"M1": "meta", "T1": "tiktok_shop"}
        assert set(Order.objects.values_list("campaign", flat=True)) == {""}


def test_garbage_attribution_is_cut_not_refused(shop_a, meta_account):
    data = channel_order("G1")
    data.attribution = {"source": "Ü" * 300 + "x", "campaign": "c" * 999, "landing": {"utm_term": "t" * 999, "evil": 1}}
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        order, _ = order_import(account=meta_account, data=data)
        order.refresh_from_db()
    assert len(order.source) <= SOURCE_LENGTH and order.source
    assert order.campaign == "c" * CAMPAIGN_LENGTH
    assert order.landing == {"utm_term": "t" * PARAM_LENGTH}


def test_the_batch_import_keeps_attribution_as_one_by_one(shop_a, meta_account):
    stocked_variant(shop_a)
    batch = [
        _attributed("B1", {"cart_origin": "instagram", "utm_campaign": "Eid"}),
        _attributed("B2", {"utm_source": "whatsapp"}),
        channel_order("B3"),
    ]
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        results = orders_import_batch(account=meta_account, orders=batch)
        assert [outcome for _order, outcome in results] == ["created"] * 3
        got = {o.external_id: (o.source, o.campaign, o.landing) for o in Order.objects.all()}
    assert got == {
        "B1": ("instagram", "Eid", {"cart_origin": "instagram", "utm_campaign": "Eid"}),
        "B2": ("whatsapp", "", {"utm_source": "whatsapp"}),
        "B3": ("meta", "", {}),
    }


def test_the_migration_gives_orders_held_their_channel_as_source(shop_a, shop_b, meta_account, tiktok_account):
    import importlib
    from types import SimpleNamespace

    from channels.tests.factories import make_account

    fill = importlib.import_module("orders.migrations.0010_order_attribution").fill_sources
    pinterest_b = make_account(shop_b, "pinterest")
    with acting_as(Actor(door=Door.CLI, label="test")):
        with shop_context(shop_a):
            order_import(account=meta_account, data=channel_order("M1"))
            order_import(account=tiktok_account, data=channel_order("T1"))
            kept = _attributed("I1", {"cart_origin": "instagram"})
            order_import(account=meta_account, data=kept)
            Order.objects.exclude(external_id="I1").update(source="")
        with shop_context(shop_b):
            order_import(account=pinterest_b, data=channel_order("P1"))
            Order.objects.update(source="")
    fill(None, SimpleNamespace(connection=connection))
    with shop_context(shop_a):
        assert dict(Order.objects.values_list("external_id", "source")) == {
            "M1": "meta",
            "T1": "tiktok_shop",
            "I1": "instagram",
        }
    with shop_context(shop_b):
        assert list(Order.objects.values_list("source", flat=True)) == ["pinterest"]
