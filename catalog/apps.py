from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog and inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from catalog.demo import seed_demo_catalog
        from shopadmin.signals import demo_seed

        demo_seed.connect(seed_demo_catalog, dispatch_uid="catalog.demo_seed")
