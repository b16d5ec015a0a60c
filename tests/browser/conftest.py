"""A live tracker in a subprocess (its own database, demo data, CSRF on) and Debian's Chromium driven by
Playwright.

Locally the browser tests skip when /usr/bin/chromium is missing; in CI (CI=true) that is a failure.
"""

import os
from pathlib import Path

import pytest

from ..databases import fresh_postgres
from ..live_server import serving
from .flask_commands import FlaskCommands

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "browser-demo-password"


def _require_chromium():
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"{CHROMIUM} is missing: CI must install Debian's chromium (scripts/ensure-system-deps browser)"
        )
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI runs these tests")


def _live_database(tmp_path):
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'live.sqlite3'}"
    return fresh_postgres(url, "_live")


#: the live server's environment (set by the `live_server` fixture)
_LIVE_ENV = {}
#: the process that runs `live_flask`'s commands while the live server is up
_LIVE_COMMANDS = []


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of a tracker served from a subprocess with migrated schema, seeds and demo data."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": _live_database(tmp),
        "TRACKER_DEMO_PASSWORD": DEMO_PASSWORD,
        "TRACKER_SECRET_KEY": "live-test-secret",
        "TRACKER_EVIDENCE_DIR": str(tmp / "evidence"),
        "FLASK_APP": "tracker",
    }
    commands = FlaskCommands(env, tmp / "commands.log")
    try:
        for step in (["db", "upgrade"], ["seed"], ["demo", "load"]):
            done = commands.run(*step)
            if done["code"] != 0:
                raise RuntimeError(f"flask {' '.join(step)} failed: {done['stderr'][-3000:]}")
        _LIVE_ENV.update(env)
        _LIVE_COMMANDS.append(commands)
        with serving(env, tmp / "server.log") as base:
            yield base
    finally:
        _LIVE_COMMANDS.clear()
        commands.close()


@pytest.fixture
def live_flask(live_server):
    """Run a `flask` command against the live server's database, e.g. `live_flask("schools", "create", ...)`:
    a test whose changes cannot be undone (a sign-off, a first year) works in a school of its own, so the
    other browser tests on the same worker still find the demo school as `flask demo load` left it."""

    def run(*args):
        done = _LIVE_COMMANDS[0].run(*args)
        assert done["code"] == 0, done["stderr"]
        return done["stdout"]

    return run


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
