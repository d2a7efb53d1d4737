"""The demo is an app of its own that production does not load: installed only with
DEMO_ENABLED, imported by none of the other apps, reached by no signal."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_APPS = ("shopadmin", "catalog", "localization", "channels", "orders", "storefront")

# Run in a fresh interpreter with production settings (DEMO_ENABLED unset or false): set Django
# up, load the URLs and every app's Celery tasks, and report what got installed and imported.
PROBE = """
import json, sys
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.urls import get_resolver
get_resolver().url_patterns
from shopadmin.celery import app
app.loader.import_default_modules()
print(json.dumps({
    "installed": "demo" in settings.INSTALLED_APPS or apps.is_installed("demo"),
    "imported": sorted(m for m in sys.modules if m == "demo" or m.startswith("demo.")),
    "task": "orders.demo_place_order" in app.tasks,
}))
"""


def _probe(demo_enabled: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DEMO_ENABLED"}
    env.update({"DJANGO_SETTINGS_MODULE": "shopadmin.settings", "DEBUG": "false", "SECRET_KEY": "x" * 50})
    if demo_enabled is not None:
        env["DEMO_ENABLED"] = demo_enabled
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_settings_do_not_install_or_import_the_demo():
    for value in (None, "false"):
        found = _probe(value)
        assert found == {"installed": False, "imported": [], "task": False}, value


def test_demo_enabled_installs_the_app_and_its_beat_task():
    found = _probe("true")
    assert found["installed"] and found["task"]
    assert "demo.tasks" in found["imported"]
    assert "demo" in settings.INSTALLED_APPS  # the test settings turn it on


def _demo_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] == "demo"]
    return found


def test_no_production_app_imports_the_demo():
    offenders = []
    for app in PRODUCTION_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" in path.relative_to(ROOT).parts:
                continue
            offenders += _demo_imports(path)
    assert offenders == []
    assert "seed_demo" not in {p.stem for app in PRODUCTION_APPS for p in (ROOT / app).glob("management/commands/*.py")}
