"""The project's PostgreSQL backend for the test suite: empties only the tables a test filled.

A transactional test (live server, real worker) ends with Django's flush, one TRUNCATE of
every table. TRUNCATE gives each table and index new files, so emptying ~100 mostly empty
tables took about a second per test. Here the flush first asks which tables hold rows and
deletes from those only, in one transaction: the foreign keys Django creates are deferred,
so the order does not matter, and the all-shops path lets the DELETEs see every shop's rows
through row-level security. What remains afterwards is the same: nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.postgresql import operations

from shopadmin.context import all_shops_access
from shopadmin.db.postgresql import base


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade:
            return super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        filled = self._tables_with_rows(tables)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in filled]

    def execute_sql_flush(self, sql_list):
        with all_shops_access():
            super().execute_sql_flush(sql_list)

    def _tables_with_rows(self, tables) -> list[str]:
        probes = " UNION ALL ".join(
            f"SELECT %s WHERE EXISTS (SELECT 1 FROM {self.quote_name(table)})"  # noqa: S608 — quoted table names
            for table in tables
        )
        with all_shops_access(), transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute(probes, list(tables))
            return [row[0] for row in cursor.fetchall()]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
