"""The Celery app. Broker from CELERY_BROKER_URL (Redis in production, files for `make run`)."""

import os

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.settings")

app = Celery("shopadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def carry_language(headers=None, **_kwargs):
    """A task speaks the language of whoever asked for it: what it writes for that person to
    read (a failed import's reasons, a job's error) comes out in their language. The worker
    reads the header back as `task.request.language` (shopadmin.tasks.TenantTask)."""
    from django.utils import translation

    if headers is not None and "language" not in headers:
        headers["language"] = translation.get_language()
