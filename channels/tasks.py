"""Celery entry points of the channels app: ids in, a service call, nothing else."""

from channels.models import WebhookEvent
from shopadmin.tasks import tenant_task


@tenant_task(name="channels.webhook_event_process")
def webhook_event_process_task(shop_id: int, event_id: int) -> None:
    from channels.services import webhook_event_process

    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is not None:
        webhook_event_process(event=event)
