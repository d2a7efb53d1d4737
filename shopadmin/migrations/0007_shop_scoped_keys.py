"""Unique (shop_id, id) on the app's shop tables and composite (shop_id, fk) foreign keys between
shop tables (shopadmin.db.shop_keys); nothing on SQLite.
"""

from django.db import migrations

from shopadmin.db.shop_keys import ShopScopedKeys


class Migration(migrations.Migration):
    dependencies = [
        ("shopadmin", "0006_texts_as_words"),
    ]

    operations = [ShopScopedKeys()]
