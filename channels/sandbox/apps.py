from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The channel simulators. Their state is not tenant data: it stands in for the channels' servers."""

    name = "channels.sandbox"
    label = "channels_sandbox"
    verbose_name = "Channel sandbox"
    default_auto_field = "django.db.models.BigAutoField"
