from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders and reconciliation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels.health import on_account_reconnected
        from channels.webhooks import register_order_handler
        from orders.dashboard_views import dashboard_section
        from orders.earnings_views import earnings_section
        from orders.sync import handle_order_event
        from shopadmin.home import register_home_section
        from shopadmin.signals import shop_updated

        register_order_handler(handle_order_event)
        on_account_reconnected(_resume_pushes)
        register_home_section(dashboard_section)  # the dashboard on the shop home
        register_home_section(earnings_section)  # what each channel earns, under it
        shop_updated.connect(_rebuild_rollup_on_time_zone_change, dispatch_uid="orders.rollup_time_zone")


def _rebuild_rollup_on_time_zone_change(sender, shop, changes, **kwargs):
    # Daily sales are bucketed by the shop's local day; a new time zone moves the buckets.
    if "timezone" in changes:
        from orders.tasks import sales_rollup_rebuild_task

        sales_rollup_rebuild_task.delay(shop.pk)


def _resume_pushes(account):
    from orders.services.pushes import pushes_resume

    pushes_resume(account)
