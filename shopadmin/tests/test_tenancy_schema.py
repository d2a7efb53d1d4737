"""The schema itself keeps shops apart: scanned from PostgreSQL's catalog, not from the models.

Every table with a shop_id column has forced row-level security and a policy, and every
unique constraint or unique index on such a table includes shop_id (a uniqueness across
shops would tell one shop that another has a value, and block it from using it).
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Tables with shop_id that are deliberately not tenant-scoped, with the reason.
NOT_ROW_SECURED: dict[str, str] = {}


def shop_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = 'public' AND c.column_name = 'shop_id' AND t.table_type = 'BASE TABLE'
            ORDER BY 1
            """
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_scan_finds_the_tenant_tables():
    tables = shop_tables()
    assert {"shopadmin_auditlogentry", "catalog_product", "shopadmin_membership", "channels_listingsettings"} <= set(
        tables
    )


def test_every_table_with_shop_id_has_forced_rls_and_a_policy():
    missing = []
    with connection.cursor() as cursor:
        for table in shop_tables():
            cursor.execute(
                """
                SELECT c.relrowsecurity, c.relforcerowsecurity,
                       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
                FROM pg_class c WHERE c.oid = to_regclass(%s)
                """,
                [table],
            )
            enabled, forced, policies = cursor.fetchone()
            if not (enabled and forced and policies) and table not in NOT_ROW_SECURED:
                missing.append(f"{table}: enabled={enabled} forced={forced} policies={policies}")
    assert not missing, "tables with shop_id but without forced row-level security:\n" + "\n".join(missing)


def test_every_unique_constraint_on_a_table_with_shop_id_includes_shop_id():
    offending = []
    with connection.cursor() as cursor:
        for table in shop_tables():
            cursor.execute(
                """
                SELECT i.relname,
                       ARRAY(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a
                             ON a.attrelid = x.indrelid AND a.attnum = k)
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = to_regclass(%s) AND x.indisunique AND NOT x.indisprimary
                """,
                [table],
            )
            for name, columns in cursor.fetchall():
                if "shop_id" not in columns:
                    offending.append(f"{table}.{name} ({', '.join(columns) or 'expression'})")
    assert not offending, "unique constraints without shop_id:\n" + "\n".join(offending)
