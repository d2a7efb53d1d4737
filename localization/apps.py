from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "localization"
    verbose_name = "Markets, prices, tax and duties"
    default_auto_field = "django.db.models.BigAutoField"
