"""My sessions (/account/sessions): every signed-in device of the user, in words, with its address and times,
this device marked; signing one out or all the others; audited; a revoked browser is signed out at its next
request; nobody reaches another person's sessions."""

import re

import pytest
import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.auth.devices import describe
from tracker.auth.models import LoginSession
from tracker.extensions import db

from .conftest import PASSWORD, audit_count

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    "agent,words",
    [
        (CHROME_WINDOWS, "Chrome on Windows"),
        (FIREFOX_MAC, "Firefox on macOS"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("", "Unknown browser"),
        ("x" * 300, "Unknown browser"),
    ],
)
def test_a_user_agent_is_named_in_words(agent, words):
    assert describe(agent) == words


def _browser(app, user, agent, ip="203.0.113.7"):
    browser = app.test_client()
    browser.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": ip})
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def _signed_out(browser):
    response = browser.get("/account")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _ids(page):
    return re.findall(r'data-session="([0-9a-f]+)"', page)


def test_the_page_lists_each_device_in_words_and_marks_this_one(app, make_user):
    user = make_user()
    laptop = _browser(app, user, CHROME_WINDOWS, ip="203.0.113.7")
    _browser(app, user, FIREFOX_MAC, ip="198.51.100.20")
    account = laptop.get("/account").get_data(as_text=True)
    assert 'href="/account/sessions"' in account
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert "Chrome on Windows" in page and "Firefox on macOS" in page
    assert "203.0.113.7" in page and "198.51.100.20" in page
    assert page.count("This device") == 1
    # this device comes first and has no "Sign out" button of its own
    first_row = page.split('data-session="')[1].split("</tr>")[0]
    assert "Chrome on Windows" in first_row and "This device" in first_row and "<form" not in first_row
    assert "Sign out all other devices" in page
    assert len(_ids(page)) == 2


def test_signing_out_another_device_ends_it_at_its_next_request_and_is_audited(app, make_user):
    user = make_user()
    laptop = _browser(app, user, CHROME_WINDOWS)
    phone = _browser(app, user, SAFARI_IPHONE)
    assert not _signed_out(phone)
    page = laptop.get("/account/sessions").get_data(as_text=True)
    [other] = [
        sid for sid in _ids(page) if "Safari on iPhone" in page.split(f'data-session="{sid}"')[1][:300]
    ]
    response = laptop.post(f"/account/sessions/{other}/revoke")
    assert response.status_code == 302
    assert "Safari on iPhone is signed out" in laptop.get("/account/sessions").get_data(as_text=True)
    assert _signed_out(phone)
    assert not _signed_out(laptop)
    [event] = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.session_revoked")
    ).scalars()
    assert str(event.subject_id) == str(user.id)
    assert "Safari on iPhone" in str(event.before)


def test_sign_out_all_other_devices_keeps_only_this_one(app, make_user):
    user = make_user()
    laptop = _browser(app, user, CHROME_WINDOWS)
    others = [_browser(app, user, FIREFOX_MAC), _browser(app, user, SAFARI_IPHONE)]
    response = laptop.post("/account/sessions/revoke-others")
    assert response.status_code == 302
    assert "Signed out 2 other devices" in laptop.get("/account/sessions").get_data(as_text=True)
    assert all(_signed_out(b) for b in others)
    assert not _signed_out(laptop)
    rows = db.session.execute(sa.select(LoginSession).where(LoginSession.user_id == user.id)).scalars()
    assert len(list(rows)) == 1
    events = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.session_revoked")
    ).scalars()
    assert len(list(events)) == 2
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert "Only this device is signed in" in page


def test_nobody_signs_out_someone_elses_session_or_this_device_from_the_list(app, make_user):
    alice, bob = make_user(), make_user()
    alice_browser = _browser(app, alice, CHROME_WINDOWS)
    bob_browser = _browser(app, bob, FIREFOX_MAC)
    [bobs] = _ids(bob_browser.get("/account/sessions").get_data(as_text=True))
    before = audit_count()
    response = alice_browser.post(f"/account/sessions/{bobs}/revoke", follow_redirects=True)
    assert response.status_code == 200
    assert "already ended" in response.get_data(as_text=True)
    assert not _signed_out(bob_browser)
    [own] = _ids(alice_browser.get("/account/sessions").get_data(as_text=True))
    response = alice_browser.post(f"/account/sessions/{own}/revoke", follow_redirects=True)
    assert "That is this device" in response.get_data(as_text=True)
    assert not _signed_out(alice_browser)
    assert audit_count() == before


def test_the_pages_need_a_signed_in_user_and_a_csrf_token(app, make_user):
    anonymous = app.test_client()
    for method, url in (
        ("get", "/account/sessions"),
        ("post", "/account/sessions/revoke-others"),
        ("post", "/account/sessions/abc/revoke"),
    ):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    user = make_user()
    laptop = _browser(app, user, CHROME_WINDOWS)
    phone = _browser(app, user, SAFARI_IPHONE)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert laptop.post("/account/sessions/revoke-others").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert not _signed_out(phone)
