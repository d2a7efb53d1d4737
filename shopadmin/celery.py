"""The Celery app. Broker from CELERY_BROKER_URL (Redis in production, files for `make run`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.settings")

app = Celery("shopadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
