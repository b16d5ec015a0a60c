"""Every setting is read in one place (tracker/config.py), parsed and checked there, documented in the
README's one settings table, and every absolute link the app sends out starts with TRACKER_BASE_URL,
whatever Host a request came with."""

import ast
import logging
import re
from pathlib import Path

import pytest

from tracker.config import ConfigError, build_config
from tracker.db import db
from tracker.reminders.models import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://tracker.example.org"
HOSTILE = "http://evil.example"


@pytest.fixture
def clean_env(monkeypatch):
    """No TRACKER_* (or PORT) setting from the shell running the tests leaks into build_config()."""
    import os

    for name in list(os.environ):
        if name.startswith("TRACKER_") or name == "PORT":
            monkeypatch.delenv(name)
    return monkeypatch


def _config(tmp_path, **overrides):
    return build_config(tmp_path, {"SECRET_KEY": "k" * 64, "TRACKER_AUDIT_KEY": "a" * 64, **overrides})


# --- one place ----------------------------------------------------------------------------------------------


def _environment_reads(path: Path) -> list[str]:
    """Where a module reads the environment: os.environ, os.getenv, environ/getenv imported from os."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        os_environ = (
            (
                node.attr in ("environ", "environb")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            )
            if isinstance(node, ast.Attribute)
            else False
        )
        if isinstance(node, ast.Attribute) and (node.attr in ("getenv", "getenvb") or os_environ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "environb", "getenv", "getenvb") for alias in node.names)
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} from os import ...")
    return found


def test_only_config_reads_the_environment():
    modules = sorted((ROOT / "tracker").rglob("*.py"))
    assert len(modules) > 20
    config = ROOT / "tracker" / "config.py"
    reads = [read for path in modules if path != config for read in _environment_reads(path)]
    assert reads == [], "settings are read in tracker/config.py only; the app reads current_app.config"
    assert _environment_reads(ROOT / "tracker" / "config.py"), "the scan finds config.py's own reads"


def _table_names() -> set[str]:
    """The TRACKER_* names in the first column of the README's settings table(s)."""
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `TRACKER_"):
            names |= set(re.findall(r"`(TRACKER_[A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_table_names_every_setting_and_only_settings():
    source = (ROOT / "tracker" / "config.py").read_text()
    read = {f"TRACKER_{name}" for name in re.findall(r"\b_(?:env|number|flag)\(\s*\"([A-Z0-9_]+)\"", source)}
    mentioned = set(re.findall(r"\bTRACKER_[A-Z0-9_]+\b", source)) - {"TRACKER_SEEDS_DIR"}  # not a setting
    table = _table_names()
    assert len(read) > 30
    assert read - table == set(), "settings config.py reads but the README does not document"
    assert mentioned - table == set(), "names config.py mentions but the README does not document"
    assert table - read == set(), "names in the README's table that config.py never reads"
    readme = (ROOT / "README.md").read_text()
    assert readme.count("| variable | meaning | default |") == 1, "one settings table"


# --- parsed and refused at startup --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("TRACKER_SMTP_PORT", "five"),
        ("TRACKER_MAX_UPLOAD_MB", "lots"),
        ("TRACKER_REPORT_TIMEOUT", "1.5"),
        ("TRACKER_SMTP_TIMEOUT", "soon"),
        ("TRACKER_OUTBOX_STALE_SECONDS", "x"),
        ("TRACKER_INVITE_DAYS", "-3"),
        ("TRACKER_PAGE_CACHE", "maybe"),
        ("TRACKER_SMTP_TLS", "starttls-please"),
        ("TRACKER_BASE_URL", "tracker.org"),
        ("TRACKER_BASE_URL", "ftp://tracker.example.org"),
        ("TRACKER_EMBEDDED_SCHEDULER", "yes please"),
    ],
)
def test_a_bad_setting_stops_the_app_with_a_config_error_naming_it(clean_env, tmp_path, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as caught:
        _config(tmp_path)
    assert repr(value) in str(caught.value), "the message shows the value that was refused"


def test_settings_come_out_typed(clean_env, tmp_path):
    for name, value in {
        "SMTP_PORT": "2525",
        "SMTP_TIMEOUT": "7.5",
        "REPORT_TIMEOUT": "12",
        "PAGE_CACHE": "off",
        "EMBEDDED_SCHEDULER": "1",
        "REPORT_BACKGROUND_ROWS": "10",
        "SMTP_TLS": "SSL",
        "DEMO_PASSWORD": "demo-pass",
        "FONT_DIR": "/opt/fonts",
    }.items():
        clean_env.setenv(f"TRACKER_{name}", value)
    config = _config(tmp_path)
    assert config["TRACKER_SMTP_PORT"] == 2525 and config["TRACKER_SMTP_TIMEOUT"] == 7.5
    assert config["TRACKER_REPORT_TIMEOUT"] == 12
    assert config["TRACKER_PAGE_CACHE"] is False and config["TRACKER_EMBEDDED_SCHEDULER"] is True
    assert config["TRACKER_REPORT_BACKGROUND_ROWS"] == 10 and config["TRACKER_SMTP_TLS"] == "ssl"
    assert config["TRACKER_DEMO_PASSWORD"] == "demo-pass" and config["TRACKER_FONT_DIR"] == "/opt/fonts"
    for name in ("EMBEDDED_SCHEDULER", "SMTP_TLS"):
        clean_env.delenv(f"TRACKER_{name}")
    defaults = _config(tmp_path / "other")
    assert defaults["TRACKER_MAIL_DIR"] == str(tmp_path / "other" / "mail")
    assert defaults["TRACKER_EMBEDDED_SCHEDULER"] is False and defaults["TRACKER_SMTP_TLS"] == "starttls"


def test_the_base_url_follows_port_and_production_requires_one(clean_env, tmp_path):
    assert _config(tmp_path)["TRACKER_BASE_URL"] == "http://127.0.0.1:5000"
    clean_env.setenv("PORT", "8080")  # `PORT=8080 make run`: links point at the port served
    assert _config(tmp_path)["TRACKER_BASE_URL"] == "http://127.0.0.1:8080"
    clean_env.setenv("TRACKER_BASE_URL", PUBLIC + "/")
    assert _config(tmp_path)["TRACKER_BASE_URL"] == PUBLIC
    clean_env.delenv("TRACKER_BASE_URL")
    with pytest.raises(ConfigError, match="TRACKER_BASE_URL"):
        _config(tmp_path, TRACKER_ENV="production")
    clean_env.setenv("TRACKER_BASE_URL", PUBLIC)
    assert _config(tmp_path, TRACKER_ENV="production")["TRACKER_BASE_URL"] == PUBLIC


def test_make_run_passes_the_served_port_on_to_the_links():
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export TRACKER_BASE_URL ?= http://127.0.0.1:$(PORT)" in makefile


# --- links on TRACKER_BASE_URL, never the Host header -------------------------------------------------------


@pytest.fixture
def mail_log(app, caplog, monkeypatch):
    monkeypatch.setattr(app.logger, "disabled", False)  # the migrations' fileConfig turned it off
    caplog.set_level(logging.WARNING, logger=app.logger.name)
    return caplog


def test_the_reset_email_link_ignores_a_hostile_host_header(app, make_user, mail_log, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_BASE_URL", PUBLIC)
    monkeypatch.setitem(app.config, "SERVER_NAME", None)  # as in production: only the request's Host
    user = make_user()
    response = app.test_client().post(
        "/password/forgot",
        data={"email": user.email},
        base_url=HOSTILE,
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 302
    mail = "\n".join(  # the e-mail, queued in the outbox (the log keeps no link)
        m.body_text + m.body_html for m in db.session.execute(db.select(OutboxMessage)).scalars()
    )
    links = re.findall(r"https?://[^\s\"<]+/password/reset/[^\s\"<]+", mail)
    assert links and all(link.startswith(PUBLIC + "/password/reset/") for link in links), mail
    assert "evil.example" not in mail and "/password/reset/" not in mail_log.text


def test_the_invite_cli_prints_a_link_on_the_base_url_from_the_environment(
    app, make_school, clean_env, tmp_path, monkeypatch
):
    clean_env.setenv("TRACKER_BASE_URL", PUBLIC)
    monkeypatch.setitem(app.config, "TRACKER_BASE_URL", _config(tmp_path)["TRACKER_BASE_URL"])
    school = make_school()
    with app.test_request_context("/", base_url=HOSTILE):  # even run where a request is going on
        result = app.test_cli_runner().invoke(
            args=["users", "invite", "--school", school.slug, "--email", "new@example.org", "--role", "staff"]
        )
    assert result.exit_code == 0, result.output
    assert re.fullmatch(re.escape(PUBLIC) + r"/invitations/\S+", result.output.strip()), result.output
    db.session.rollback()


def test_member_invitations_and_calendar_feeds_use_the_base_url(app, make_school, make_member, monkeypatch):
    from tracker.tenancy import LEAD

    from .conftest import PASSWORD

    monkeypatch.setitem(app.config, "TRACKER_BASE_URL", PUBLIC)
    monkeypatch.setitem(app.config, "SERVER_NAME", None)  # as in production: only the request's Host
    school = make_school()
    lead = make_member(school, LEAD)
    client = app.test_client()  # the whole visit made under the hostile host, sign-in included
    assert (
        client.post(
            "/login", data={"email": lead.user.email, "password": PASSWORD}, base_url=HOSTILE
        ).status_code
        == 302
    )
    response = client.post(
        f"/s/{school.slug}/members/invite",
        data={"email": "x@example.org", "role": "staff"},
        base_url=HOSTILE,
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert PUBLIC + "/invitations/" in page and "evil.example" not in page
    response = client.post(f"/s/{school.slug}/reminders/calendar", base_url=HOSTILE, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert PUBLIC + "/calendar/" in page and "evil.example/calendar" not in page
