"""Shop-scoped keys: a row can only point at a row of its own shop, enforced by PostgreSQL.

Every table with a ``shop`` foreign key (the tenant models and memberships) gets a unique
``(shop_id, id)``, and every foreign key between two such tables is backed by a composite
``(shop_id, <fk>_id)`` key to it. Row-level security keeps a session to one shop; these keys
keep the data itself consistent whatever the session (the owner role, the all-shops path, a
hand-written statement). They are also the keys a PostgreSQL sharded by ``shop_id`` (Citus)
accepts: there every unique constraint and every foreign key between distributed tables must
include the distribution column (docs/scaling.md).

Django's own single-column foreign key stays, and Django keeps deciding what a delete does
(it runs CASCADE and SET_NULL itself; its constraint is NO ACTION, deferred). The composite
key is the same, NO ACTION and DEFERRABLE INITIALLY DEFERRED, so Django's delete order is
never at odds with it. With MATCH SIMPLE it holds while ``<fk>_id`` is null, so SET_NULL
works; a database-side ``ON DELETE SET NULL`` would null ``shop_id`` too, and the column-list
form ``SET NULL (<fk>_id)`` is refused by Citus when the key includes the distribution column.

A table written a million rows at a time (market prices) can leave Django's key out and keep
the composite one alone: ``ShopForeignKey`` is a foreign key without Django's constraint whose
composite key is still wanted. The composite key implies the single-column one (``<fk>_id`` is
then an ``id`` of the target), and each key is one more check per inserted row.

``ShopScopedKeys()`` in an app's migration brings the app's tables to what its models declare
at that point of the history: it adds the keys that are missing and drops the ones that no
longer match (a foreign key removed or pointed elsewhere). A new tenant model or foreign key
therefore needs one more migration with ``ShopScopedKeys()``; the test suite names the ones
missing. Nothing happens on other databases (SQLite for ``make run``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from operator import attrgetter

from django.core.exceptions import FieldDoesNotExist
from django.db import models, router
from django.db.migrations.operations.base import Operation

SHOP_COLUMN = "shop_id"
UNIQUE_SUFFIX = "shop_key"
FOREIGN_KEY_SUFFIX = "shop_fk"
_MAX_NAME = 63  # PostgreSQL's identifier length


def constraint_name(table: str, column: str, suffix: str) -> str:
    """``<table>_<column>_<suffix>``, shortened with a digest when PostgreSQL would truncate it."""
    name = f"{table}_{column}_{suffix}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.md5(f"{table}.{column}".encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[: _MAX_NAME - len(suffix) - 10]}_{digest}_{suffix}"


@dataclass(frozen=True)
class ShopKey:
    """A unique ``(shop_id, column)`` (no target) or a composite foreign key to one."""

    table: str
    column: str
    target_table: str | None = None
    target_column: str | None = None

    @property
    def is_foreign_key(self) -> bool:
        return self.target_table is not None

    @property
    def name(self) -> str:
        return constraint_name(self.table, self.column, FOREIGN_KEY_SUFFIX if self.is_foreign_key else UNIQUE_SUFFIX)

    def create_sql(self, quote, *, prebuilt_index: bool = False) -> str:
        table, name = quote(self.table), quote(self.name)
        if not self.is_foreign_key:
            if prebuilt_index:
                return f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
            return f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({SHOP_COLUMN}, {quote(self.column)})"
        return (
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({SHOP_COLUMN}, {quote(self.column)}) "
            f"REFERENCES {quote(self.target_table)} ({SHOP_COLUMN}, {quote(self.target_column)}) "
            "ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED"
        )

    def drop_sql(self, quote) -> str:
        return f"ALTER TABLE {quote(self.table)} DROP CONSTRAINT {quote(self.name)}"


class ShopForeignKey(models.ForeignKey):
    """A foreign key between two shop tables kept by its composite ``(shop_id, <fk>_id)`` key only
    (no single-column constraint of Django's): the same rows are refused, with one check less
    per inserted row."""

    def __init__(self, *args, **kwargs):
        kwargs["db_constraint"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_constraint", None)
        return name, path, args, kwargs


def has_shop_key(field) -> bool:
    """A foreign key that the database keeps: Django's constraint, or the composite key alone."""
    return field.db_constraint or isinstance(field, ShopForeignKey)


def is_shop_scoped(model) -> bool:
    """A model whose rows belong to one shop: it has a ``shop`` foreign key to shopadmin.Shop."""
    try:
        field = model._meta.get_field("shop")
    except FieldDoesNotExist:
        return False
    return field.many_to_one and field.related_model._meta.label_lower == "shopadmin.shop"


def wanted_keys(apps, app_label: str, using: str) -> set[ShopKey]:
    """The keys the app's shop-scoped tables should have, read from the (historical) models."""
    keys = set()
    for model in apps.get_app_config(app_label).get_models():
        opts = model._meta
        if not opts.managed or opts.proxy or not is_shop_scoped(model):
            continue
        if not router.allow_migrate_model(using, model):
            continue
        keys.add(ShopKey(opts.db_table, opts.pk.column))
        for field in opts.local_concrete_fields:
            if not field.many_to_one and not field.one_to_one:
                continue
            if field.name == "shop" or not has_shop_key(field) or not is_shop_scoped(field.related_model):
                continue
            keys.add(
                ShopKey(opts.db_table, field.column, field.related_model._meta.db_table, field.target_field.column)
            )
    return keys


def existing_keys(cursor, tables: list[str]) -> set[ShopKey]:
    """The shop-scoped keys (recognised by their name) that the given tables have now."""
    cursor.execute(
        """
        SELECT rel.relname, c.contype, ref.relname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n),
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n),
               c.conname
        FROM pg_constraint c
        JOIN pg_class rel ON rel.oid = c.conrelid
        LEFT JOIN pg_class ref ON ref.oid = c.confrelid
        WHERE rel.oid = ANY(ARRAY(SELECT to_regclass(t) FROM unnest(%s::text[]) t))
          AND ((c.contype = 'u' AND c.conname LIKE %s) OR (c.contype = 'f' AND c.conname LIKE %s))
        """,
        [tables, f"%\\_{UNIQUE_SUFFIX}", f"%\\_{FOREIGN_KEY_SUFFIX}"],
    )
    keys = set()
    for table, kind, target, columns, target_columns, name in cursor.fetchall():
        if kind == "u" and len(columns) == 2 and columns[0] == SHOP_COLUMN:
            key = ShopKey(table, columns[1])
        elif kind == "f" and len(columns) == 2 and columns[0] == SHOP_COLUMN and target_columns[0] == SHOP_COLUMN:
            key = ShopKey(table, columns[1], target, target_columns[1])
        else:
            key = None
        if key is None or key.name != name:
            # Not one of ours (its name and its columns disagree): left alone.
            continue
        keys.add(key)
    return keys


def prebuilt_indexes(cursor, keys: set[ShopKey]) -> set[ShopKey]:
    """The unique keys whose index was built beforehand, under the key's name and on its columns.

    On a large table, ``CREATE UNIQUE INDEX CONCURRENTLY <name> ON <table> (shop_id, id)`` run
    before migrating leaves the migration only a short lock to turn that index into the key.
    """
    if not keys:
        return set()
    cursor.execute(
        """
        SELECT t.relname, i.relname,
               ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE i.relname = ANY(%s) AND x.indisunique AND x.indisvalid AND x.indpred IS NULL
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [[key.name for key in keys]],
    )
    found = {(table, name, tuple(columns)) for table, name, columns in cursor.fetchall()}
    return {key for key in keys if (key.table, key.name, (SHOP_COLUMN, key.column)) in found}


class ShopScopedKeys(Operation):
    """Bring the app's tables to their shop-scoped keys; PostgreSQL only (see the module)."""

    reversible = True
    reduces_to_sql = False  # reads the catalog to know what to add or drop
    atomic = True

    def state_forwards(self, app_label, state):
        pass  # the keys live in the database only; models are unchanged

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        wanted = wanted_keys(to_state.apps, app_label, connection.alias)
        tables = sorted({key.table for key in wanted} | self._app_tables(from_state.apps, app_label))
        with connection.cursor() as cursor:
            existing = existing_keys(cursor, tables)
            prebuilt = prebuilt_indexes(cursor, {key for key in wanted - existing if not key.is_foreign_key})
        self._apply(schema_editor, drop=existing - wanted, add=wanted - existing, prebuilt=prebuilt)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        tables = sorted(self._app_tables(from_state.apps, app_label) | self._app_tables(to_state.apps, app_label))
        with connection.cursor() as cursor:
            existing = existing_keys(cursor, tables)
        self._apply(schema_editor, drop=existing, add=set(), prebuilt=set())

    @staticmethod
    def _app_tables(apps, app_label) -> set[str]:
        return {model._meta.db_table for model in apps.get_app_config(app_label).get_models()}

    @staticmethod
    def _apply(schema_editor, *, drop: set[ShopKey], add: set[ShopKey], prebuilt: set[ShopKey]) -> None:
        quote = schema_editor.quote_name
        order = attrgetter("table", "column")
        # Foreign keys are dropped before, and added after, the unique constraints they reference.
        for key in sorted((k for k in drop if k.is_foreign_key), key=order):
            schema_editor.execute(key.drop_sql(quote))
        for key in sorted((k for k in drop if not k.is_foreign_key), key=order):
            schema_editor.execute(key.drop_sql(quote))
        for key in sorted((k for k in add if not k.is_foreign_key), key=order):
            schema_editor.execute(key.create_sql(quote, prebuilt_index=key in prebuilt))
        for key in sorted((k for k in add if k.is_foreign_key), key=order):
            schema_editor.execute(key.create_sql(quote))

    def describe(self):
        return "Unique (shop_id, id) on shop tables and composite (shop_id, fk) foreign keys between them"

    @property
    def migration_name_fragment(self):
        return "shop_scoped_keys"
