"""shopadmin_membership is row-secured: a session reads the current shop's memberships and the
signed-in user's own, nothing else; it writes only the current shop's. Proven as the app role."""

import pytest
from django.db import DatabaseError, connection, transaction

from shopadmin.context import reset_user_id, set_user_id
from shopadmin.models import Membership
from shopadmin.roles import Role
from shopadmin.tenancy import all_shops_access, no_shop, shop_context

pytestmark = pytest.mark.django_db


def raw_memberships():
    with connection.cursor() as cursor:
        cursor.execute("SELECT shop_id, user_id FROM shopadmin_membership")
        return set(cursor.fetchall())


@pytest.fixture
def alice_in_both(alice, shop_a, shop_b):
    with shop_context(shop_b):
        Membership.objects.create(shop=shop_b, user=alice, role=Role.VIEWER)


def test_no_shop_and_no_user_sees_nothing(alice_in_both):
    with no_shop():
        assert raw_memberships() == set()
        assert not Membership.objects.exists()


def test_a_user_sees_only_their_own_memberships(alice_in_both, alice, bob, charlie, shop_a, shop_b):
    token = set_user_id(alice.pk)
    try:
        assert raw_memberships() == {(shop_a.pk, alice.pk), (shop_b.pk, alice.pk)}
    finally:
        reset_user_id(token)
    token = set_user_id(bob.pk)
    try:
        assert raw_memberships() == {(shop_a.pk, bob.pk)}
    finally:
        reset_user_id(token)


def test_a_shop_sees_its_members_only(alice_in_both, alice, bob, charlie, shop_a, shop_b):
    with shop_context(shop_a):
        assert raw_memberships() == {(shop_a.pk, alice.pk), (shop_a.pk, bob.pk)}
    with shop_context(shop_b):
        assert raw_memberships() == {(shop_b.pk, alice.pk), (shop_b.pk, charlie.pk)}
    with all_shops_access():
        assert len(raw_memberships()) == 4


def test_writing_a_membership_of_another_shop_is_refused(charlie, shop_a, shop_b):
    with shop_context(shop_b), pytest.raises(DatabaseError), transaction.atomic():
        Membership.objects.create(shop=shop_a, user=charlie, role=Role.OWNER)
    # Knowing one's own user id does not open a shop either.
    token = set_user_id(charlie.pk)
    try:
        with pytest.raises(DatabaseError), transaction.atomic():
            Membership.objects.create(shop=shop_a, user=charlie, role=Role.OWNER)
    finally:
        reset_user_id(token)
    with all_shops_access():
        assert not Membership.objects.filter(shop=shop_a, user=charlie).exists()


def test_a_user_cannot_change_another_shops_membership_through_their_own_view(alice_in_both, alice, shop_a, shop_b):
    token = set_user_id(alice.pk)
    try:
        # Visible (her own) but not writable outside its shop.
        with pytest.raises(DatabaseError), transaction.atomic():
            Membership.objects.filter(shop=shop_b, user=alice).update(role=Role.OWNER)
    finally:
        reset_user_id(token)


def test_the_ui_still_enters_shops_by_membership(client, alice_in_both, alice, charlie):
    client.force_login(alice)
    assert client.get("/app/alice/").status_code == 200
    assert client.get("/app/charlie/").status_code == 200  # her viewer membership
    picker = client.get("/app/")
    assert [m.shop.slug for m in picker.context["memberships"]] == ["alice", "charlie"]
    client.force_login(charlie)
    assert client.get("/app/alice/").status_code == 404
