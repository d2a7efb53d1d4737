from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "localization"
    verbose_name = "Markets, prices, tax and duties"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from catalog.signals import catalog_changed
        from localization import receivers
        from shopadmin.signals import shop_created

        # Every reaction of localization to the apps below it (shopadmin/tests/test_app_reactions.py lists them all).
        shop_created.connect(receivers.create_home_market, dispatch_uid="localization.home_market")
        catalog_changed.connect(receivers.on_catalog_changed, dispatch_uid="localization.catalog_changed")
