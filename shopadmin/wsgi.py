import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.settings")
application = get_wsgi_application()

from shopadmin.checks import refuse_to_start_on_errors  # noqa: E402

# A web process with unusable settings (no encryption keys) refuses to start.
refuse_to_start_on_errors()
