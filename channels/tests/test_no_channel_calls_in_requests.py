"""No request talks to a channel (docs/architecture.md): the channels app's request handlers
(merchant pages, API views, feeds, webhooks, the connect callback) never import an adapter or
call a function that reaches a channel; they record what is wanted and a task does it. Read from
the source (AST), so a new view that calls the channel inline fails here before a merchant waits
77 seconds on it. Something a view must use from channels/adapters/ without any call leaving the
machine is allowlisted below, with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

CHANNELS = Path(__file__).resolve().parents[1]

# The modules whose functions answer requests.
VIEW_MODULES = ("views.py", "listing_views.py", "feed_views.py", "webhook_views.py", "api.py", "listing_api.py")

# Functions that talk to a channel (or hand one an adapter that does). A task calls them.
CHANNEL_CALLS = {
    "adapter_for",  # an adapter: every method past the payload builders calls the channel
    "adapter_for_account",
    "auth_for",  # a channel's authorisation client (code exchange, refresh, listings)
    "connection_complete",  # exchanges the code, reads what there is to pick
    "token_refresh",
    "publish_batch_run",
    "publish_resume_stale",
    "webhook_event_process",  # its order handler fetches the order from the channel
    "references_refresh",
    "refresh",  # channels.references.refresh
    "check_credentials",
}
# Celery's inline execution: the task body would run inside the request.
INLINE_TASK_METHODS = {"apply"}

# (module, name): why a view may use it.
ALLOWLIST = {
    ("views.py", "auth_class"): "reads the channel's class attributes (app configured, pasted keys, choice noun); "
    "no call",
    ("api.py", "auth_class"): "reads whether the channel has an authorisation flow; no call",
    ("webhook_views.py", "adapter_for"): "answers the channel's handshake, verifies the HMAC signature and parses "
    "the body, all locally (see WEBHOOK_ADAPTER_METHODS); handling the event is a task",
}
# What the webhook view may ask of its adapter: nothing of it calls the channel.
WEBHOOK_ADAPTER_METHODS = {"webhook_handshake", "verify_webhook", "parse_webhook"}


def _tree(name: str) -> ast.Module:
    return ast.parse((CHANNELS / name).read_text(), filename=name)


def _called_name(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def problems_in(name: str, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("channels.adapters"):
            for alias in node.names:
                if (name, alias.name) not in ALLOWLIST:
                    found.append(f"{name}:{node.lineno}: imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("channels.adapters") and (name, alias.name) not in ALLOWLIST:
                    found.append(f"{name}:{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Call):
            called = _called_name(node)
            if called in CHANNEL_CALLS and (name, called) not in ALLOWLIST:
                found.append(f"{name}:{node.lineno}: calls {called}(), which talks to the channel")
            if called in INLINE_TASK_METHODS and isinstance(node.func, ast.Attribute):
                found.append(f"{name}:{node.lineno}: runs a task inline (.apply()); use .delay() on commit")
    return found


def test_no_view_imports_or_calls_what_talks_to_a_channel():
    found = [problem for name in VIEW_MODULES for problem in problems_in(name, _tree(name))]
    assert not found, "A request must not talk to a channel; hand it to a task:\n" + "\n".join(found)


def test_the_webhook_view_asks_its_adapter_only_what_it_can_answer_locally():
    asked = set()
    for node in ast.walk(_tree("webhook_views.py")):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "adapter"
        ):
            asked.add(node.func.attr)
    assert asked and asked <= WEBHOOK_ADAPTER_METHODS, asked - WEBHOOK_ADAPTER_METHODS


def test_the_scan_finds_a_view_that_calls_the_channel():
    """The check itself: a view calling the adapter inline, or a task inline, is caught."""
    source = """
from channels.adapters import adapter_for
from channels.tasks import publish_batch_task

def send_again(request, pk):
    adapter_for(account).publish_batch([])
    publish_batch_task.apply(args=(1, 2))
"""
    found = problems_in("views.py", ast.parse(source))
    assert len(found) == 3, found


def test_the_allowlist_is_still_needed():
    used = set()
    for name in VIEW_MODULES:
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.ImportFrom):
                used |= {(name, alias.name) for alias in node.names}
    assert set(ALLOWLIST) <= used, set(ALLOWLIST) - used
