"""Row-level security on PostgreSQL: the policy, its installation, and the session variables.

Every tenant table gets ENABLE + FORCE ROW LEVEL SECURITY and the policy below. The
variables it reads are set with ``set_config(..., true)`` (transaction-local) before the
first query of each transaction, from the tenant context, so a pooled or persistent
connection never carries one shop into the next request.
"""

from __future__ import annotations

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connections

from shopadmin.context import current_context, current_user_id

POLICY_NAME = "tenant_isolation"
# NULLIF: once set in a session, a custom setting reads '' (not NULL) after the transaction.
POLICY_EXPRESSION = (
    "shop_id = NULLIF(current_setting('app.shop_id', true), '')::bigint "
    "OR current_setting('app.all_shops', true) = 'on'"
)
_SET_SQL = (
    "SELECT set_config('app.shop_id', %s, true), set_config('app.all_shops', %s, true), "
    "set_config('app.user_id', %s, true)"
)
_NO_TENANT = ("", "off", "")
_APPLIED = "_shopadmin_rls_applied"

# shopadmin_membership decides which shops a person may enter, so it is read before any shop
# is selected: a session sees the current shop's memberships (or all, on the all-shops path)
# and the signed-in user's own; it writes only those of the current shop.
MEMBERSHIP_TABLE = "shopadmin_membership"
MEMBERSHIP_POLICY_NAME = "membership_access"
MEMBERSHIP_USING = f"({POLICY_EXPRESSION}) OR user_id = NULLIF(current_setting('app.user_id', true), '')::bigint"


def _wanted_settings() -> tuple[str, str, str]:
    ctx = current_context()
    user_id = current_user_id()
    user = "" if user_id is None else str(user_id)
    if ctx is None:
        return ("", "off", user)
    return ("" if ctx.shop_id is None else str(ctx.shop_id), "on" if ctx.all_shops else "off", user)


def apply_tenant_settings(execute, sql, params, many, context):
    """Execute wrapper: make the transaction's RLS variables match the tenant context."""
    connection = context["connection"]
    raw = connection.connection
    wanted = _wanted_settings()
    idle = raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    if idle and raw.autocommit:
        # Autocommit (no atomic block): each statement is its own transaction, so the
        # variables must be set in the same one.
        if wanted == _NO_TENANT:
            return execute(sql, params, many, context)
        with raw.transaction():
            raw.execute(_SET_SQL, wanted)
            return execute(sql, params, many, context)

    # Inside a transaction. The first statement of a new transaction finds the variables
    # unset; later ones only re-set them when the context changed.
    applied = _NO_TENANT if idle else getattr(raw, _APPLIED, _NO_TENANT)
    if applied != wanted:
        raw.execute(_SET_SQL, wanted)
        setattr(raw, _APPLIED, wanted)
    elif idle:
        setattr(raw, _APPLIED, _NO_TENANT)
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and sql.startswith("ROLLBACK TO SAVEPOINT"):
        # A rollback to a savepoint may undo a set_config made after the savepoint.
        setattr(raw, _APPLIED, None)
    return result


def tenant_tables() -> list[str]:
    from shopadmin.tenancy import TenantModel

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.managed and not model._meta.proxy
    )


def install_row_level_security(using: str) -> list[str]:
    """Enable, force and add the policy on every tenant table that lacks them (idempotent)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    changed = []
    with connection.cursor() as cursor:
        for table in tenant_tables():
            cursor.execute(
                """
                SELECT c.relrowsecurity, c.relforcerowsecurity,
                       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)
                FROM pg_class c WHERE c.oid = to_regclass(%s)
                """,
                [POLICY_NAME, table],
            )
            row = cursor.fetchone()
            if row is None:
                continue  # a model whose migration has not been written yet
            enabled, forced, has_policy = row
            quoted = connection.ops.quote_name(table)
            if not enabled:
                cursor.execute(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
            if not forced:
                cursor.execute(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
            if not has_policy:
                cursor.execute(
                    f"CREATE POLICY {POLICY_NAME} ON {quoted} "
                    f"USING ({POLICY_EXPRESSION}) WITH CHECK ({POLICY_EXPRESSION})"
                )
            if not (enabled and forced and has_policy):
                changed.append(table)
    return changed


def install_membership_security(schema_editor) -> None:
    """Forced row-level security on shopadmin_membership with its own policy (idempotent)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(MEMBERSHIP_TABLE)
    schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    schema_editor.execute(f"DROP POLICY IF EXISTS {MEMBERSHIP_POLICY_NAME} ON {table}")
    schema_editor.execute(
        f"CREATE POLICY {MEMBERSHIP_POLICY_NAME} ON {table} USING ({MEMBERSHIP_USING}) WITH CHECK ({POLICY_EXPRESSION})"
    )


def uninstall_membership_security(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(MEMBERSHIP_TABLE)
    schema_editor.execute(f"DROP POLICY IF EXISTS {MEMBERSHIP_POLICY_NAME} ON {table}")
    schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def grant_app_role(using: str) -> None:
    """Give the app role row privileges (never ownership) on everything migrations made."""
    role = settings.DATABASE_APP_ROLE
    connection = connections[using]
    if connection.vendor != "postgresql" or not role:
        return
    if connection.settings_dict.get("USER") == role:
        return
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")


def on_post_migrate(sender, using="default", plan=None, **kwargs):
    # flush (test teardown) also sends post_migrate, without a plan and as the app role.
    if plan is None:
        return
    install_row_level_security(using)
    grant_app_role(using)
