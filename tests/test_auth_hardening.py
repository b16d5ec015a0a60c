"""Sign-in hardening: server-side session expiry (idle and absolute, session and remember cookies) and
pruning, sign-in throttling behind trusted reverse proxies, and the strength check on new passwords."""

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.auth.models import LoginSession, User
from tracker.auth.services import make_reset_token
from tracker.config import ConfigError, build_config
from tracker.db import db, utcnow
from tracker.extensions import limiter
from tracker.passwords import check_password, password_problem, strength_inputs
from tracker.schools.services import invite
from tracker.security import trust_proxies

from .conftest import PASSWORD, login
from .test_auth import browser_with, cookies_of, home, sends_to_login, signed_in_browser

STRONG = "lantern orchard quietly hums"


def sessions_of(user):
    return db.session.execute(sa.select(LoginSession).where(LoginSession.user_id == user.id)).scalars().all()


def only_session(user):
    rows = sessions_of(user)
    assert len(rows) == 1
    return rows[0]


def age(row, *, idle=None, since_sign_in=None):
    """Move the session's last-seen time and/or sign-in time back, as if that much time had passed."""
    now = utcnow()
    if idle is not None:
        row.last_seen_at = now - idle
    if since_sign_in is not None:
        row.created_at = now - since_sign_in
    db.session.commit()


def events(action):
    return db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def page_text(response):
    return html.unescape(response.get_data(as_text=True))


# --- sessions expire on the server -------------------------------------------------------------------------


def test_a_session_idle_too_long_is_refused_deleted_and_the_person_told(app, make_school, make_member):
    """Without "keep me signed in": 11 h 59 min idle still works (and counts as activity), 12 h 1 min idle is
    refused even though the browser's session cookie is intact; the row goes and the login page says why."""
    school = make_school()
    member = make_member(school, "staff")
    browser = signed_in_browser(app, member.user)
    row = only_session(member.user)
    assert row.remembered is False

    age(row, idle=timedelta(hours=11, minutes=59))
    assert browser.get(home(school)).status_code == 200
    db.session.expire_all()
    assert utcnow() - only_session(member.user).last_seen_at < timedelta(minutes=1), "the visit is recorded"

    age(only_session(member.user), idle=timedelta(hours=12, minutes=1))
    assert sends_to_login(browser.get(home(school)))
    assert sessions_of(member.user) == []
    assert [e.subject_id for e in events("auth.session_expired")] == [str(member.user.id)]
    login_page = page_text(browser.get("/login"))
    assert "Your session has expired" in login_page
    assert "Sign in to see that page" not in login_page, "one message, the one that says why"
    assert sends_to_login(browser.get(home(school))), "and it stays refused"
    plain = page_text(browser.get("/login"))
    assert "Sign in to see that page" in plain, "a plain visit still gets the usual one"


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_remembered_session_idle_for_over_a_week_is_refused_by_either_cookie(
    app, make_school, make_member, cookie
):
    """ "Keep me signed in" survives a night away (13 h idle) but not 7 days and a minute, whichever cookie
    the browser still holds; the refused remember cookie is deleted from the browser."""
    school = make_school()
    member = make_member(school, "head")
    held = cookies_of(signed_in_browser(app, member.user, remember=True))
    row = only_session(member.user)
    assert row.remembered is True

    age(row, idle=timedelta(hours=13))
    assert browser_with(app, {cookie: held[cookie]}).get(home(school)).status_code == 200

    age(only_session(member.user), idle=timedelta(days=7, minutes=1))
    browser = browser_with(app, {cookie: held[cookie]})
    response = browser.get(home(school))
    assert sends_to_login(response)
    assert sessions_of(member.user) == []
    if cookie == "remember_token":
        assert any(h.startswith("remember_token=;") for h in response.headers.getlist("Set-Cookie"))
    assert "Your session has expired" in page_text(browser.get("/login"))


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_session_past_its_lifetime_is_refused_however_recently_used(app, make_school, make_member, cookie):
    """Fourteen days after sign-in the session ends, even one used a minute ago."""
    school = make_school()
    member = make_member(school, "lead")
    held = cookies_of(signed_in_browser(app, member.user, remember=True))
    age(only_session(member.user), idle=timedelta(minutes=1), since_sign_in=timedelta(days=13, hours=23))
    assert browser_with(app, {cookie: held[cookie]}).get(home(school)).status_code == 200

    age(only_session(member.user), idle=timedelta(minutes=1), since_sign_in=timedelta(days=14, minutes=1))
    assert sends_to_login(browser_with(app, {cookie: held[cookie]}).get(home(school)))
    assert sessions_of(member.user) == []


def test_reading_pages_writes_the_last_seen_time_at_most_every_five_minutes(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "staff")
    browser = signed_in_browser(app, member.user)
    row = only_session(member.user)
    age(row, idle=timedelta(minutes=3))
    seen = row.last_seen_at
    assert browser.get(home(school)).status_code == 200
    db.session.expire_all()
    assert only_session(member.user).last_seen_at == seen, "no write within five minutes"
    age(only_session(member.user), idle=timedelta(minutes=6))
    assert browser.get(home(school)).status_code == 200
    db.session.expire_all()
    assert utcnow() - only_session(member.user).last_seen_at < timedelta(minutes=1)


def test_a_busy_database_when_recording_the_visit_does_not_fail_the_page(
    app, make_school, make_member, monkeypatch
):
    """The last-seen write is best effort: if it cannot be committed (SQLite busy), the page is still shown
    and the write happens on a later request."""
    school = make_school()
    member = make_member(school, "staff")
    browser = signed_in_browser(app, member.user)
    age(only_session(member.user), idle=timedelta(minutes=30))
    seen = only_session(member.user).last_seen_at
    real_commit = db.session.commit
    calls = []

    def busy_once():
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("UPDATE login_sessions", {}, Exception("database is locked"))
        return real_commit()

    monkeypatch.setattr(db.session, "commit", busy_once)
    assert browser.get(home(school)).status_code == 200
    monkeypatch.undo()
    assert calls, "the visit was written"
    db.session.expire_all()
    assert only_session(member.user).last_seen_at == seen
    assert browser.get(home(school)).status_code == 200
    db.session.expire_all()
    assert utcnow() - only_session(member.user).last_seen_at < timedelta(minutes=1)


def test_pruning_removes_only_expired_sessions(app, make_user):
    user = make_user()
    now = utcnow()
    cases = {  # name: (remembered, idle, since sign-in, expired?)
        "fresh": (False, timedelta(0), timedelta(0), False),
        "idle 11h": (False, timedelta(hours=11), timedelta(hours=11), False),
        "idle 13h": (False, timedelta(hours=13), timedelta(hours=13), True),
        "remembered idle 13h": (True, timedelta(hours=13), timedelta(days=2), False),
        "remembered idle 8 days": (True, timedelta(days=8), timedelta(days=8), True),
        "used now, signed in 15 days ago": (True, timedelta(0), timedelta(days=15), True),
        "used now, signed in 13 days ago": (True, timedelta(0), timedelta(days=13), False),
    }
    for name, (remembered, idle, since, _) in cases.items():
        db.session.add(
            LoginSession(
                token_hash=name,
                user_id=user.id,
                remembered=remembered,
                last_seen_at=now - idle,
                created_at=now - since,
            )
        )
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["sessions", "prune"])
    assert result.exit_code == 0, result.output
    assert "Removed 3 expired sign-in sessions." in result.output
    db.session.expire_all()
    assert {row.token_hash for row in sessions_of(user)} == {n for n, case in cases.items() if not case[3]}
    assert [e.after for e in events("auth.sessions_pruned")] == [{"count": 3}]


# --- sign-in throttling behind a reverse proxy -------------------------------------------------------------


def _fail_sign_in(client, email, *, addr, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/login",
        data={"email": email, "password": "wrong password"},
        environ_base={"REMOTE_ADDR": addr},
        headers=headers,
    )


def test_the_address_limit_believes_x_forwarded_for_only_from_configured_proxies(
    app, client, monkeypatch, make_user
):
    """Clients connecting directly (0 trusted proxies, the default) cannot escape the per-address limit by
    forging X-Forwarded-For. Behind one trusted proxy every client has a limit of its own, keyed on the
    address the proxy saw (the last one in the header, whatever the client put before it)."""
    # real accounts: an unknown address is checked against a full-cost dummy hash, slow under the suite
    emails = [make_user(email=f"spray-{i}@example.org").email for i in range(33)]

    # 0 trusted proxies: one connecting address, thirty different forged headers, still one limit
    for i in range(30):
        response = _fail_sign_in(client, emails[i], addr="10.7.7.7", forwarded=f"198.51.100.{i}")
        assert response.status_code == 400
    assert _fail_sign_in(client, emails[30], addr="10.7.7.7", forwarded="198.51.100.200").status_code == 429

    # 1 trusted proxy: everyone arrives from the proxy's address, each client is counted on its own
    limiter.reset()
    monkeypatch.setitem(app.config, "TRACKER_TRUSTED_PROXIES", 1)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # put back the unwrapped app afterwards
    trust_proxies(app)
    proxy = "127.0.0.1"
    for i in range(30):
        assert _fail_sign_in(client, emails[i], addr=proxy, forwarded="203.0.113.1").status_code == 400
    assert _fail_sign_in(client, emails[30], addr=proxy, forwarded="203.0.113.1").status_code == 429
    # the throttled client gains nothing by sending its own header in front of the proxy's
    forged = _fail_sign_in(client, emails[31], addr=proxy, forwarded="192.0.2.9, 203.0.113.1")
    assert forged.status_code == 429
    # another client behind the same proxy is not locked out, and its own address is what gets recorded
    assert _fail_sign_in(client, emails[32], addr=proxy, forwarded="203.0.113.2").status_code == 400
    user = make_user()
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": proxy},
        headers={"X-Forwarded-For": "203.0.113.2"},
    )
    assert response.status_code == 302
    assert only_session(user).ip == "203.0.113.2"
    # a forwarded "address" that is not one (too many proxies trusted) falls back to the connecting address
    other = make_user()
    response = client.post(
        "/login",
        data={"email": other.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": proxy},
        headers={"X-Forwarded-For": "x" * 300},
    )
    assert response.status_code == 302
    assert only_session(other).ip == proxy


def test_the_proxy_and_session_settings_are_read_and_impossible_values_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_TRUSTED_PROXIES", "2")
    assert build_config(tmp_path, {"SECRET_KEY": "k"})["TRACKER_TRUSTED_PROXIES"] == 2
    monkeypatch.delenv("TRACKER_TRUSTED_PROXIES")
    assert build_config(tmp_path, {"SECRET_KEY": "k"})["TRACKER_TRUSTED_PROXIES"] == 0

    monkeypatch.setenv("TRACKER_SESSION_IDLE_MINUTES", "0")
    with pytest.raises(ConfigError, match="TRACKER_SESSION_IDLE_MINUTES"):
        build_config(tmp_path, {"SECRET_KEY": "k"})

    class FakeApp:
        config = {"TRACKER_TRUSTED_PROXIES": -1}
        wsgi_app = None

    with pytest.raises(ConfigError, match="TRACKER_TRUSTED_PROXIES"):
        trust_proxies(FakeApp())


# --- password strength -------------------------------------------------------------------------------------

NAME = "Priya Raman"
EMAIL = "priya.raman@example.org"
SCHOOL = "Hillcrest Collegiate"
WEAK = {  # password: the reason the page must give
    "password12": "This is a very common password.",
    "qwertyuiop": "This is a top-100 common password.",
    "abcdefghij12": 'Sequences like "abc" or "6543" are easy to guess.',
    EMAIL: "It contains your name, your e-mail address or the school's name",
    "priyaraman2024": "It contains your name, your e-mail address or the school's name",
    "hillcrest collegiate": "It contains your name, your e-mail address or the school's name",
}


@pytest.fixture(params=["invitation", "reset", "change"])
def choose_password(request, app, make_school, make_member, make_user):
    """One of the three pages where a password is chosen, as a function (password) -> (response, chosen?)
    that may be called again after a refusal (same invitation, same reset link, same signed-in browser)."""
    school = make_school(name=SCHOOL)
    if request.param == "invitation":
        issued = invite(school, email=EMAIL, role="staff")
        db.session.commit()
        url, browser, data = f"/invitations/{issued.token}", app.test_client(), {"name": NAME}
    else:
        user = make_user(email=EMAIL, name=NAME)
        make_member(school, "staff", user=user)
        if request.param == "reset":
            url, browser, data = f"/password/reset/{make_reset_token(user)}", app.test_client(), {}
        else:
            url, browser, data = "/account/password", signed_in_browser(app, user), {"current": PASSWORD}

    def choose(password):
        response = browser.post(url, data={**data, "password": password, "confirm": password})
        db.session.expire_all()
        user = db.session.execute(sa.select(User).where(User.email == EMAIL)).scalar_one_or_none()
        return response, user is not None and check_password(user, password)

    return choose


def test_a_guessable_password_is_refused_with_the_reason_on_the_page_and_a_good_one_accepted(choose_password):
    """Common passwords, keyboard and letter sequences, one's own e-mail address, name or school: each is
    refused (400, nothing saved) and the page says why; a passphrase is then accepted on the same page."""
    for password, reason in WEAK.items():
        response, chosen = choose_password(password)
        assert response.status_code == 400, password
        assert not chosen, password
        text = page_text(response)
        assert "This password is too easy to guess." in text, password
        assert reason in text, password
    response, chosen = choose_password(STRONG)
    assert response.status_code == 302 and chosen


@pytest.mark.parametrize("password", [PASSWORD, "browser-demo-password", "3fa9c1-0b7e42-d95a06"])
def test_the_suite_and_demo_passwords_pass_the_check_that_common_ones_fail(password):
    """The tests' PASSWORD, the browser tests' TRACKER_DEMO_PASSWORD and a password of the shape demo.py
    generates (three groups of six hex digits) pass, for the demo's own lead, where "password12" fails."""
    inputs = strength_inputs("lead@demo.example", "Dana Lead", "Riverside International School (demo)")
    assert password_problem(password, inputs) is None
    assert password_problem("password12", inputs) is not None


def test_make_admin_refuses_a_guessable_password(app):
    runner = app.test_cli_runner()
    args = ["users", "make-admin", "--email", "ops@example.org", "--password"]
    result = runner.invoke(args=[*args, "password12"])
    assert result.exit_code == 2
    assert "This password is too easy to guess. This is a very common password." in result.output
    assert db.session.execute(sa.select(User).where(User.email == "ops@example.org")).first() is None
    result = runner.invoke(args=[*args, STRONG])
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "ops@example.org", STRONG).status_code == 302


def test_the_sign_in_page_states_how_long_keep_me_signed_in_lasts(client, app, monkeypatch):
    """The checkbox promises what the server enforces (TRACKER_SESSION_MAX_DAYS), not a fixed 14 days."""
    from datetime import timedelta

    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_DURATION", timedelta(days=3))
    page = client.get("/login").get_data(as_text=True)
    assert "Keep me signed in on this device for 3 days" in page
