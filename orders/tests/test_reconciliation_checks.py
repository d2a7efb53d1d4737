"""Each check of reconciliation on its own: given what it compares, the findings it returns.

The end-to-end run against the sandbox is test_reconciliation.py; here the checks get the data
directly (orders, channel orders, lines, listings), and the run's two ways of ending are shown
with the channel left out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import ChannelListing, ListingStatus
from channels.tests.factories import make_account
from orders import reconciliation
from orders.models import IssueAction, IssueKind, Lifecycle, Order, OrderLine, ReconciliationRun, Severity
from orders.reconciliation import (
    Finding,
    amount_mismatch,
    listing_quantity_drift,
    listings_rejected,
    missing_order,
    oversold_lines,
    reconciliation_run,
    status_drift,
    unknown_items,
    unknown_to_channel,
)
from orders.tests.conftest import channel_order
from shopadmin.tenancy import shop_context
from shopadmin.words import Words

pytestmark = pytest.mark.django_db
D = Decimal


def ours(external_id="1001", *, status=Lifecycle.AWAITING_FULFILLMENT, total="49.90", currency="USD", updated=None):
    """An order as the run reads it (not saved: the checks only compare)."""
    return Order(external_id=external_id, status=status, total=D(total), currency=currency, channel_updated_at=updated)


def line(order, *, sku="TEE-M", variant_id=1, quantity=1, allocated=1, short=0):
    result = OrderLine(
        sku=sku, channel_item_id=sku, quantity=quantity, quantity_allocated=allocated, quantity_short=short
    )
    result.order = order
    result.variant_id = variant_id
    return result


# --- Orders -------------------------------------------------------------------------------------


def test_missing_order_is_imported_and_settled(shop_a):
    account = make_account(shop_a, "meta")
    with shop_context(shop_a):
        finding = missing_order(account, channel_order("2001"))
        assert Order.objects.filter(account=account, external_id="2001").exists()
    assert (finding.kind, finding.key, finding.severity) == (IssueKind.MISSING_ORDER, "2001", Severity.WARNING)
    assert finding.resolved_note == "Imported by reconciliation."
    assert finding.order is not None and finding.order.external_id == "2001"
    assert (str(finding.ours), finding.theirs) == ("not here", "CREATED 49.90 USD")
    assert finding.suggested_action == IssueAction.IMPORT
    # The amount is kept as a value, shown in the reader's language with the money filter.
    assert finding.data == {"theirs": {"status": "CREATED", "amount": "49.90", "currency": "USD"}}


def test_missing_order_that_cannot_be_imported_is_an_error(shop_a):
    account = make_account(shop_a, "meta")
    with shop_context(shop_a):
        finding = missing_order(account, channel_order(""))  # the channel sent no id
        assert not Order.objects.filter(account=account).exists()
    assert (finding.kind, finding.severity, finding.order, finding.resolved_note) == (
        IssueKind.MISSING_ORDER,
        Severity.ERROR,
        None,
        "",
    )
    assert str(finding.detail).startswith("Import failed: ")


def test_status_drift_suggests_the_side_that_changed_last():
    then = timezone.now()
    order = ours(updated=then)
    cancelled_later = channel_order(
        status="CANCELLED", lifecycle=Lifecycle.CANCELLED, updated_at=then + dt.timedelta(1)
    )
    finding = status_drift(order, cancelled_later)
    assert (finding.kind, finding.key, finding.severity) == (IssueKind.STATUS_DRIFT, "1001", Severity.WARNING)
    assert (finding.ours, finding.theirs) == (Lifecycle.AWAITING_FULFILLMENT, "CANCELLED (cancelled)")
    assert finding.suggested_action == IssueAction.REFRESH and finding.order is order
    assert str(finding.detail) == "Order 1001 is “Awaiting fulfilment” here and “Cancelled” on the channel."
    cancelled_before = channel_order(status="CANCELLED", lifecycle=Lifecycle.CANCELLED, updated_at=then)
    assert status_drift(order, cancelled_before).suggested_action == IssueAction.REPUSH


@pytest.mark.parametrize(
    ("here", "there"),
    [
        (Lifecycle.AWAITING_FULFILLMENT, Lifecycle.AWAITING_FULFILLMENT),
        (Lifecycle.REFUNDED, Lifecycle.FULFILLED),  # refunds are ours to record
        (Lifecycle.PARTIALLY_REFUNDED, Lifecycle.CANCELLED),
        (Lifecycle.PENDING, Lifecycle.AWAITING_FULFILLMENT),  # the same state in other words
    ],
)
def test_status_drift_ignores_states_that_agree(here, there):
    assert status_drift(ours(status=here), channel_order(lifecycle=there)) is None


def test_amount_mismatch_beyond_one_minor_unit_or_in_another_currency():
    order = ours(total="99.80")
    assert amount_mismatch(order, channel_order(total="99.81")) is None  # rounding
    assert amount_mismatch(order, channel_order(total="99.80", currency="usd")) is None
    finding = amount_mismatch(order, channel_order(total="104.80"))
    assert (finding.kind, finding.key, finding.severity) == (IssueKind.AMOUNT_MISMATCH, "1001", Severity.ERROR)
    assert (finding.ours, finding.theirs, finding.suggested_action) == (
        "99.80 USD",
        "104.80 USD",
        IssueAction.REFRESH,
    )
    assert amount_mismatch(order, channel_order(total="99.80", currency="EUR")).theirs == "99.80 EUR"
    assert finding.data == {
        "ours": {"amount": "99.80", "currency": "USD"},
        "theirs": {"amount": "104.80", "currency": "USD"},
    }


def test_unknown_to_channel_lists_only_orders_the_channel_lacks():
    held, local = ours("1001"), ours("LOCAL-1", status=Lifecycle.FULFILLED)
    findings = unknown_to_channel({"1001": held, "LOCAL-1": local}, {"1001": channel_order("1001")})
    assert findings == [
        Finding(
            IssueKind.UNKNOWN_TO_CHANNEL,
            key="LOCAL-1",
            severity=Severity.ERROR,
            ours="fulfilled 49.90 USD",
            theirs=Words("not on the channel"),
            detail=Words("We hold order %(o)s but the channel does not list it.", o="LOCAL-1"),
            # Asking the channel for the one order is safe: it settles an order the list left out.
            suggested_action=IssueAction.REFRESH,
            order=local,
            data={"ours": {"lifecycle": "fulfilled", "amount": "49.90", "currency": "USD"}},
        )
    ]


# --- Lines --------------------------------------------------------------------------------------


def test_unknown_items_are_lines_without_a_variant():
    order = ours("1002")
    matched, ghost = line(order), line(order, sku="GHOST", variant_id=None)
    [finding] = unknown_items([matched, ghost])
    assert (finding.kind, finding.key, finding.severity) == (IssueKind.UNKNOWN_ITEM, "1002:GHOST", Severity.ERROR)
    assert (str(finding.ours), finding.theirs, finding.order) == ("no variant with SKU GHOST", "GHOST", order)
    assert finding.suggested_action == IssueAction.RESOLVE


def test_oversold_lines_of_open_orders_only():
    open_order, cancelled = ours("1003"), ours("1004", status=Lifecycle.CANCELLED)
    short = line(open_order, sku="RARE", quantity=2, allocated=1, short=1)
    findings = oversold_lines([short, line(open_order), line(cancelled, sku="RARE", quantity=2, allocated=1, short=1)])
    assert [(f.kind, f.key, f.severity) for f in findings] == [(IssueKind.OVERSELL, "1003:RARE", Severity.ERROR)]
    assert (str(findings[0].ours), str(findings[0].theirs)) == ("1 available", "2 ordered")
    assert str(findings[0].detail) == "Order 1003 is short of 1 x RARE."


# --- Listings -----------------------------------------------------------------------------------


def test_rejected_and_failed_listings_are_one_finding_with_their_count_and_reasons():
    listings = [
        ChannelListing(item_id="TEE-M", status=ListingStatus.REJECTED, errors=[{"message": "Image too small"}, "x"]),
        ChannelListing(item_id="TEE-L", status=ListingStatus.REJECTED, errors=[{"message": "Image too small"}]),
        ChannelListing(item_id="CAP", status=ListingStatus.ERROR, errors=[]),
        ChannelListing(item_id="OK", status=ListingStatus.PUBLISHED),
    ]
    [finding] = listings_rejected(listings)
    assert (finding.kind, finding.key, finding.severity) == (
        IssueKind.LISTING_DRIFT,
        "listings:rejected",
        Severity.WARNING,
    )
    assert (str(finding.ours), str(finding.theirs), finding.detail) == (
        "3 listed",
        "3 refused",
        "Image too small (2); x (1)",
    )
    assert finding.suggested_action == IssueAction.REPUBLISH
    assert finding.data == {"group": "rejected", "count": 3, "items": ["CAP", "TEE-L", "TEE-M"]}
    assert listings_rejected(listings[3:]) == []


def test_listing_quantity_drift_is_one_finding_per_account_beyond_what_open_orders_hold():
    def listing(item_id, variant_id, quantity, status=ListingStatus.PUBLISHED):
        return ChannelListing(item_id=item_id, variant_id=variant_id, status=status, accepted_payload={"q": quantity})

    listings = [
        listing("RARE", 1, 5),  # we have none left
        listing("SYNC", 2, 7),  # in step
        listing("OVER", 3, 0),  # more allocated than on hand reads as none available
        listing("NONE", 4, None),  # the payload states no quantity
        listing("DRAFT", 5, 9, status=ListingStatus.DRAFT),
        listing("LOOSE", None, 9),  # no variant
        listing("HELD", 6, 10),  # 2 fewer here, and open orders hold 3 units: explained, not drift
        listing("MORE", 7, 1),  # we have more than the channel sells: not explained by orders
    ]
    available = {1: 0, 2: 7, 3: -2, 4: 3, 6: 8, 7: 4}
    held = {1: 2, 6: 3}
    [finding] = listing_quantity_drift(listings, available, lambda payload: payload.get("q"), held)
    assert (finding.kind, finding.key) == (IssueKind.LISTING_DRIFT, "listings:quantity")
    assert (str(finding.ours), str(finding.theirs)) == ("4 available", "6 on sale")
    assert finding.suggested_action == IssueAction.REPUBLISH
    assert finding.data == {"group": "quantity", "count": 2, "items": ["MORE", "RARE"]}
    assert str(finding.detail) == (
        "The channel sells 2 listings from a quantity that is no longer yours, e.g. MORE (1 → 4), RARE (5 → 0)."
    )
    # Within the tolerance everywhere: nothing to say.
    assert listing_quantity_drift(listings[:2], {1: 3, 2: 7}, lambda payload: payload.get("q"), {1: 2}) == []


# --- The run: the checks in sequence, and its two ways of ending early -------------------------


@pytest.fixture
def queued_run(shop_a):
    account = make_account(shop_a, "meta")
    with shop_context(shop_a):
        return ReconciliationRun.objects.create(account=account)


def test_a_refused_account_stops_the_run_with_the_reason(shop_a, queued_run, monkeypatch):
    def refused(account, start):
        raise reconciliation._RunStopped("Reconnect the account.")

    monkeypatch.setattr(reconciliation, "_channel_orders_since", refused)
    with shop_context(shop_a):
        run = reconciliation_run(run=queued_run)
    assert (run.status, run.error, run.counts) == (ReconciliationRun.Status.FAILED, "Reconnect the account.", {})


def test_anything_unexpected_fails_the_run_with_its_message_and_the_counts_so_far(shop_a, queued_run, monkeypatch):
    from orders.services.ingest import order_import

    with shop_context(shop_a):
        order_import(account=queued_run.account, data=channel_order("LOCAL-1"))  # the channel lists nothing
    monkeypatch.setattr(reconciliation, "_channel_orders_since", lambda account, start: {})

    def broken(account, start):
        raise RuntimeError("database went away")

    monkeypatch.setattr(reconciliation, "_lines_to_check", broken)
    with shop_context(shop_a), pytest.raises(RuntimeError):
        reconciliation_run(run=queued_run)
    with shop_context(shop_a):
        run = ReconciliationRun.objects.get(pk=queued_run.pk)
    # The message in words, without the exception's class name (the worker's log has the rest).
    assert (run.status, run.error) == (ReconciliationRun.Status.FAILED, "database went away")
    assert run.counts == {IssueKind.UNKNOWN_TO_CHANNEL: 1} and run.finished_at is not None


def test_a_finding_is_kept_in_english_and_read_in_the_readers_language(shop_a):
    from django.utils import translation

    from orders.services.timeline import issue_raise

    account = make_account(shop_a, "meta")
    finding = status_drift(ours("1001"), channel_order(status="CANCELLED", lifecycle=Lifecycle.CANCELLED))
    with shop_context(shop_a), translation.override("fr"):  # a run a French-speaking merchant started
        issue, _created = issue_raise(
            account=account,
            kind=finding.kind,
            key=finding.key,
            ours=finding.ours,
            theirs=finding.theirs,
            detail=finding.detail,
        )
    assert issue.detail == "Order 1001 is “Awaiting fulfilment” here and “Cancelled” on the channel."
    with translation.override("fr"):
        assert issue.detail_text == "La commande 1001 est « À expédier » ici et « Annulée » sur le canal."
    assert issue.ours_text == issue.ours == "awaiting_fulfillment"  # a code, shown by the page as its label
