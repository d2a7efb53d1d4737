"""The audit log speaks in words: every action recorded anywhere in the code and
every background task has a sentence, so a new one cannot be forgotten."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from shopadmin.admin_base import TenantAdmin
from shopadmin.audit import Actor, acting_as, audit_record
from shopadmin.audit_words import ACTION_WORDS, TASK_WORDS, action_words, actor_words
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

ROOT = Path(settings.BASE_DIR)
SKIP_PARTS = {".venv", "tests", "migrations", "node_modules", "var", "bench"}


def recorded_actions():
    """(file:line, action) of every `audit_record(action=…)` in the code: a string, or the
    source of an expression when the action is computed."""
    found = []
    for path in ROOT.rglob("*.py"):
        if SKIP_PARTS & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name != "audit_record":
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            action = next((kw.value for kw in node.keywords if kw.arg == "action"), None)
            assert action is not None, f"{where}: audit_record without action="
            if isinstance(action, ast.Constant):
                found.append((where, action.value))
            else:
                found.append((where, ast.unparse(action)))
    return found


def expand(action: str) -> list[str]:
    """The actions a computed one can be; an unknown computation fails the test."""
    from catalog.services import BulkAction

    if action == "f'product.bulk_{action}'":
        return [f"product.bulk_{choice}" for choice in BulkAction.CHOICES]
    if "_meta.model_name" in action:  # the staff admin's create, update and delete
        return [
            f"{model._meta.model_name}.{verb}"
            for model, model_admin in admin.site._registry.items()
            if isinstance(model_admin, TenantAdmin)
            for verb in ("create", "update", "delete")
        ]
    raise AssertionError(f"a computed audit action this test does not know: {action}; list what it can be")


def test_the_scan_finds_the_actions():
    actions = {action for _where, action in recorded_actions()}
    # The examples, and the ones added since: if these are missing the scan is broken.
    assert {"stock.post_movements", "order.import", "order.channel_update", "market.prices_recompute"} <= actions
    assert {"catalog.import_check", "catalog.import_commit"} <= actions


def test_every_recorded_action_has_words():
    missing = []
    for where, action in recorded_actions():
        literal = not action.startswith(("f'", 'f"'))
        for one in [action] if literal else expand(action):
            if action_words(one) == one:
                missing.append(f"{where}: {one}")
    assert missing == [], "add these to shopadmin.audit_words.ACTION_WORDS:\n" + "\n".join(missing)


def test_no_words_for_actions_that_no_longer_exist():
    used = set()
    for _where, action in recorded_actions():
        used.update([action] if not action.startswith(("f'", 'f"')) else expand(action))
    assert sorted(set(ACTION_WORDS) - used) == []


def test_every_background_task_has_words():
    from shopadmin.celery import app

    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith(("celery.", "shopadmin.tests."))]
    assert "channels.webhook_event_process" in ours
    assert sorted(set(ours) - set(TASK_WORDS)) == []


def test_the_template_filters_give_the_same_words():
    from django.template import Context, Template

    rendered = Template("{% load audit %}{{ label|actor_words }} / {{ action|action_words }}").render(
        Context({"label": "task orders.poll", "action": "stock.post_movements"})
    )
    assert rendered == "Background task: fetching new orders from a channel / Stock moved"


def test_actors_in_words():
    assert actor_words("task channels.webhook_event_process", Door.TASK) == (
        "Background task: processing a channel webhook"
    )
    assert actor_words("task someapp.new_thing", Door.TASK) == "Background task"
    assert actor_words("webhook tiktok_shop", Door.WEBHOOK) == "Webhook from TikTok Shop"
    assert actor_words("alice@example.com", Door.UI) == "alice@example.com"
    assert actor_words("system", Door.SYSTEM) == "System"
    assert action_words("taxrate.update") == "Tax rate changed in the staff admin"
    assert action_words("something.unheard_of") == "something.unheard_of"


def test_changed_fields_are_named_in_words():
    from django.utils import translation

    from shopadmin.audit_words import field_words

    assert field_words("shopadmin.Shop", "default_currency") == "default currency"
    with translation.override("fr"):  # the form's label, translated
        assert field_words("shopadmin.Shop", "default_currency") not in ("default currency", "Default currency")
    assert field_words("shopadmin.Membership", "user") == "user"  # the related model's (translated) name
    assert field_words("channels.PublishPlan", "items") == "items"  # not a field: left as recorded
    assert field_words("nowhere.Nothing", "x") == "x"


@pytest.mark.django_db
def test_the_audit_log_page_and_the_admin_show_words(alice_client, client, staff, shop_a):
    with shop_context(shop_a):
        with acting_as(Actor(door=Door.TASK, label="task channels.webhook_event_process")):
            audit_record(action="order.import", shop_id=shop_a.pk, model_label="orders.Order", object_repr="#1001")
        with acting_as(Actor(door=Door.UI, user=None, label="alice@example.com")):
            audit_record(action="stock.post_movements", shop_id=shop_a.pk, model_label="catalog.StockMovement")
    home = alice_client.get(reverse("shop-home", args=[shop_a.slug])).content.decode()
    assert "Background task: processing a channel webhook" in home and "Order imported from the channel" in home
    page = alice_client.get(reverse("audit-log", args=[shop_a.slug])).content.decode()
    for words in ("Order imported from the channel", "Background task: processing a channel webhook", "Stock moved"):
        assert words in page
    assert "channels.webhook_event_process" not in page and "stock.post_movements" not in page.split("<table")[1]
    # The filter offers the actions by their words.
    filtered = alice_client.get(reverse("audit-log", args=[shop_a.slug]), {"action": "stock.post_movements"})
    assert [entry.action for entry in filtered.context["page"]] == ["stock.post_movements"]

    client.force_login(staff)
    listing = client.get(reverse("admin:shopadmin_auditlogentry_changelist")).content.decode()
    assert "Order imported from the channel" in listing
    assert "Background task: processing a channel webhook" in listing


def test_every_channel_has_a_name_for_its_webhooks():
    from channels.models import Channel
    from shopadmin.audit_words import CHANNEL_NAMES

    assert set(CHANNEL_NAMES) == set(Channel.values)


def test_a_recorded_choice_reads_as_its_label(db):
    from shopadmin.audit_words import value_words

    assert value_words("orders.Order", "status", "awaiting_fulfillment") == "Awaiting fulfilment"
    assert value_words("orders.Order", "status", "no_such_status") == "no_such_status"
    assert value_words("orders.Order", "total", "61.99 USD") == "61.99 USD"
    assert value_words("nowhere.Nothing", "status", "x") == "x"
