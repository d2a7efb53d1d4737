"""Row-level security, proven at the SQL level as the app role."""

import pytest
from django.db import connection, transaction

from shopadmin.db.rls import POLICY_NAME, tenant_tables
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import TenantContextError, all_shops_access, no_shop, shop_context

pytestmark = pytest.mark.django_db


def raw_shop_ids(table="shopadmin_auditlogentry"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT shop_id FROM {table}")
        return {row[0] for row in cursor.fetchall()}


def test_connected_as_an_ordinary_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        assert cursor.fetchone()[0] == 0, "the app role must own nothing"


def test_every_tenant_table_has_forced_rls_and_the_policy():
    tables = tenant_tables()
    assert "shopadmin_auditlogentry" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relname = ANY(%s) AND c.relrowsecurity AND c.relforcerowsecurity
              AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)
            """,
            [tables, POLICY_NAME],
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert protected == set(tables)


def test_raw_select_sees_only_the_current_shop(shop_a, shop_b):
    with shop_context(shop_a):
        assert raw_shop_ids() == {shop_a.pk}
    with shop_context(shop_b):
        assert raw_shop_ids() == {shop_b.pk}


def test_raw_select_with_no_shop_sees_nothing(shop_a, shop_b):
    with no_shop():
        assert raw_shop_ids() == set()


def test_staff_path_sees_all_shops(shop_a, shop_b):
    with all_shops_access():
        assert raw_shop_ids() == {shop_a.pk, shop_b.pk}
        assert AuditLogEntry.all_shops.values("shop").distinct().count() == 2


def test_insert_into_another_shop_is_refused(shop_a, shop_b):
    with shop_context(shop_a), pytest.raises(Exception, match="row-level security"), transaction.atomic():
        AuditLogEntry(shop_id=shop_b.pk, door="cli", action="x", model="x").save()


def test_default_manager_fails_closed_without_a_shop(shop_a):
    with no_shop(), pytest.raises(TenantContextError):
        list(AuditLogEntry.objects.all())


def test_all_shops_manager_refuses_outside_the_all_shops_path(shop_a):
    with shop_context(shop_a), pytest.raises(TenantContextError):
        list(AuditLogEntry.all_shops.all())


def test_a_savepoint_rollback_does_not_lose_the_shop(shop_a, shop_b):
    with shop_context(shop_a):
        assert raw_shop_ids() == {shop_a.pk}
        with shop_context(shop_b):
            try:
                with transaction.atomic():
                    assert raw_shop_ids() == {shop_b.pk}
                    raise RuntimeError("roll back to the savepoint")
            except RuntimeError:
                pass
            assert raw_shop_ids() == {shop_b.pk}
        assert raw_shop_ids() == {shop_a.pk}


@pytest.mark.django_db(transaction=True)
def test_autocommit_queries_are_scoped_too(shop_a, shop_b):
    assert connection.get_autocommit()
    with shop_context(shop_a):
        assert raw_shop_ids() == {shop_a.pk}
    with no_shop():
        assert raw_shop_ids() == set()


def test_a_queryset_built_without_a_shop_is_scoped_when_it_runs(shop_a, shop_b):
    # A view may declare `queryset = Model.objects.all()` at import time, before any shop.
    with no_shop():
        queryset = AuditLogEntry.objects.all()
    with shop_context(shop_a):
        assert {entry.shop_id for entry in queryset.all()} == {shop_a.pk}
    with shop_context(shop_b):
        assert {entry.shop_id for entry in queryset.all()} == {shop_b.pk}
    with no_shop(), pytest.raises(TenantContextError):
        list(queryset.all())


def test_a_tenant_queryset_used_as_a_subquery_stays_scoped(shop_a, shop_b):
    from shopadmin.models import Shop

    with shop_context(shop_a):
        shops = Shop.objects.filter(pk__in=AuditLogEntry.objects.values("shop_id"))
        assert list(shops) == [shop_a]
    with all_shops_access():
        assert set(shops.all()) == {shop_a, shop_b}
