"""Every reaction of one app to another, in one list: the hook or signal, and who reacts to it.

A lower app never imports a higher one, so a higher app reacts through a named hook that the
lower app's service calls (a registry of callables or a documented signal). A reaction that
stops being connected (a renamed function, a ready() that no longer connects it) fails here
instead of silently doing nothing; a new reaction has to be added to these lists.
"""

from __future__ import annotations

import importlib
import weakref

import pytest
from django.apps import apps

PROJECT_APPS = ("shopadmin", "catalog", "localization", "channels", "orders", "demo")

# (signal, sender the service sends with, dispatch_uid, receiver)
SIGNAL_REACTIONS = [
    (
        "catalog.signals.catalog_changed",
        "catalog",
        "localization.catalog_changed",
        "localization.receivers.on_catalog_changed",
    ),
    ("catalog.signals.catalog_changed", "catalog", "channels.catalog_changed", "channels.receivers.on_catalog_changed"),
    (
        "localization.signals.market_saved",
        "localization",
        "channels.market_saved",
        "channels.receivers.on_market_saved",
    ),
    (
        "localization.signals.market_prices_stored",
        "localization",
        "channels.market_prices_stored",
        "channels.receivers.on_market_prices_stored",
    ),
    ("shopadmin.signals.shop_created", "Shop", "localization.home_market", "localization.receivers.create_home_market"),
    (
        "shopadmin.signals.shop_updated",
        "Shop",
        "orders.rollup_time_zone",
        "orders.apps._rebuild_rollup_on_time_zone_change",
    ),
]

# (the registry's reader, receiver): hooks a lower app calls with the registered functions.
REGISTRY_REACTIONS = [
    ("channels.webhooks.order_handlers", "orders.sync.handle_order_event"),
    ("channels.health.reconnected_handlers", "orders.apps._resume_pushes"),
    ("shopadmin.home.home_sections", "orders.dashboard_views.dashboard_section"),
    ("shopadmin.home.home_sections", "orders.earnings_views.earnings_section"),
]

# Framework signals an app answers for itself (not a reaction between apps, listed to be complete).
FRAMEWORK_REACTIONS = [
    ("django.db.models.signals.post_migrate", "shopadmin.rls", "shopadmin.db.rls.on_post_migrate"),
    ("axes.signals.user_locked_out", "shopadmin.login_throttle.audit", "shopadmin.login_throttle._on_locked_out"),
    ("django.test.signals.setting_changed", None, "channels.crypto._reset"),
]


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def registry(dotted: str) -> tuple:
    if dotted == "shopadmin.home.home_sections":
        from shopadmin import home

        return tuple(home._sections)
    return tuple(resolve(dotted)())


def sender_for(name):
    return apps.get_model("shopadmin", name) if name == "Shop" else name


def live_receivers(signal, sender=None) -> list:
    found = signal._live_receivers(sender)
    if isinstance(found, tuple):  # Django: (sync, async)
        found = [*found[0], *found[1]]
    return list(found)


def connected_with_uid(signal, dispatch_uid: str):
    """The receiver connected under `dispatch_uid`, whatever its sender, or None."""
    for entry in signal.receivers:
        (uid, _sender_key), ref = entry[0], entry[1]
        if uid == dispatch_uid:
            return ref() if isinstance(ref, weakref.ReferenceType) else ref
    return None


def project_receivers(signal, sender) -> set:
    return {
        f"{fn.__module__}.{fn.__qualname__}"
        for fn in live_receivers(signal, sender)
        if fn.__module__.split(".")[0] in PROJECT_APPS and ".tests" not in fn.__module__
    }


@pytest.mark.parametrize("signal,sender,dispatch_uid,receiver", SIGNAL_REACTIONS, ids=lambda v: v)
def test_signal_reaction_is_connected(signal, sender, dispatch_uid, receiver):
    sig, fn = resolve(signal), resolve(receiver)
    assert fn in live_receivers(sig, sender_for(sender)), f"{receiver} no longer receives {signal}"
    assert connected_with_uid(sig, dispatch_uid) is fn, f"{dispatch_uid} is not {receiver}"


@pytest.mark.parametrize("hook,receiver", REGISTRY_REACTIONS, ids=lambda v: v)
def test_registry_reaction_is_registered(hook, receiver):
    assert resolve(receiver) in registry(hook), f"{receiver} is not registered with {hook}"


@pytest.mark.parametrize("signal,dispatch_uid,receiver", FRAMEWORK_REACTIONS, ids=lambda v: str(v))
def test_framework_signal_is_answered(signal, dispatch_uid, receiver):
    sig, fn = resolve(signal), resolve(receiver)
    if dispatch_uid:
        assert connected_with_uid(sig, dispatch_uid) is fn
    else:
        assert fn in live_receivers(sig)


def test_no_reaction_is_left_out_of_the_lists():
    expected: dict[tuple[str, str], set] = {}
    for signal, sender, _uid, receiver in SIGNAL_REACTIONS:
        expected.setdefault((signal, sender), set()).add(receiver)
    for (signal, sender), receivers in expected.items():
        assert project_receivers(resolve(signal), sender_for(sender)) == receivers, signal
    for hook in {hook for hook, _receiver in REGISTRY_REACTIONS}:
        registered = {f"{fn.__module__}.{fn.__qualname__}" for fn in registry(hook) if ".tests" not in fn.__module__}
        assert registered == {r for h, r in REGISTRY_REACTIONS if h == hook}, hook


def test_no_reaction_hangs_off_celery_task_signals():
    # Reactions follow the service that did the work, never a task's name.
    from celery import signals

    for name in ("task_prerun", "task_postrun", "task_success", "task_failure", "task_retry"):
        assert not project_receivers(getattr(signals, name), None), name


@pytest.mark.django_db
def test_stored_market_prices_request_a_re_plan(shop_a, monkeypatch, django_capture_on_commit_callbacks):
    """Storing market prices is what re-plans the channels: no Celery task is involved."""
    from channels import tasks as channel_tasks
    from channels.listings import listing_settings_for
    from channels.tests.factories import make_account
    from localization.pricing import market_prices_recompute
    from shopadmin.tenancy import shop_context

    account = make_account(shop_a, "meta")
    queued = []
    monkeypatch.setattr(channel_tasks.replan_task, "apply_async", lambda args, **kw: queued.append(args))
    with shop_context(shop_a):
        assert listing_settings_for(account).replan_requested_at is None
        with django_capture_on_commit_callbacks(execute=True):
            market_prices_recompute(shop_id=shop_a.pk)
        requested = listing_settings_for(account).replan_requested_at
    assert requested is not None
    assert queued == [(shop_a.pk, account.pk, requested.isoformat())]


@pytest.mark.django_db
def test_a_saved_market_requests_a_re_plan(shop_a, monkeypatch, django_capture_on_commit_callbacks):
    from channels import tasks as channel_tasks
    from channels.tests.factories import make_account
    from localization.models import Market
    from localization.services import market_update
    from shopadmin.tenancy import shop_context

    account = make_account(shop_a, "meta")
    queued = []
    monkeypatch.setattr(channel_tasks.replan_task, "apply_async", lambda args, **kw: queued.append(args))
    monkeypatch.setattr("localization.services.schedule_price_recompute", lambda **kw: None)
    with shop_context(shop_a):
        market = Market.objects.get(is_home=True)
        with django_capture_on_commit_callbacks(execute=True):
            market_update(market=market, adjustment_percent="2")
    assert [args[:2] for args in queued] == [(shop_a.pk, account.pk)]
