from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "localization"
    verbose_name = "Markets, prices, tax and duties"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from localization import receivers
        from shopadmin.signals import demo_seed, shop_created

        shop_created.connect(receivers.create_home_market, dispatch_uid="localization.home_market")
        demo_seed.connect(receivers.seed_demo_markets, dispatch_uid="localization.demo_markets")
        receivers.connect_catalog()
