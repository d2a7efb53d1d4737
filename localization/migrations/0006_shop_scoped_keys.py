"""Unique (shop_id, id) on the app's shop tables and composite (shop_id, fk) foreign keys between
shop tables (shopadmin.db.shop_keys); nothing on SQLite.

After the same migration of the apps whose tables these keys point at.
"""

from django.db import migrations

from shopadmin.db.shop_keys import ShopScopedKeys


class Migration(migrations.Migration):
    dependencies = [
        ("localization", "0005_verbose_names"),
        ("catalog", "0006_shop_scoped_keys"),
    ]

    operations = [ShopScopedKeys()]
