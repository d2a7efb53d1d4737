"""Fixtures shared by every app's tests.

The test database is created and migrated as the owner role; tests connect as the app
role, so PostgreSQL row-level security is on for everything they do (DESIGN.md §10).

The named users: alice owns shop A, bob edits shop A, charlie owns shop B.
"""

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import setup_databases, teardown_databases
from django.utils import translation

from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, User
from shopadmin.roles import Role
from shopadmin.services import api_key_create, shop_create
from shopadmin.tenancy import shop_context

pytest_plugins = ["shopadmin.testing.worker", "shopadmin.testing.browser"]

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in French (the test client runs
    in the test's thread) must not leave French active for the next test."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"owner"}, serialized_aliases=set())
        owner = connections["owner"]
        # Every app-role alias points at the test database the owner just made.
        for alias in connections:
            if alias != "owner":
                connections[alias].close()
                connections[alias].settings_dict["NAME"] = owner.settings_dict["NAME"]
        if owner.vendor == "postgresql":
            with owner.cursor() as cursor:
                # Test-only: transactional tests empty the tables between tests as the app role.
                cursor.execute("GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO shopadmin_app")
            owner.close()
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
        teardown_databases(config, verbosity=0)


def make_user(email: str, **extra) -> User:
    return User.objects.create_user(email=email, password=PASSWORD, **extra)


@pytest.fixture
def alice(db):
    return make_user("alice@example.com", first_name="Alice")


@pytest.fixture
def bob(db):
    return make_user("bob@example.com", first_name="Bob")


@pytest.fixture
def charlie(db):
    return make_user("charlie@example.com", first_name="Charlie")


@pytest.fixture
def staff(db):
    return make_user("staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def shop_a(alice, bob):
    with acting_as(Actor(door=Door.CLI, label="fixture")):
        shop = shop_create(name="Alice Apparel", slug="alice", currency="USD", country="US", owner=alice)
        with shop_context(shop):  # memberships are row-secured per shop
            shop.memberships.create(user=bob, role=Role.EDITOR)
    return shop


@pytest.fixture
def shop_b(charlie):
    with acting_as(Actor(door=Door.CLI, label="fixture")):
        return shop_create(
            name="Charlie Crafts", slug="charlie", currency="EUR", country="FR", language="fr", owner=charlie
        )


@pytest.fixture
def in_shop_a(shop_a):
    with shop_context(shop_a):
        yield shop_a


@pytest.fixture
def in_shop_b(shop_b):
    with shop_context(shop_b):
        yield shop_b


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice, shop_a):
    return login(client, alice)


@pytest.fixture
def bob_client(client, bob, shop_a):
    return login(client, bob)


@pytest.fixture
def charlie_client(client, charlie, shop_b):
    return login(client, charlie)


ALL_SCOPES = [
    "catalog:read",
    "catalog:write",
    "localization:read",
    "localization:write",
    "channels:read",
    "channels:write",
    "orders:read",
    "orders:write",
]


def api_client_for(shop, scopes=ALL_SCOPES, name="test key"):
    from rest_framework.test import APIClient

    _key_obj, key = api_key_create(shop=shop, name=name, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_a(shop_a):
    """A full-scope API client of shop A."""
    return api_client_for(shop_a)


@pytest.fixture
def api_b(shop_b):
    """A full-scope API client of shop B (charlie's)."""
    return api_client_for(shop_b)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
