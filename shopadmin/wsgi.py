import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.settings")
django_application = get_wsgi_application()

from shopadmin.checks import refuse_to_start_on_errors  # noqa: E402
from shopadmin.webhook_handler import Application  # noqa: E402

# Inbound webhooks skip the middleware only browsers need (shopadmin/webhook_handler.py).
application = Application(django_application)

# A web process with unusable settings (no encryption keys) refuses to start.
refuse_to_start_on_errors()
