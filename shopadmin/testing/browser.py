"""Browser-test fixtures (Playwright driving Debian Chromium against a live server).

Browser tests are marked ``@pytest.mark.browser``, run against pytest-django's ``live_server``
and need ``@pytest.mark.django_db(transaction=True)`` so the server thread sees the rows the
test created. Fixtures and helpers:

- ``page``: a fresh browser context and page per test (desktop viewport, English);
- ``sign_in(page, live_server, user)``: signs in through the real login form;
- ``screenshot(page, label)``: saves ``test-artifacts/screenshots/<test name>-<label>.png``;
  a failed test leaves ``<test name>-FAILED.png`` of the page it was on;
- ``assert_accessible(page)``: runs axe-core in the page and fails on serious or critical
  violations, listing each rule, why it failed and the offending elements.

Chromium is Debian's (``scripts/ensure-browser.sh`` installs it); Playwright never downloads
a browser here. Without ``/usr/bin/chromium`` the tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("SHOPADMIN_CHROMIUM", "/usr/bin/chromium"))
# The test machine has no outside network: without the background-networking flags Chromium
# keeps trying to reach Google services and logs refused connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("SHOPADMIN_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
SCREENSHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# Generous enough for a loaded two-core machine, short enough that a wrong selector fails fast.
TIMEOUT_MS = 15_000
BLOCKING_IMPACTS = ("serious", "critical")

_phase_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so the `page` fixture's teardown knows whether
    # the test failed and should leave a screenshot behind.
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


def _artifact_name(node_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_")


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM}; run scripts/ensure-browser.sh"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default; the suite shares a small machine, so it waits as long as
    # every other Playwright action does.
    expect.set_options(timeout=TIMEOUT_MS)

    # Playwright's sync API keeps an asyncio loop "running" on this thread for as long as it
    # lives, which trips Django's async-safety guard on every ORM call made by test code and
    # fixtures. Nothing here is actually asynchronous, so the guard is lifted while it lives.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright()
    playwright = manager.start()
    try:
        yield playwright
    finally:
        manager.__exit__(None, None, None)
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_instance):
    # SHOPADMIN_HEADED=1 shows the window, for watching a test on a machine with a display.
    headed = bool(os.environ.get("SHOPADMIN_HEADED"))
    args = [a for a in CHROMIUM_ARGS if not (headed and a == "--headless")]
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=not headed)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, request):
    """A page in a fresh context (no cookies carried between tests). Fails on uncaught JS errors."""
    failure_shot = SCREENSHOTS / f"{_artifact_name(request.node.name)}-FAILED.png"
    # A screenshot left by an earlier failed run would be mistaken for this run's.
    failure_shot.unlink(missing_ok=True)
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    yield page
    reports = request.node.stash.get(_phase_reports, {})
    if any(r.failed for r in reports.values()) and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=failure_shot, full_page=True)
    context.close()
    assert not js_errors, "uncaught JavaScript errors in the page:\n" + "\n".join(js_errors)


@pytest.fixture
def screenshot(request):
    """`screenshot(page, label)` saves a full-page PNG named after the test and the label."""
    base = _artifact_name(request.node.name)

    def take(page, label: str = "") -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (f"{base}-{_artifact_name(label)}.png" if label else f"{base}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return take


def sign_in(page, live_server, user, password: str | None = None) -> None:
    """Sign in through the login form as `user` (a User or an email) and wait to leave the form."""
    if password is None:
        from conftest import PASSWORD

        password = PASSWORD
    email = getattr(user, "email", user)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def accessibility_violations(page, impacts=BLOCKING_IMPACTS) -> list[dict]:
    """axe-core's violations on the current page whose impact is one of `impacts`."""
    results = _axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def format_violations(violations: list[dict], where: str = "") -> str:
    lines = [f"{len(violations)} accessibility violation(s){f' on {where}' if where else ''}:"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {summary}")
            lines.append(f"       {node['html'][:200]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more elements")
    return "\n".join(lines)


def assert_accessible(page, impacts=BLOCKING_IMPACTS) -> None:
    """Fail if axe-core finds violations of the given impacts (serious and critical by default)."""
    violations = accessibility_violations(page, impacts)
    assert not violations, format_violations(violations, page.url)
