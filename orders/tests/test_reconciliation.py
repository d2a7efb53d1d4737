"""Reconciliation finds each kind of discrepancy planted in the sandbox, and nothing else."""

from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from channels.models import ChannelListing
from channels.sandbox.control import control_headers
from channels.sandbox.models import SandboxOrder
from channels.tests.factories import TIKTOK_CREDENTIALS, make_account
from orders.models import IssueKind, Lifecycle, Order, ReconciliationIssue, ReconciliationRun
from orders.reconciliation import issue_act, reconciliation_run, reconciliation_start
from orders.services.ingest import order_import
from orders.sync import orders_poll
from orders.tests.conftest import channel_order, sandbox_list, sandbox_order, stocked_variant, tiktok_sandbox
from shopadmin.tenancy import shop_context

KEY = TIKTOK_CREDENTIALS["app_key"]


def place(live_server, item, quantity=1):
    return sandbox_order(live_server, "tiktok_shop", KEY, [{"item_id": item, "quantity": quantity}])["order_id"]


@pytest.mark.django_db(transaction=True)
def test_each_planted_discrepancy_is_found_once_and_nothing_else(
    live_server, shop_a, django_capture_on_commit_callbacks
):
    tee, _loc = stocked_variant(shop_a, sku="TEE-M", on_hand=50)
    rare, _loc = stocked_variant(shop_a, sku="RARE", on_hand=1, title="Rare")
    in_sync, _loc = stocked_variant(shop_a, sku="SYNC", on_hand=7, title="Synced")
    account = make_account(shop_a, "tiktok_shop", api_base_url=f"{live_server.url}/sandbox/tiktok")
    tiktok_sandbox(live_server, account)
    httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{KEY}/", headers=control_headers(), json={"webhook_url": ""}
    )
    sandbox_list("tiktok_shop", KEY, ["TEE-M", "GHOST", "RARE"])
    in_step = place(live_server, "TEE-M")
    within_tolerance = place(live_server, "TEE-M")
    drifted = place(live_server, "TEE-M")
    mismatched = place(live_server, "TEE-M", 2)
    ghost = place(live_server, "GHOST")
    oversold = place(live_server, "RARE", 2)
    with shop_context(shop_a):
        assert orders_poll(account=account) == {"created": 6}
        # Ours only: an order the channel does not list.
        order_import(account=account, data=channel_order("LOCAL-1", lines=(("TEE-M", 1, "49.90"),)))
        ChannelListing.objects.create(
            account=account, variant=tee, item_id="TEE-M", status="rejected", errors=[{"message": "Image too small"}]
        )
        # What TikTok last accepted: RARE on sale at 5 (we have none left), SYNC at our 7.
        for variant, quantity in ((rare, 5), (in_sync, 7)):
            ChannelListing.objects.create(
                account=account,
                variant=variant,
                item_id=variant.sku,
                status="published",
                accepted_payload={"skus": [{"seller_sku": variant.sku, "inventory": [{"quantity": quantity}]}]},
            )
    # Planted on the channel's side after our import.
    missing = place(live_server, "TEE-M")
    later = timezone.now() + timezone.timedelta(seconds=2)
    SandboxOrder.objects.filter(order_id=drifted).update(status="CANCELLED", updated_at=later)
    SandboxOrder.objects.filter(order_id=mismatched).update(total="104.80")  # 2 x 49.90 = 99.80
    SandboxOrder.objects.filter(order_id=within_tolerance).update(total="49.91")  # one minor unit

    with shop_context(shop_a), django_capture_on_commit_callbacks(execute=False):
        run = reconciliation_start(account=account)
        run = reconciliation_run(run=ReconciliationRun.objects.select_related("account", "job").get(pk=run.pk))
    assert run.status == "succeeded", run.error
    assert run.counts == {
        IssueKind.MISSING_ORDER: 1,
        IssueKind.STATUS_DRIFT: 1,
        IssueKind.AMOUNT_MISMATCH: 1,
        IssueKind.UNKNOWN_TO_CHANNEL: 1,
        IssueKind.UNKNOWN_ITEM: 1,
        IssueKind.OVERSELL: 1,
        IssueKind.LISTING_DRIFT: 2,
    }
    assert run.orders_checked == 8
    with shop_context(shop_a):
        found = list(ReconciliationIssue.objects.filter(run=run))
        # Listings are grouped per account: one finding for the refused ones, one for the quantities.
        drift = sorted(i.key for i in found if i.kind == IssueKind.LISTING_DRIFT)
        assert drift == ["listings:quantity", "listings:rejected"]
        quantity = next(i for i in found if i.key == "listings:quantity")
        assert (quantity.ours, quantity.theirs) == ("0 available", "5 on sale")
        assert quantity.data["items"] == ["RARE"] and quantity.suggested_action == "republish"
        issues = {i.kind: i for i in found if i.key != "listings:quantity"}
        assert issues[IssueKind.MISSING_ORDER].key == missing
        assert issues[IssueKind.MISSING_ORDER].status == "resolved"  # imported by the run
        assert Order.objects.filter(external_id=missing).exists()
        assert issues[IssueKind.STATUS_DRIFT].key == drifted and "CANCELLED" in issues[IssueKind.STATUS_DRIFT].theirs
        assert issues[IssueKind.STATUS_DRIFT].suggested_action == "refresh"
        assert issues[IssueKind.AMOUNT_MISMATCH].key == mismatched
        assert (issues[IssueKind.AMOUNT_MISMATCH].ours, issues[IssueKind.AMOUNT_MISMATCH].theirs) == (
            "99.800 USD",
            "104.80 USD",
        )
        assert issues[IssueKind.UNKNOWN_TO_CHANNEL].key == "LOCAL-1"
        assert issues[IssueKind.UNKNOWN_ITEM].key == f"{ghost}:GHOST"
        assert issues[IssueKind.OVERSELL].key == f"{oversold}:RARE"
        assert issues[IssueKind.LISTING_DRIFT].data["items"] == ["TEE-M"]
        assert in_step not in {i.key for i in issues.values()}
        assert within_tolerance not in {i.key for i in issues.values()}

        # One click: refresh the drifted order from the channel; it is cancelled here too.
        issue_act(issue=issues[IssueKind.STATUS_DRIFT], action="refresh")
        assert Order.objects.get(external_id=drifted).status == Lifecycle.CANCELLED
        assert ReconciliationIssue.objects.get(pk=issues[IssueKind.STATUS_DRIFT].pk).status == "resolved"
        issue_act(issue=issues[IssueKind.UNKNOWN_TO_CHANNEL], action="resolve", note="test order, ignore")

    # A second run: what was fixed stays fixed; the rest is found again, not duplicated.
    with shop_context(shop_a), django_capture_on_commit_callbacks(execute=False):
        second = reconciliation_start(account=account)
        second = reconciliation_run(run=ReconciliationRun.objects.select_related("account", "job").get(pk=second.pk))
        assert IssueKind.STATUS_DRIFT not in second.counts and IssueKind.MISSING_ORDER not in second.counts
        assert IssueKind.UNKNOWN_TO_CHANNEL not in second.counts  # resolved with a note: it stays resolved
        assert second.counts[IssueKind.AMOUNT_MISMATCH] == 1
        assert ReconciliationIssue.objects.filter(kind=IssueKind.AMOUNT_MISMATCH, status="open").count() == 1
        assert Order.objects.get(external_id=mismatched).total == Decimal("99.80")
