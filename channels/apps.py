from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = "Sales channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from catalog.signals import catalog_changed
        from channels import receivers
        from channels.adapters import net
        from localization.signals import market_prices_stored, market_saved

        # Every reaction of channels to the apps below it (shopadmin/tests/test_app_reactions.py lists them all).
        catalog_changed.connect(receivers.on_catalog_changed, dispatch_uid="channels.catalog_changed")
        market_saved.connect(receivers.on_market_saved, dispatch_uid="channels.market_saved")
        market_prices_stored.connect(receivers.on_market_prices_stored, dispatch_uid="channels.market_prices_stored")
        # Loopback is where the sandbox answers; nowhere else do channel calls go inward.
        net.allow_loopback(getattr(settings, "SANDBOX_ENABLED", False))
