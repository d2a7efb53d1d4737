"""Market prices keep their market and variant by the composite (shop_id, id) keys alone, and the
shop through the market's: Django's three single-column keys go (each was one more check per
inserted price, a million per full recompute). ShopScopedKeys() keeps the composite keys.
"""

import django.db.models.deletion
from django.db import migrations, models

import shopadmin.db.shop_keys
from shopadmin.db.shop_keys import ShopScopedKeys


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_shop_scoped_keys"),
        ("localization", "0010_shipping_rates"),
        ("shopadmin", "0007_shop_scoped_keys"),
    ]

    operations = [
        migrations.AlterField(
            model_name="marketprice",
            name="market",
            field=shopadmin.db.shop_keys.ShopForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="prices",
                to="localization.market",
            ),
        ),
        migrations.AlterField(
            model_name="marketprice",
            name="shop",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="shopadmin.shop",
            ),
        ),
        migrations.AlterField(
            model_name="marketprice",
            name="variant",
            field=shopadmin.db.shop_keys.ShopForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="catalog.productvariant"
            ),
        ),
        ShopScopedKeys(),
    ]
