"""Trigram search of product titles on PostgreSQL: the pg_trgm extension and a GIN index.

The index is on UPPER(title), the expression Django's icontains compares, so substring
search (ILIKE-style) and pg_trgm's word-similarity operator both use it. It is written in
SQL rather than as a model index: Django renders OpClass over an expression inside one pair
of parentheses too many, which PostgreSQL rejects. On SQLite nothing happens.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "product_title_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "catalog_product" USING gin ((UPPER("title")) gin_trgm_ops)'
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_ordering_and_indexes"),
    ]

    operations = [
        # pg_trgm is a trusted extension: the owner role that runs migrations may create it
        # without being a superuser. TrigramExtension does nothing on other databases.
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
