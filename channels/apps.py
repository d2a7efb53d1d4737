from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = "Sales channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from channels import receivers
        from channels.adapters import net

        receivers.connect()
        # Loopback is where the sandbox answers; nowhere else do channel calls go inward.
        net.allow_loopback(getattr(settings, "SANDBOX_ENABLED", False))
