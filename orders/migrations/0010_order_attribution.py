"""Where orders came from (orders.attribution) and what each channel earns (orders.earnings).

Orders get `source`, `campaign` and `landing`; the orders held so far came from their
account's channel, which becomes their source (an order of our own checkout without landing
parameters is `direct`). The source is filled before its index is built, so the index is
written once. Row-level security is forced on the orders table, so on PostgreSQL the fill
runs with app.all_shops on. New tables: daily traffic per source and campaign, and the
merchant's ad spend per source and month.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from shopadmin.db.shop_keys import ShopScopedKeys

FILL = (
    "UPDATE orders_order SET source = CASE WHEN channel = 'checkout' THEN 'direct' ELSE channel END WHERE source = ''"
)


def fill_sources(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('app.all_shops', 'on', true)")
        cursor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0013_listing_inputs_hash"),
        ("localization", "0009_market_price_fewer_indexes"),
        ("orders", "0009_discount_codes"),
        ("shopadmin", "0007_shop_scoped_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="campaign",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="order",
            name="landing",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="order",
            name="source",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.RunPython(fill_sources, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["shop", "placed_at", "source"],
                include=("campaign", "status", "total_shop"),
                name="order_attribution",
            ),
        ),
        migrations.CreateModel(
            name="AdSpend",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=40, verbose_name="source")),
                ("month", models.DateField(help_text="The first day of the month.", verbose_name="month")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=3,
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="amount",
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "verbose_name": "ad spend",
                "verbose_name_plural": "ad spend",
                "ordering": ["-month", "source"],
            },
        ),
        migrations.CreateModel(
            name="TrafficDaily",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("source", models.CharField(max_length=40)),
                ("campaign", models.CharField(blank=True, default="", max_length=200)),
                ("page_views", models.PositiveIntegerField(default=0)),
                ("checkout_starts", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "daily traffic",
                "verbose_name_plural": "daily traffic",
                "ordering": ["-day", "source", "campaign"],
            },
        ),
        migrations.AddField(
            model_name="adspend",
            name="shop",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="shopadmin.shop"),
        ),
        migrations.AddField(
            model_name="trafficdaily",
            name="shop",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="shopadmin.shop"),
        ),
        migrations.AddConstraint(
            model_name="adspend",
            constraint=models.UniqueConstraint(fields=("shop", "source", "month"), name="adspend_unique_month"),
        ),
        migrations.AddConstraint(
            model_name="adspend",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="adspend_amount_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="trafficdaily",
            constraint=models.UniqueConstraint(
                fields=("shop", "day", "source", "campaign"), name="trafficdaily_unique_key"
            ),
        ),
        # The new tables get their (shop_id, id) keys like every shop table.
        ShopScopedKeys(),
    ]
