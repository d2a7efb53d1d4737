"""Celery entry points of the channels app: ids in, a service call, nothing else."""

from celery import shared_task

from channels.models import WebhookEvent
from shopadmin.tasks import PlatformTask, tenant_task


# Not atomic: the handler may call the channel, and no transaction is held across that.
@tenant_task(name="channels.webhook_event_process", atomic=False)
def webhook_event_process_task(shop_id: int, event_id: int, ask_for_help: bool = True) -> int:
    """Process the event's account's waiting events, this one among them, in batches (a drain
    asked for by a receiver may ask for one more during a burst; the one asked for may not)."""
    from channels.services import webhook_events_drain

    event = WebhookEvent.objects.select_related("account").filter(pk=event_id).first()
    if event is None:
        return 0
    return webhook_events_drain(account=event.account, ask_for_help=ask_for_help)


@tenant_task(name="channels.publish_batch", atomic=False, bind=True, max_retries=50)
def publish_batch_task(self, shop_id: int, batch_id: int) -> str:
    """Send one publish batch; idempotent (the batch row says how far it got), acked late."""
    from channels.publishing import Retry, publish_batch_run

    try:
        return publish_batch_run(batch_id=batch_id)
    except Retry as retry:
        raise self.retry(countdown=retry.countdown) from None


@tenant_task(name="channels.replan", atomic=False)
def replan_task(shop_id: int, account_id: int, token: str) -> None:
    from channels.publishing import replan_run

    replan_run(account_id=account_id, token=token)


@shared_task(name="channels.publish_resume_stale", base=PlatformTask)
def publish_resume_stale_task() -> int:
    from channels.publishing import publish_resume_stale

    return publish_resume_stale()


@tenant_task(name="channels.references_refresh", atomic=False)
def references_refresh_task(shop_id: int, account_id: int) -> dict:
    """Read an account's reference data (TikTok Shop warehouses, categories, …) again."""
    from channels.models import ChannelAccount
    from channels.references import refresh

    account = ChannelAccount.objects.filter(pk=account_id).first()
    return refresh(account) if account is not None else {}


# --- Connecting and tokens ---------------------------------------------------------------------------


# Not atomic: the exchange and the reads call the channel; the writes are their own transaction.
@tenant_task(name="channels.connection_complete", atomic=False)
def connection_complete_task(shop_id: int, connection_id: int) -> str:
    """Exchange an authorisation code, or check pasted credentials, and connect the account."""
    from channels.connections import connection_complete
    from channels.models import ChannelConnection

    connection = ChannelConnection.objects.filter(pk=connection_id).first()
    return connection_complete(connection=connection).status if connection is not None else "gone"


@tenant_task(name="channels.token_refresh", atomic=False)
def token_refresh_task(shop_id: int, account_id: int) -> str:
    from channels.connections import token_refresh
    from channels.models import ChannelAccount

    account = ChannelAccount.objects.filter(pk=account_id).first()
    return token_refresh(account=account) if account is not None else "gone"


@shared_task(name="channels.tokens_refresh_due", base=PlatformTask)
def tokens_refresh_due_task() -> int:
    """Every 15 minutes: a refresh task for each account whose access token expires soon."""
    from channels.connections import accounts_due_for_refresh

    due = list(accounts_due_for_refresh())
    for shop_id, account_id in due:
        token_refresh_task.delay(shop_id, account_id)
    return len(due)
