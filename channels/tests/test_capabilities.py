"""Every channel difference lives in its adapter (and its sandbox module): the rest of the code
asks the adapter's capabilities instead of naming channels."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from channels.adapters import ADAPTERS
from channels.adapters.base import ChannelAdapter
from channels.models import Channel
from channels.sandbox.control import SIMULATORS

ROOT = Path(settings.BASE_DIR)
# Where naming a channel is the point: the adapters, the simulators, the registry of
# channels, demo and benchmark set-ups, and tests.
ALLOWED = ("/channels/adapters/", "/channels/sandbox/", "/channels/models.py", "/tests/", "/migrations/")
APPS = ("channels", "orders", "catalog", "localization", "shopadmin")


def _compares_to_channel(node: ast.AST) -> str | None:
    """`x.channel == "meta"`, `channel in ("meta", …)`, `channel != "pinterest"`, …"""
    if not isinstance(node, ast.Compare):
        return None
    left = node.left
    if (left.attr if isinstance(left, ast.Attribute) else getattr(left, "id", None)) != "channel":
        return None
    values = []
    for comparator in node.comparators:
        if isinstance(comparator, ast.Constant):
            values.append(comparator.value)
        elif isinstance(comparator, ast.Tuple | ast.List | ast.Set):
            values += [e.value for e in comparator.elts if isinstance(e, ast.Constant)]
    named = [v for v in values if v in Channel.values]
    return ", ".join(named) or None


def test_no_code_outside_the_adapters_branches_on_a_channel_name():
    branches = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if any(part in f"/{relative}" for part in ALLOWED):
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
                named = _compares_to_channel(node)
                if named:
                    branches.append(f"{relative}:{node.lineno} compares channel with {named}")
    assert branches == []


def test_every_channel_has_an_adapter_and_every_api_channel_a_simulator():
    assert set(ADAPTERS) == set(Channel.values)
    for channel, adapter in ADAPTERS.items():
        assert adapter.channel == channel
        if not adapter.feed_only and not adapter.internal:
            assert channel in SIMULATORS, f"{channel} has an API but no sandbox module"


@pytest.mark.parametrize("channel", sorted(ADAPTERS))
def test_capabilities_agree_with_what_the_adapter_implements(channel):
    adapter = ADAPTERS[channel]

    def implements(name: str) -> bool:
        return getattr(adapter, name, None) not in (None, getattr(ChannelAdapter, name, None))

    if adapter.internal:
        # The shop's own checkout: no feed, no API, no orders to fetch, nothing to connect.
        assert not (adapter.feed_only or adapter.feed_formats or adapter.has_order_api or adapter.has_webhooks)
        assert not (adapter.credential_specs or adapter.api_host or implements("publish_batch"))
        return
    if adapter.feed_only:
        assert adapter.feed_formats and adapter.feed_columns and not adapter.credential_specs
        assert not implements("publish_batch")
    else:
        assert implements("publish_batch") and implements("delete_items") and adapter.api_host.startswith("https://")
    if adapter.feed_formats:
        assert adapter.feed_columns and adapter.feed_availability_words
    if adapter.has_order_api:
        assert implements("fetch_orders") and implements("normalize_order") and adapter.checkout_methods
    if adapter.acknowledges_orders:
        assert implements("acknowledge_order")
    if adapter.has_webhooks:
        assert implements("verify_webhook") and implements("parse_webhook")
    if adapter.localized_overrides:
        assert implements("overrides") and implements("publish_localized_batch")
    if adapter.override_feeds:
        assert implements("override_key") and implements("override_row")
    assert adapter.sale_prices in ("", "with_dates", "while_running")
    assert all(spec.key and spec.label for spec in adapter.credential_specs)
