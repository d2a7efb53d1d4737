"""What a merchant met on their first day with the demo: the attention list says each problem once
and its badge agrees with it; reconciliation findings say what to do, offer the safe fix and show
amounts as money; the dashboard's period selector agrees with its sentence; the order page names
its items with a picture in a fixed number of queries; the staff admin reads well."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels.models import ChannelListing, ListingStatus
from orders.models import (
    Fulfillment,
    IssueAction,
    IssueKind,
    Order,
    OrderSyncCursor,
    PushState,
    Severity,
)
from orders.tests.conftest import channel_order, stocked_variant
from orders.tests.test_dashboard import plant_orders
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def meta(shop_a):
    from channels.tests.factories import make_account

    return make_account(shop_a, "meta", name="Alice on Meta")


@pytest.fixture
def tee(shop_a):
    variant, _loc = stocked_variant(shop_a, sku="TEE-A", on_hand=50, price="49.90", title="Alice Tee")
    return variant


def _order(shop, account, variant, external_id="A1", total="154.87"):
    from orders.services.ingest import order_import

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        order, _outcome = order_import(
            account=account, data=channel_order(external_id, lines=((variant.sku, 1, total),)), via="test"
        )
    return order


# --- The attention list --------------------------------------------------------------------------


def test_the_badge_counts_each_problem_once_as_the_attention_page_lists_it(alice_client, shop_a, meta, tee):
    """Duplicates planted on purpose: a refused listing is also a reconciliation finding, an unsent
    fulfilment also a push issue, a listing's quantities drift one issue per listing as earlier
    versions recorded them, and a publish failed twice."""
    from orders.services.timeline import issue_raise

    order = _order(shop_a, meta, tee)
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        ChannelListing.objects.create(
            account=meta,
            variant=tee,
            item_id="TEE-A",
            status=ListingStatus.REJECTED,
            errors=[{"field": "image_link", "message": "Image too small"}],
        )
        issue_raise(
            account=meta,
            kind=IssueKind.LISTING_DRIFT,
            key="listings:rejected",
            data={"group": "rejected", "count": 1, "items": ["TEE-A"]},
        )
        issue_raise(account=meta, kind=IssueKind.LISTING_DRIFT, key="listing:TEE-A")  # an earlier version's
        for n in range(5):  # an earlier version's quantity findings, one per listing
            issue_raise(account=meta, kind=IssueKind.LISTING_DRIFT, key=f"quantity:ITEM-{n}")
        fulfillment = Fulfillment.objects.create(order=order, push_state=PushState.FAILED, push_error="HTTP 400")
        issue_raise(
            account=meta,
            kind=IssueKind.PUSH_FAILED,
            key=f"fulfillment:{fulfillment.pk}",
            severity=Severity.ERROR,
            order=order,
        )
        issue_raise(account=meta, kind=IssueKind.AMOUNT_MISMATCH, key="A1", severity=Severity.ERROR, order=order)
        OrderSyncCursor.objects.create(account=meta, last_error="AdapterError: (#190) Invalid OAuth access token")
    response = alice_client.get(f"/app/{shop_a.slug}/attention/")
    items = response.context["items"]
    kinds = sorted(item.kind for item in items)
    assert kinds == [
        "failed_pushes",
        "listing_drift",
        "order_sync",
        "reconciliation",
        "rejected_listings",
    ], [(i.kind, i.title, i.count) for i in items]
    counts = {item.kind: item.count for item in items}
    assert counts == {
        "failed_pushes": 1,
        "listing_drift": 1,  # one publish fixes every quantity: one problem
        "order_sync": 1,
        "reconciliation": 1,
        "rejected_listings": 1,
    }
    # The badge on the dashboard and the total on the page are what the page lists.
    assert response.context["total"] == sum(counts.values()) == 5
    home = alice_client.get(f"/app/{shop_a.slug}/")
    assert home.context["attention_count"] == 5
    body = response.content.decode()
    assert '<span class="badge bad">5</span>' in body
    # Messages in words: no exception class names.
    assert "AdapterError" not in body and "(#190) Invalid OAuth access token" in body


def test_messages_lose_their_exception_class_names():
    from channels.adapters.base import AdapterError, TransientError
    from channels.wording import error_words, plain

    assert plain("AdapterError: Invalid token") == "Invalid token"
    assert plain("channels.adapters.base.AdapterError: Invalid token") == "Invalid token"
    assert plain("TransientError: 503") == "The channel did not answer in time; it is tried again. 503"
    assert plain("Price is missing: add one") == "Price is missing: add one"
    assert error_words(AdapterError("Invalid token")) == "Invalid token"
    assert error_words(TransientError("HTTP 503")).startswith("The channel did not answer in time")


# --- Reconciliation findings -----------------------------------------------------------------------


def test_each_finding_says_what_to_do_offers_the_safe_fix_and_shows_money(alice_client, shop_a, meta, tee):
    from orders.reconciliation import amount_mismatch, listing_quantity_drift, unknown_to_channel
    from orders.services.timeline import issue_raise

    order = _order(shop_a, meta, tee, total="154.87")
    with shop_context(shop_a):
        order = Order.objects.get(pk=order.pk)
        mismatch = amount_mismatch(order, channel_order("A1", total="160.00"))
        [unknown] = unknown_to_channel({"A1": order}, {})
        listing = ChannelListing(item_id="TEE-A", variant_id=tee.pk, status="published", accepted_payload={"q": 9})
        [drift] = listing_quantity_drift([listing], {tee.pk: 2}, lambda payload: payload.get("q"))
        for finding in (mismatch, unknown, drift):
            issue_raise(
                account=meta,
                kind=finding.kind,
                key=finding.key,
                severity=finding.severity,
                ours=finding.ours,
                theirs=finding.theirs,
                detail=finding.detail,
                suggested_action=finding.suggested_action,
                order=finding.order,
                data=finding.data,
            )
    response = alice_client.get(f"/app/{shop_a.slug}/orders/reconciliation/")
    body = response.content.decode()
    issues = {i.kind: i for i in response.context["issues"]}
    # Amounts through the money filter: never "154.870 USD".
    assert "$154.87" in body and "$160.00" in body
    assert "154.870" not in body and "160.00 USD" not in body
    # Each says what to do, and offers the action that fixes it where it is safe.
    for kind, action, button in (
        (IssueKind.AMOUNT_MISMATCH, IssueAction.REFRESH, "Refresh from the channel"),
        (IssueKind.UNKNOWN_TO_CHANNEL, IssueAction.REFRESH, "Refresh from the channel"),
        (IssueKind.LISTING_DRIFT, IssueAction.REPUBLISH, "Publish again"),
    ):
        issue = issues[kind]
        assert issue.suggested_action == action
        assert issue.advice and issue.advice in body.replace("&#x27;", "'")
        assert f'name="action" value="{action}">{button}</button>' in body
    assert "Publish again, so the channel sells the stock you have." in body
    assert "1 listing</a>" in body


def test_an_action_that_talks_to_the_channel_is_queued_never_done_by_the_request(
    alice_client, shop_a, meta, tee, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks
    from orders.services.timeline import issue_raise

    queued = []
    monkeypatch.setattr(tasks.issue_act_task, "delay", lambda *args: queued.append(args))
    with shop_context(shop_a):
        issue, _created = issue_raise(
            account=meta,
            kind=IssueKind.LISTING_DRIFT,
            key="listings:quantity",
            suggested_action=IssueAction.REPUBLISH,
            data={"group": "quantity", "count": 3, "items": ["A", "B", "C"]},
        )
    url = f"/app/{shop_a.slug}/orders/reconciliation/issues/{issue.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url, {"action": "republish"}, follow=True)
    assert queued == [(shop_a.pk, issue.pk, "republish", "")]
    assert "On its way" in response.content.decode()
    with shop_context(shop_a):
        issue.refresh_from_db()
    assert (issue.status, issue.pending_action) == ("open", "republish")
    # The worker publishes the account again through the channels app and settles the issue.
    with shop_context(shop_a), acting_as(Actor(door=Door.TASK, label="test")):
        from channels.models import PublishPlan

        tasks.issue_act_task.run(shop_a.pk, issue.pk, "republish", "")
        issue.refresh_from_db()
        assert (issue.status, issue.pending_action) == ("resolved", "")
        assert PublishPlan.objects.filter(account=meta).exclude(status="draft").exists()
        assert "Published again" in issue.resolution_note
    # An action that cannot apply is refused with a reason, nothing queued.
    with shop_context(shop_a):
        other, _created = issue_raise(account=meta, kind=IssueKind.OVERSELL, key="A1:TEE-A")
    response = alice_client.post(
        f"/app/{shop_a.slug}/orders/reconciliation/issues/{other.pk}/", {"action": "republish"}, follow=True
    )
    assert "Only a listing finding is published again." in response.content.decode()
    assert len(queued) == 1


def test_listing_quantities_within_what_open_orders_hold_are_not_drift(shop_a, meta, tee):
    """Five units on sale on the channel, three here, and two held by an open order: explained."""
    from orders.reconciliation import _stock_by_variant, listing_quantity_drift

    _order(shop_a, meta, tee, external_id="HOLD-1")  # allocates one unit
    _order(shop_a, meta, tee, external_id="HOLD-2")
    with shop_context(shop_a):
        available, held = _stock_by_variant({tee.pk})
    assert (available[tee.pk], held[tee.pk]) == (48, 2)
    listing = ChannelListing(item_id="TEE-A", variant_id=tee.pk, status="published")
    for stated, drifts in ((50, False), (49, False), (48, False), (51, True), (47, True)):
        listing.accepted_payload = {"q": stated}
        found = listing_quantity_drift([listing], available, lambda payload: payload.get("q"), held)
        assert bool(found) is drifts, stated


# --- The dashboard's period ------------------------------------------------------------------------


def test_the_selected_period_and_its_sentence_agree(alice_client, shop_a, meta, tee):
    plant_orders(shop_a, meta, tee, count=2, prefix="D")
    for key, label, sentence in (
        ("day", "30 days", "Sales of the last 30 days, day by day"),
        ("week", "12 weeks", "Sales of the last 12 weeks, week by week"),
        ("month", "12 months", "Sales of the last 12 months, month by month"),
    ):
        body = alice_client.get(f"/app/{shop_a.slug}/", {"period": key}).content.decode()
        assert f'<a href="?period={key}" aria-current="page">{label}</a>' in body
        assert sentence in body
    # No period asked for: the default is marked, and the sentence says the same window.
    body = alice_client.get(f"/app/{shop_a.slug}/").content.decode()
    assert '<a href="?period=day" aria-current="page">30 days</a>' in body and "the last 30 days" in body


# --- The order page --------------------------------------------------------------------------------


def _catalog_items(shop, n):
    from catalog.models import ProductMedia, ProductOption, ProductVariant
    from catalog.services import product_create

    variants = []
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        for i in range(n):
            product = product_create(
                title=f"Linen Shirt {i}",
                status="active",
                variants=[{"sku": f"LIN-{i}", "price": "30.00", "option_values": {"Size": "M", "Colour": "Sand"}}],
            )
            ProductOption.objects.create(product=product, name="Size", values=["M"], position=0)
            ProductMedia.objects.create(product=product, url=f"https://img.example.com/lin-{i}.jpg", position=0)
            ProductMedia.objects.create(product=product, url=f"https://img.example.com/lin-{i}-b.jpg", position=1)
            variants.append(ProductVariant.objects.get(product=product))
    return variants


def _order_of(shop, account, variants, external_id):
    from orders.services.ingest import order_import

    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        data = channel_order(external_id, lines=[(v.sku, 1, "30.00") for v in variants])
        order, _outcome = order_import(account=account, data=data, via="test")
    return order


def test_the_order_page_names_each_item_with_its_options_and_picture_in_fixed_queries(alice_client, shop_a, meta):
    variants = _catalog_items(shop_a, 6)
    small = _order_of(shop_a, meta, variants[:1], "SMALL")
    large = _order_of(shop_a, meta, variants, "LARGE")
    url = f"/app/{shop_a.slug}/orders/{{}}/"
    alice_client.get(url.format(small.pk))  # warm up (sessions, content types)
    with CaptureQueriesContext(connection) as one:
        response = alice_client.get(url.format(small.pk))
    with CaptureQueriesContext(connection) as six:
        response = alice_client.get(url.format(large.pk))
    assert len(six.captured_queries) == len(one.captured_queries), "a query per line"
    body = response.content.decode()
    for i in range(6):
        assert f">Linen Shirt {i}</a>" in body
        assert f'src="https://img.example.com/lin-{i}.jpg"' in body  # the first picture
        assert f"lin-{i}-b.jpg" not in body
    assert "Size: M · Colour: Sand" in body
    # One action at a time: fulfil, cancel and refund are closed disclosures.
    for action in ("fulfil", "cancel", "refund"):
        assert f'<details id="{action}">' in body


def test_a_refused_action_stays_open_and_dates_read_one_way(alice_client, shop_a, meta):
    from orders.models import OrderEvent

    [variant] = _catalog_items(shop_a, 1)
    order = _order_of(shop_a, meta, [variant], "REF-1")
    with shop_context(shop_a):
        Order.objects.filter(pk=order.pk).update(acknowledged_at=timezone.now() - dt.timedelta(hours=2))
        assert OrderEvent.objects.filter(order=order).exists()
    response = alice_client.post(f"/app/{shop_a.slug}/orders/{order.pk}/refund/", {"amount": "-5"})
    assert response.status_code == 400
    body = response.content.decode()
    assert '<details id="refund" open>' in body
    assert '<details id="fulfil">' in body and '<details id="cancel">' in body
    # Every date and time on the page in one format (the shop's locale and time zone).
    import re

    shown = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', body)
    assert len(shown) >= 3
    pattern = re.compile(r"^\d{2}/\d{2}/\d{4} \d{1,2}:\d{2} [ap]\.m\.$|^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2} [AP]M$")
    assert all(pattern.match(text) for text in shown), shown


# --- The staff admin -------------------------------------------------------------------------------


def test_every_orders_model_names_itself_in_the_singular_and_plural():
    """Staff read these names in their language; an automatic plural is English made from the
    class name ("Daily saless")."""
    from django.apps import apps
    from django.utils.functional import Promise

    models = list(apps.get_app_config("orders").get_models())
    bare = [
        m.__name__
        for m in models
        if not isinstance(m._meta.verbose_name, Promise) or not isinstance(m._meta.verbose_name_plural, Promise)
    ]
    assert bare == []
    plurals = {m.__name__: str(m._meta.verbose_name_plural) for m in models}
    assert plurals["DailySales"] == "daily sales"
    assert plurals["DailyProductSales"] == "daily product sales"
    assert plurals["OrderSettings"] == "order settings"
    assert plurals["Fulfillment"] == "fulfilments"
    assert not [p for p in plurals.values() if p.endswith("ss") or p.endswith("ys")]


def test_the_staff_admin_shows_amounts_in_the_currency(client, staff, shop_a, meta, tee):
    from orders.models import DailySales

    order = _order(shop_a, meta, tee, total="273.98")
    client.force_login(staff)
    listing = client.get("/admin/orders/order/").content.decode()
    assert "$273.98" in listing and "273.980" not in listing
    detail = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "$273.98" in detail and "273.980" not in detail
    with shop_context(shop_a):
        assert DailySales.objects.exists()
    daily = client.get("/admin/orders/dailysales/").content.decode()
    assert "Daily sales" in daily and "saless" not in daily.lower()
    assert "$273.98" in daily
    assert Decimal("273.98") == order.total
    from orders.services.timeline import issue_raise

    with shop_context(shop_a):
        issue, _created = issue_raise(account=meta, kind=IssueKind.OVERSELL, key="A1:TEE-A", order=order)
    assert client.get("/admin/orders/reconciliationissue/").status_code == 200
    assert client.get(f"/admin/orders/reconciliationissue/{issue.pk}/change/").status_code == 200
    assert "Reconciliation issues" in client.get("/admin/orders/").content.decode()


def test_the_api_queues_an_action_that_talks_to_the_channel(
    api_a, shop_a, meta, tee, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks
    from orders.services.timeline import issue_raise

    queued = []
    monkeypatch.setattr(tasks.issue_act_task, "delay", lambda *args: queued.append(args))
    order = _order(shop_a, meta, tee)
    with shop_context(shop_a):
        issue, _created = issue_raise(
            account=meta,
            kind=IssueKind.AMOUNT_MISMATCH,
            key=order.external_id,
            order=order,
            suggested_action=IssueAction.REFRESH,
        )
    url = f"/api/v1/reconciliation-issues/{issue.pk}/act/"
    assert api_a.get(f"/api/v1/reconciliation-issues/{issue.pk}/").json()["pending_action"] is None
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post(url, {"action": "refresh"}, format="json")
    assert response.status_code == 202, response.content
    assert (response.json()["status"], response.json()["pending_action"]) == ("open", "refresh")
    assert queued == [(shop_a.pk, issue.pk, "refresh", "")]
    # Asked again while it waits: still one job for the worker.
    with django_capture_on_commit_callbacks(execute=True):
        assert api_a.post(url, {"action": "refresh"}, format="json").status_code == 202
    assert len(queued) == 1
    # The worker's refusal is kept on the issue, in words.
    with shop_context(shop_a), acting_as(Actor(door=Door.TASK, label="test")):
        from orders import reconciliation

        def refused(*, issue, action, note=""):
            from channels.adapters.base import AdapterError

            raise AdapterError("AdapterError: (#100) Unsupported get request")

        monkeypatch.setattr(reconciliation, "issue_act", refused)
        tasks.issue_act_task.run(shop_a.pk, issue.pk, "refresh", "")
    body = api_a.get(f"/api/v1/reconciliation-issues/{issue.pk}/").json()
    assert (body["pending_action"], body["action_error"]) == (None, "(#100) Unsupported get request")
    resolved = api_a.post(url, {"action": "resolve", "note": "checked"}, format="json")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"


def test_a_status_recorded_as_its_code_reads_as_its_label():
    from orders.models import ReconciliationIssue
    from orders.templatetags.orders_tags import issue_side

    issue = ReconciliationIssue(ours="cancelled", theirs="TikTok Shop does not know order 1.", data={})
    assert issue_side(issue, "ours") == "Cancelled"
    assert issue_side(issue, "theirs") == "TikTok Shop does not know order 1."


def test_a_timeline_written_by_a_task_reads_in_the_merchants_language(alice_client, shop_a, meta, tee):
    from django.utils import translation

    from shopadmin.words import Words, render

    order = _order(shop_a, meta, tee, external_id="W1")  # imported as a task would, in English
    with shop_context(shop_a):
        event = order.events.order_by("id").first()
        assert event.message.startswith("Received from Alice on Meta")  # what the API and the admin show
    url = f"/app/{shop_a.slug}/orders/{order.pk}/"
    alice_client.post("/i18n/setlang/", {"language": "fr", "next": url})
    page = alice_client.get(url).content.decode()
    assert "Reçue de Alice on Meta" in page and "réservés" in page
    # A malformed record reads as its English text; numbers stay numbers.
    assert render({"msgid": "%(n)d x %(sku)s allocated", "params": {"n": "two"}}) == "%(n)d x %(sku)s allocated"
    with translation.override("en"):
        assert str(Words("%(n)d x %(sku)s allocated", n=2, sku="TEE")) == "2 x TEE allocated"
    with translation.override("fr"):
        assert str(Words("%(n)d x %(sku)s allocated", n=2, sku="TEE")) == "2 x TEE réservés"
