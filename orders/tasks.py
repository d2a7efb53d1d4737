"""Celery entry points of the orders app: ids in (the shop id first), a service call, nothing else.

Tenant tasks are acknowledged late (TenantTask): a worker killed mid-import leaves the
message on the broker and another worker runs it again, which the upsert makes harmless.
"""

from __future__ import annotations

from celery import shared_task

from channels.adapters.base import RateLimited, TransientError
from shopadmin.tasks import PlatformTask, TenantTask, tenant_task

POLL_ALL_TASK = "orders.poll_all"
RECONCILE_ALL_TASK = "orders.reconcile_all"
RETENTION_ALL_TASK = "orders.retention_all"
PUSH_RETRIES = 8
PUSH_BACKOFF = 30  # seconds before the first retry, doubled on each one
PUSH_BACKOFF_MAX = 1800


class PushTask(TenantTask):
    """A write back to the channel (acknowledgement, fulfilment, cancellation): all retried alike.

    A transient error or rate limit retries the task after the channel's own wait or a doubling
    backoff; the last retry tells the service it is the final attempt, so the service records
    the failure with a re-push issue instead of raising (see orders.services.pushes._push_send).
    """

    abstract = True
    max_retries = PUSH_RETRIES
    # The service writes the attempt count before calling the channel: it must stay when the call fails.
    atomic = False

    def push(self, service, **kwargs):
        final = self.request.retries >= self.max_retries
        try:
            return service(final_attempt=final, **kwargs)
        except (TransientError, RateLimited) as exc:
            wait = getattr(exc, "wait", None) or min(PUSH_BACKOFF_MAX, PUSH_BACKOFF * 2**self.request.retries)
            raise self.retry(exc=exc, countdown=wait) from exc


@tenant_task(name="orders.acknowledge", base=PushTask, bind=True)
def order_acknowledge_task(self, shop_id: int, order_id: int) -> bool:
    from orders.models import Order
    from orders.services.pushes import order_acknowledge

    order = Order.objects.filter(pk=order_id).first()
    return self.push(order_acknowledge, order=order) if order is not None else False


@tenant_task(name="orders.fulfillment_push", base=PushTask, bind=True)
def fulfillment_push_task(self, shop_id: int, fulfillment_id: int) -> str:
    from orders.models import Fulfillment
    from orders.services.pushes import fulfillment_push

    fulfillment = Fulfillment.objects.filter(pk=fulfillment_id).first()
    return self.push(fulfillment_push, fulfillment=fulfillment) if fulfillment is not None else "gone"


@tenant_task(name="orders.cancellation_push", base=PushTask, bind=True)
def cancellation_push_task(self, shop_id: int, cancellation_id: int) -> str:
    from orders.models import Cancellation
    from orders.services.pushes import cancellation_push

    cancellation = Cancellation.objects.filter(pk=cancellation_id).first()
    return self.push(cancellation_push, cancellation=cancellation) if cancellation is not None else "gone"


@tenant_task(name="orders.poll", atomic=False, autoretry_for=(TransientError,), retry_backoff=60, max_retries=3)
def order_poll_task(shop_id: int, account_id: int) -> dict:
    from channels.models import ChannelAccount
    from orders.sync import orders_poll

    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).first()
    return orders_poll(account=account) if account is not None else {}


@tenant_task(name="orders.reconciliation_run", atomic=False)
def reconciliation_run_task(shop_id: int, run_id: int) -> dict:
    from orders.models import ReconciliationRun
    from orders.reconciliation import reconciliation_run

    run = ReconciliationRun.objects.select_related("account", "job").filter(pk=run_id).first()
    if run is None or run.status != ReconciliationRun.Status.RUNNING:
        return {}
    return reconciliation_run(run=run).counts


@tenant_task(name="orders.issue_act", atomic=False)
def issue_act_task(shop_id: int, issue_id: int, action: str, note: str = "") -> str:
    """A one-click action asked for from the UI or the API (it talks to the channel)."""
    from orders.models import ReconciliationIssue
    from orders.reconciliation import issue_act_background

    issue = ReconciliationIssue.objects.select_related("account", "order").filter(pk=issue_id).first()
    if issue is None or issue.pending_action != action:
        return "gone"  # resolved meanwhile, or asked for again with another action
    return issue_act_background(issue=issue, action=action, note=note).status


@tenant_task(name="orders.reconcile_account", atomic=False)
def reconcile_account_task(shop_id: int, account_id: int) -> None:
    from channels.health import account_usable
    from channels.models import ChannelAccount
    from orders.reconciliation import reconciliation_start

    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is not None and account_usable(account):
        reconciliation_start(account=account, trigger="schedule")


@tenant_task(name="orders.sales_rollup_rebuild")
def sales_rollup_rebuild_task(shop_id: int) -> int:
    """Re-bucket daily sales by the shop's (new) local day."""
    from orders.rollup import sales_rollup_rebuild
    from shopadmin.models import Shop

    return sales_rollup_rebuild(tz_name=Shop.objects.get(pk=shop_id).timezone)


@tenant_task(name="orders.retention", atomic=False)
def retention_task(shop_id: int) -> int:
    from orders.services.customers import retention_sweep

    return retention_sweep()


def _order_accounts():
    from channels.models import ChannelAccount
    from orders.sync import ORDER_CHANNELS

    # Accounts whose buyers check out on the shop's checkout URL have no channel orders to poll.
    return (
        ChannelAccount.all_shops.filter(is_active=True, shop__is_active=True, channel__in=ORDER_CHANNELS)
        .exclude(checkout_method=ChannelAccount.CheckoutMethod.CHECKOUT_URL)
        # Waiting to be reconnected: its work stops until then (the attention list says so).
        .exclude(connection_status=ChannelAccount.ConnectionStatus.NEEDS_RECONNECT)
        .order_by("shop_id", "pk")
        .values_list("shop_id", "pk")
    )


@shared_task(name=POLL_ALL_TASK, base=PlatformTask)
def poll_all_task() -> int:
    """Beat: fan out one poll per account that sells through an order API."""
    accounts = list(_order_accounts())
    for shop_id, account_id in accounts:
        order_poll_task.delay(shop_id, account_id)
    return len(accounts)


@shared_task(name=RECONCILE_ALL_TASK, base=PlatformTask)
def reconcile_all_task() -> int:
    accounts = list(_order_accounts())
    for shop_id, account_id in accounts:
        reconcile_account_task.delay(shop_id, account_id)
    return len(accounts)


@shared_task(name=RETENTION_ALL_TASK, base=PlatformTask)
def retention_all_task() -> int:
    from orders.models import OrderSettings

    shop_ids = sorted(
        set(OrderSettings.all_shops.filter(retention_days__isnull=False).values_list("shop_id", flat=True))
    )
    for shop_id in shop_ids:
        retention_task.delay(shop_id)
    return len(shop_ids)
