"""The attention list: everything in the shop that needs a person, each item with a link to
where it is fixed. It is what the home page's badge counts and the attention page lists; the
links make it the presentation of those pages, which is why it lives apart from the dashboard's
reads (orders.dashboard), which know no URLs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from channels.health import account_usable
from channels.models import INTERNAL_CHANNELS, ChannelAccount, ChannelListing, ListingStatus, PublishBatch, PublishPlan
from channels.selectors import account_health
from channels.wording import plain
from orders.models import (
    Cancellation,
    Fulfillment,
    IssueKind,
    OrderSyncCursor,
    PushState,
    ReconciliationIssue,
)
from shopadmin.models import Job, Shop


@dataclass
class AttentionItem:
    kind: str
    title: str
    count: int
    detail: str
    url: str
    action: str
    severity: str = "warn"  # "bad" needs action now; "warn" soon


def attention_items(*, shop: Shop) -> list[AttentionItem]:
    """Everything that needs a person, each with a link to where it is fixed."""
    slug = shop.slug
    items: list[AttentionItem] = []
    all_accounts = {
        a.pk: a for a in ChannelAccount.objects.filter(is_active=True).exclude(channel__in=INTERNAL_CHANNELS)
    }
    # An account that needs reconnecting is said once, first; its other channel failures
    # (order sync, publishing, pushes) all follow from it and are left out.
    stopped = {pk: a for pk, a in all_accounts.items() if not account_usable(a)}
    for account in sorted(stopped.values(), key=lambda a: (a.name, a.pk)):
        items.append(
            AttentionItem(
                "needs_reconnect",
                _("%(account)s needs reconnecting") % {"account": account.name},
                1,
                plain(account.connection_message)
                or _("The channel no longer accepts this account's authorisation: publishing and orders stop."),
                reverse("channels:account-detail", args=[slug, account.pk]),
                _("Reconnect"),
                "bad",
            )
        )
    accounts = {pk: a for pk, a in all_accounts.items() if pk not in stopped}
    # A token that will expire and cannot be renewed without the merchant (Meta user tokens):
    # said while there is time to reconnect.
    for account in sorted(accounts.values(), key=lambda a: (a.name, a.pk)):
        health = account_health(account)
        if health["state"] in ("expiring", "expired"):
            items.append(
                AttentionItem(
                    "token_expiring",
                    (
                        _("%(account)s: its access token has expired")
                        if health["state"] == "expired"
                        else _("%(account)s: its access token expires in %(days)s days")
                    )
                    % {"account": account.name, "days": health["expires_in_days"]},
                    1,
                    _(
                        "The channel gives no way to renew it without you: reconnect before then, "
                        "or publishing and orders stop."
                    ),
                    reverse("channels:account-detail", args=[slug, account.pk]),
                    _("Reconnect"),
                    "bad" if health["state"] == "expired" else "warn",
                )
            )

    def listing_url(account_id, query):
        return reverse("channels:listing-list", args=[slug, account_id]) + query

    # Rejected listings and items that fail the channel's rules before sending (feed problems).
    rows = (
        ChannelListing.objects.filter(status__in=[ListingStatus.REJECTED, ListingStatus.ERROR])
        .values("account_id", "status")
        .annotate(n=Count("id"))
        .order_by("account_id", "status")
    )
    for r in rows:
        account = all_accounts.get(r["account_id"])
        if account is None or (r["status"] == ListingStatus.REJECTED and account.pk in stopped):
            continue
        if r["status"] == ListingStatus.REJECTED:
            items.append(
                AttentionItem(
                    "rejected_listings",
                    _("Listings rejected by %(account)s") % {"account": account.name},
                    r["n"],
                    _("The channel refused these items; its reasons are on each listing."),
                    listing_url(account.pk, "?status=rejected"),
                    _("Fix the listings"),
                    "bad",
                )
            )
        else:
            items.append(
                AttentionItem(
                    "feed_problems",
                    _("Items failing %(account)s's rules") % {"account": account.name},
                    r["n"],
                    _("Left out of feeds and publishing until fixed (a missing image, price or description)."),
                    listing_url(account.pk, "?check=1"),
                    _("See the problems"),
                    "bad",
                )
            )
    items += _rate_items(shop)
    items += _issue_items(slug, all_accounts, stopped)
    items += _push_items(slug, stopped)
    items += _publish_items(slug, accounts, stopped)
    for cursor in OrderSyncCursor.objects.exclude(last_error="").only("account_id", "last_error"):
        account = accounts.get(cursor.account_id)
        if account is not None:
            items.append(
                AttentionItem(
                    "order_sync",
                    _("Orders from %(account)s are not coming in") % {"account": account.name},
                    1,
                    plain(cursor.last_error),
                    reverse("channels:account-detail", args=[slug, account.pk]),
                    _("Check the account"),
                    "bad",
                )
            )
    return items


def _issue_items(slug: str, all_accounts: dict, stopped: dict) -> list[AttentionItem]:
    """Open reconciliation findings by kind and account, each problem said once: oversells on
    their own (they need stock or a cancellation); refused listings and unsent fulfilments and
    cancellations are left to their own items above and below (the same problems, told where they
    are fixed); listing quantities that differ are one problem per account (one publish fixes them)."""
    labels = dict(IssueKind.choices)
    recon_url = reverse("orders:reconciliation", args=[slug])
    told_elsewhere = (
        Q(kind=IssueKind.LISTING_DRIFT, key="listings:rejected")
        | Q(kind=IssueKind.LISTING_DRIFT, key__startswith="listing:")
        | Q(kind=IssueKind.PUSH_FAILED, key__startswith="fulfillment:")
        | Q(kind=IssueKind.PUSH_FAILED, key__startswith="cancellation:")
        # An account waiting to be reconnected: its pushes and listings wait with it.
        | Q(kind__in=[IssueKind.PUSH_FAILED, IssueKind.LISTING_DRIFT], account_id__in=list(stopped))
    )
    issue_rows = (
        ReconciliationIssue.objects.filter(status=ReconciliationIssue.Status.OPEN)
        .exclude(told_elsewhere)
        .values("kind", "account_id")
        .annotate(n=Count("id"))
        .order_by("kind", "account_id")
    )
    items = []
    for r in issue_rows:
        account = all_accounts.get(r["account_id"])
        name = account.name if account else "—"
        kind = r["kind"]
        if kind == IssueKind.OVERSELL:
            item_kind, title = "oversells", _("Oversold on %(account)s") % {"account": name}
            detail = _("Orders took more than the stock on hand: restock, or cancel the short lines.")
        elif kind == IssueKind.LISTING_DRIFT:
            item_kind, title = "listing_drift", _("Stock on %(account)s is out of date") % {"account": name}
            detail = _("The channel sells quantities you no longer have: publish again from the reconciliation page.")
        else:
            item_kind = "reconciliation"
            title = _("%(kind)s on %(account)s") % {"kind": labels.get(kind, kind), "account": name}
            detail = _("What the channel says differs from what Shopadmin holds; each issue says what to do.")
        items.append(
            AttentionItem(
                item_kind,
                title,
                1 if kind == IssueKind.LISTING_DRIFT else r["n"],
                detail,
                f"{recon_url}?kind={kind}",
                _("Review the issues"),
                "bad" if kind == IssueKind.OVERSELL else "warn",
            )
        )
    return items


def _rate_items(shop: Shop) -> list[AttentionItem]:
    """Markets priced from a stale exchange rate, or from none at all.

    One lookup per active market (markets are a handful of configuration rows, not data),
    through the same rate resolution pricing uses, so the list agrees with the prices.
    """
    from localization.models import Market
    from localization.rates import RateNotFound, rate_for

    url = reverse("localization:market-list", args=[shop.slug])
    stale, missing = [], []
    for market in Market.objects.filter(is_active=True).exclude(currency=shop.default_currency):
        mode = "manual" if market.rate_mode == "manual" else "automatic"
        try:
            used = rate_for(shop.default_currency, market.currency, shop_id=shop.pk, mode=mode)
        except RateNotFound:
            missing.append(market.name)
            continue
        if used.is_stale():
            stale.append(f"{market.name} ({used.pair}, {used.date})")
    items = []
    if stale:
        items.append(
            AttentionItem(
                "stale_rates",
                _("Stale exchange rates"),
                len(stale),
                _("Prices in %(markets)s come from an old rate.") % {"markets": ", ".join(stale)},
                url,
                _("Update the rates"),
            )
        )
    if missing:
        items.append(
            AttentionItem(
                "missing_rates",
                _("No exchange rate"),
                len(missing),
                _("%(markets)s cannot be priced until a rate exists.") % {"markets": ", ".join(missing)},
                url,
                _("Set a rate"),
                "bad",
            )
        )
    return items


def _push_items(slug: str, stopped: dict) -> list[AttentionItem]:
    """Fulfilments and cancellations the channel has not been told about (not those of an
    account that needs reconnecting: its own item says why)."""
    items = []
    for model, kind, title, detail in (
        (Fulfillment, "failed_pushes", _("Shipments not sent to the channel"), _("The buyer has no tracking yet.")),
        (
            Cancellation,
            "failed_pushes",
            _("Cancellations not sent to the channel"),
            _("The channel still expects these orders to ship."),
        ),
    ):
        qs = model.objects.filter(push_state=PushState.FAILED).exclude(order__account_id__in=list(stopped))
        rows = list(qs.values("order_id", "order__external_id").order_by("-created_at")[:5])
        if not rows:
            continue
        n = len(rows) if len(rows) < 5 else qs.count()
        first = rows[0]
        items.append(
            AttentionItem(
                kind,
                title,
                n,
                f"{detail} " + ", ".join(f"#{r['order__external_id']}" for r in rows),
                reverse("orders:order-detail", args=[slug, first["order_id"]]),
                _("Send again"),
                "bad",
            )
        )
    return items


def _publish_items(slug: str, accounts: dict, stopped: dict) -> list[AttentionItem]:
    """Per account, once: its latest publish failed outright, or it is still being retried (not
    an account that needs reconnecting: its own item says why). A failure that a later publish
    made good is no longer a problem."""
    with_job = PublishPlan.objects.filter(account=OuterRef("pk"), job__isnull=False).order_by("-created_at", "-id")
    latest = dict(
        ChannelAccount.objects.filter(pk__in=list(accounts))
        .annotate(plan_id=Subquery(with_job.values("id")[:1]))
        .exclude(plan_id=None)
        .values_list("pk", "plan_id")
    )
    failed = dict(
        PublishPlan.objects.filter(pk__in=list(latest.values()), job__status=Job.Status.FAILED).values_list(
            "account_id", "id"
        )
    )
    items = []
    for account_id, plan_id in sorted(failed.items()):
        items.append(
            AttentionItem(
                "failed_publishes",
                _("Publishing to %(account)s failed") % {"account": accounts[account_id].name},
                1,
                _("Review the changes again and apply them."),
                reverse("channels:plan-detail", args=[slug, plan_id]),
                _("Open the plan"),
                "bad",
            )
        )
    retrying = (
        PublishBatch.objects.filter(plan_id__in=list(latest.values()))
        .exclude(status=PublishBatch.Status.DONE)
        .exclude(error="")
        .exclude(plan__account_id__in=list(failed))
        .values("plan_id", "plan__account_id")
        .annotate(n=Count("id"), error=Max("error"))
        .order_by("plan_id")
    )
    for r in retrying:
        account = accounts.get(r["plan__account_id"])
        items.append(
            AttentionItem(
                "failed_publishes",
                _("Publishing to %(account)s is being retried") % {"account": account.name if account else "—"},
                1,
                plain(r["error"])[:300],
                reverse("channels:plan-detail", args=[slug, r["plan_id"]]),
                _("Watch the plan"),
            )
        )
    return items


def attention_count(items: list[AttentionItem]) -> int:
    """The badge: the sum of what the attention page lists, row by row."""
    return sum(item.count for item in items)
