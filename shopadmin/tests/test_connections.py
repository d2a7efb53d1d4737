"""A reused database connection never carries one request's shop into the next."""

import pytest
from django.db import connection
from django.urls import reverse

from shopadmin.tenancy import no_shop

pytestmark = pytest.mark.django_db(transaction=True)


def current_settings():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.shop_id', true), current_setting('app.all_shops', true)")
        return cursor.fetchone()


def test_one_connection_two_shops_in_turn(client, alice, charlie, shop_a, shop_b):
    client.force_login(alice)
    first = client.get(reverse("audit-log", args=["alice"]))
    raw_after_first = connection.connection
    client.force_login(charlie)
    second = client.get(reverse("audit-log", args=["charlie"]))

    assert connection.connection is raw_after_first, "the same server connection served both requests"
    assert {e.shop_id for e in first.context["page"]} == {shop_a.pk}
    assert {e.shop_id for e in second.context["page"]} == {shop_b.pk}
    with no_shop():
        # Between requests nothing lingers on the connection.
        assert current_settings() in [("", ""), (None, None), ("", "off")]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM shopadmin_auditlogentry")
            assert cursor.fetchone()[0] == 0


def test_a_failed_request_does_not_leak_its_shop(client, alice, shop_a):
    client.force_login(alice)
    client.post(reverse("shop-settings", args=["alice"]), {"default_currency": "bad"})
    with no_shop(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM shopadmin_auditlogentry")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True, databases=["default", "pooled"])
def test_a_pooled_connection_reused_by_two_shops_never_leaks(shop_a, shop_b):
    from django.db import connections, transaction

    from shopadmin.tenancy import shop_context

    pooled = connections["pooled"]

    def one_request(shop):
        """What a request does: one transaction, then the connection goes back to the pool."""
        context = shop_context(shop) if shop is not None else no_shop()
        with context, transaction.atomic(using="pooled"), pooled.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), array_agg(DISTINCT shop_id) FROM shopadmin_auditlogentry")
            pid, shops = cursor.fetchone()
        pooled.close()
        return pid, set(shops or [])

    pid_a, shops_a = one_request(shop_a)
    pid_b, shops_b = one_request(shop_b)
    pid_none, shops_none = one_request(None)
    assert pid_a == pid_b == pid_none, "a pool of one hands out the same server connection"
    assert (shops_a, shops_b, shops_none) == ({shop_a.pk}, {shop_b.pk}, set())
    pooled.close_pool()
