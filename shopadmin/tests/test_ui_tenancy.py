"""The merchant UI of the tenancy core through alice (owner), bob (editor) and charlie (other shop)."""

import pytest
from django.core import mail
from django.urls import reverse

from shopadmin.models import ApiKey, AuditLogEntry, Invitation, Membership, Shop
from shopadmin.services import api_key_create, invitation_create
from shopadmin.tenancy import all_shops_access, shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _read_memberships_on_the_platform_path():
    """Memberships are row-secured: the test body reads and arranges them across shops.

    Requests are unaffected: the middleware starts each one with no shop and restores this after.
    """
    with all_shops_access():
        yield


SHOP_A_PAGES = ["shop-home", "members", "shop-settings", "api-keys", "audit-log"]


@pytest.mark.parametrize("name", SHOP_A_PAGES)
def test_alice_sees_her_pages(alice_client, name):
    response = alice_client.get(reverse(name, args=["alice"]))
    assert response.status_code == 200


@pytest.mark.parametrize("name", SHOP_A_PAGES)
def test_charlie_gets_404_for_every_page_of_shop_a(charlie_client, name):
    assert charlie_client.get(reverse(name, args=["alice"])).status_code == 404


def test_charlie_gets_404_for_shop_a_objects(charlie_client, shop_a, alice):
    with shop_context(shop_a):
        key, _ = api_key_create(shop=shop_a, name="erp", scopes=["catalog:read"])
    alice_membership = Membership.objects.get(shop=shop_a, user=alice)
    for url in [
        reverse("api-key-revoke", args=["alice", key.pk]),
        reverse("member-remove", args=["alice", alice_membership.pk]),
        reverse("member-change-role", args=["alice", alice_membership.pk]),
        # charlie's own shop in the URL, alice's object id: still not found
        reverse("api-key-revoke", args=["charlie", key.pk]),
        reverse("member-remove", args=["charlie", alice_membership.pk]),
    ]:
        assert charlie_client.post(url, {"role": "viewer"}).status_code == 404, url
    with shop_context(shop_a):
        assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert Membership.objects.filter(pk=alice_membership.pk, role="owner").exists()


def test_anonymous_is_sent_to_sign_in(client, shop_a):
    response = client.get(reverse("shop-home", args=["alice"]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["shop-settings", "api-keys", "audit-log"])
def test_bob_the_editor_cannot_manage_the_shop(bob_client, name):
    assert bob_client.get(reverse(name, args=["alice"])).status_code == 403


def test_bob_sees_members_but_cannot_invite_or_change_roles(bob_client, shop_a, alice):
    assert bob_client.get(reverse("members", args=["alice"])).status_code == 200
    response = bob_client.post(reverse("members", args=["alice"]), {"email": "x@example.com", "role": "viewer"})
    assert response.status_code == 403
    alice_membership = Membership.objects.get(shop=shop_a, user=alice)
    response = bob_client.post(reverse("member-change-role", args=["alice", alice_membership.pk]), {"role": "viewer"})
    assert response.status_code == 403
    assert Membership.objects.get(pk=alice_membership.pk).role == "owner"


def test_alice_invites_and_the_invitee_joins(alice_client, client, shop_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("members", args=["alice"]), {"email": "Dora@Example.com", "role": "viewer"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dora@example.com"]
    link = next(line for line in mail.outbox[0].body.split() if "/invitations/" in line)
    path = link.split("127.0.0.1:8000", 1)[-1] if "://" in link else link
    alice_client.logout()
    response = client.post(path, {"new_password1": "a-long-enough-pass-42", "new_password2": "a-long-enough-pass-42"})
    assert response.status_code == 302
    assert Membership.objects.get(shop=shop_a, user__email="dora@example.com").role == "viewer"
    # The link works once.
    assert client.get(path).status_code == 404


def test_invitation_for_someone_else_cannot_be_accepted(client, shop_a, alice, charlie):
    membership = Membership.objects.get(shop=shop_a, user=alice)
    with shop_context(shop_a):
        _invitation, url = invitation_create(shop=shop_a, email="dora@example.com", role="editor", acting=membership)
    client.force_login(charlie)
    path = url.split("127.0.0.1:8000", 1)[-1]
    client.post(path)
    assert not Membership.objects.filter(shop=shop_a, user=charlie).exists()


def test_alice_changes_bobs_role_and_it_is_audited(alice_client, shop_a, bob):
    bob_membership = Membership.objects.get(shop=shop_a, user=bob)
    alice_client.post(reverse("member-change-role", args=["alice", bob_membership.pk]), {"role": "admin"})
    assert Membership.objects.get(pk=bob_membership.pk).role == "admin"
    with shop_context(shop_a):
        entry = AuditLogEntry.objects.filter(action="membership.change_role").get()
    assert entry.changes == {"role": ["editor", "admin"]}
    assert entry.actor_user.email == "alice@example.com" and entry.door == "ui"


def test_the_last_owner_cannot_leave_or_be_demoted(alice_client, shop_a, alice):
    membership = Membership.objects.get(shop=shop_a, user=alice)
    alice_client.post(reverse("member-remove", args=["alice", membership.pk]))
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_cannot_touch_an_owner(client, shop_a, alice, bob):
    Membership.objects.filter(shop=shop_a, user=bob).update(role="admin")
    client.force_login(bob)
    alice_membership = Membership.objects.get(shop=shop_a, user=alice)
    assert client.post(reverse("member-remove", args=["alice", alice_membership.pk])).status_code == 403
    assert Membership.objects.filter(pk=alice_membership.pk).exists()


def test_settings_form_shows_field_errors_and_keeps_input(alice_client, shop_a):
    response = alice_client.post(
        reverse("shop-settings", args=["alice"]),
        {"name": "Renamed", "default_currency": "EURO", "default_language": "en", "country": "XX", "timezone": "UTC"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "default_currency" in form.errors and "ISO 4217" in form.errors["default_currency"][0]
    assert "country" in form.errors
    assert b"Renamed" in response.content
    assert Shop.objects.get(pk=shop_a.pk).name == "Alice Apparel"


def test_settings_saved_and_audited(alice_client, shop_a):
    response = alice_client.post(
        reverse("shop-settings", args=["alice"]),
        {
            "name": "Alice Apparel",
            "default_currency": "cad",
            "default_language": "en",
            "country": "ca",
            "timezone": "America/Toronto",
        },
    )
    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert (shop_a.default_currency, shop_a.country, shop_a.timezone) == ("CAD", "CA", "America/Toronto")
    with shop_context(shop_a):
        entry = AuditLogEntry.objects.get(action="shop.update")
    assert entry.changes["default_currency"] == ["USD", "CAD"]


def test_api_key_is_shown_once_and_stored_hashed(alice_client, shop_a):
    response = alice_client.post(
        reverse("api-keys", args=["alice"]), {"name": "ERP", "scopes": ["catalog:read"]}, follow=True
    )
    assert response.redirect_chain, "created with a redirect, so a refresh cannot post twice"
    key = response.context["new_key"]
    assert key.startswith("sa_") and key.encode() in response.content
    with shop_context(shop_a):
        stored = ApiKey.objects.get(name="ERP")
    assert key not in (stored.key_hash, stored.prefix) and stored.matches(key)
    assert key.encode() not in alice_client.get(reverse("api-keys", args=["alice"])).content


def test_api_key_form_errors(alice_client):
    response = alice_client.post(reverse("api-keys", args=["alice"]), {"name": "", "scopes": ["nope"]})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scopes"}


def test_revoked_invitation_link_is_dead(alice_client, client, shop_a, alice):
    membership = Membership.objects.get(shop=shop_a, user=alice)
    with shop_context(shop_a):
        invitation, url = invitation_create(shop=shop_a, email="eve@example.com", role="editor", acting=membership)
    alice_client.post(reverse("invitation-revoke", args=["alice", invitation.pk]))
    with shop_context(shop_a):
        assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    assert client.get(url.split("127.0.0.1:8000", 1)[-1]).status_code == 404


def test_shop_picker_lists_only_my_shops(client, alice, shop_a, shop_b):
    client.force_login(alice)
    response = client.get(reverse("shop-picker"))
    assert response.status_code == 302 and response.url == reverse("shop-home", args=["alice"])
    Membership.objects.create(shop=shop_b, user=alice, role="viewer")
    response = client.get(reverse("shop-picker"))
    assert [m.shop.slug for m in response.context["memberships"]] == ["alice", "charlie"]


def test_audit_log_lists_only_this_shop(alice_client, shop_b):
    response = alice_client.get(reverse("audit-log", args=["alice"]))
    assert all(entry.shop_id != shop_b.pk for entry in response.context["page"])
    assert b"Charlie Crafts" not in response.content


def test_job_status_of_another_shop_is_404(alice_client, shop_b):
    from shopadmin.services import job_create

    with shop_context(shop_b):
        job = job_create(kind="x")
    assert alice_client.get(reverse("job-status", args=["alice", job.pk])).status_code == 404


def test_audit_log_shows_summaries_and_a_change_named_items(alice_client, shop_a):
    from shopadmin.audit import audit_record

    with shop_context(shop_a):
        audit_record(action="publish_plan.apply", model_label="channels.PublishPlan", changes={"items": 42})
        audit_record(action="x.update", model_label="x.X", changes={"price": ["1.00", "2.00"]})
    response = alice_client.get(reverse("audit-log", args=["alice"]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "42" in content and "1.00 → 2.00" in content
