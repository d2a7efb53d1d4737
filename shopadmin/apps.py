from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ShopadminConfig(AppConfig):
    name = "shopadmin"
    verbose_name = "Shops and platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from shopadmin import checks  # noqa: F401 — registers the project's system checks
        from shopadmin.api import fields
        from shopadmin.db.rls import on_post_migrate

        fields.install()
        from shopadmin import login_throttle

        login_throttle.connect_signals()

        # After all migrations ran (this app's post_migrate comes once per migrate run).
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="shopadmin.rls")
