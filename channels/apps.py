from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = "Sales channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels import receivers

        receivers.connect()
