"""Sign-in and account security: throttling, revocable sessions, safe redirects, expiring access,
single-use links, password resets, rehashing and the audit record of sign-ins."""

import logging
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from argon2 import PasswordHasher

from tracker.audit import AuditEvent
from tracker.auth.models import LoginSession, User
from tracker.extensions import db
from tracker.reminders.models import OutboxMessage
from tracker.schools.models import Invitation
from tracker.schools.services import invite
from tracker.tenancy import Membership

from .conftest import CHEAP_HASHER, PASSWORD, login

HOST = "tracker.test"
NEW_PASSWORD = "a brand new long passphrase"


# --- helpers -----------------------------------------------------------------------------------------------


def post_login(client, email, password=PASSWORD, addr="10.0.0.1", remember=False, query=""):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login" + query, data=data, environ_base={"REMOTE_ADDR": addr})


def home(school):
    return f"/s/{school.slug}/"


def cookies_of(client):
    """The session and remember-me cookies the browser holds, by name."""
    found = {}
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name, domain=HOST)
        if cookie is not None:
            found[name] = cookie.value
    return found


def browser_with(app, cookies):
    """A fresh browser holding copies of someone else's cookies."""
    fresh = app.test_client()
    for name, value in cookies.items():
        fresh.set_cookie(name, value, domain=HOST)
    return fresh


def sends_to_login(response):
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def signed_in_browser(app, user, remember=False):
    browser = app.test_client()
    response = login(browser, user.email, remember=remember)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


@pytest.fixture
def mail_log(app, caplog, monkeypatch):
    """Capture the links the app "e-mails" (it writes them to its log). Running the migrations in the test
    session (alembic's fileConfig) disables the app's logger, so switch it back on for this test."""
    monkeypatch.setattr(app.logger, "disabled", False)
    caplog.set_level(logging.WARNING, logger=app.logger.name)
    return caplog


def logged_link(caplog, path_prefix):
    """The last link of this kind e-mailed (queued in the outbox); never in the log."""
    query = sa.select(OutboxMessage.body_text).order_by(OutboxMessage.created_at)
    pattern = r"https?://\S+" + re.escape(path_prefix) + r"\S+"
    links = [link for body in db.session.execute(query).scalars() for link in re.findall(pattern, body)]
    assert links, f"no {path_prefix} link was e-mailed"
    assert path_prefix not in caplog.text, "the log must not keep a one-time link"
    return urlsplit(links[-1]).path


def events(action):
    return (
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        .scalars()
        .all()
    )


# --- login throttling --------------------------------------------------------------------------------------


def test_the_sixth_failed_attempt_for_one_account_is_refused_even_from_a_new_address(client, make_user):
    """Five wrong passwords for one e-mail lock that account's sign-in for a while, whichever address
    the next attempt comes from (an attacker rotating IPs gains nothing); other accounts are unaffected."""
    user = make_user(email="target@example.org")
    for i in range(5):
        response = post_login(client, user.email, "wrong password", addr=f"10.0.0.{i + 1}")
        assert response.status_code == 400, f"attempt {i + 1}"
    response = post_login(client, "  TARGET@example.org ", "wrong password", addr="10.0.0.99")
    assert response.status_code == 429
    # even the right password is refused while the account is throttled
    assert post_login(client, user.email, PASSWORD, addr="10.0.0.98").status_code == 429
    # another account from the same address still gets an ordinary answer
    other = make_user()
    assert post_login(client, other.email, "wrong password", addr="10.0.0.99").status_code == 400


def test_many_accounts_tried_from_one_address_are_throttled(client, make_user):
    """Thirty failed sign-ins from one address (each for a different e-mail) and the address is refused;
    another address still gets through."""
    users = [make_user(email=f"spray-{i}@example.org") for i in range(31)]
    for user in users[:30]:
        assert post_login(client, user.email, "wrong password", addr="10.1.1.1").status_code == 400
    assert post_login(client, users[30].email, "wrong password", addr="10.1.1.1").status_code == 429
    assert post_login(client, users[30].email, "wrong password", addr="10.1.1.2").status_code == 400


def test_successful_sign_ins_do_not_count_towards_the_limit(app, make_user):
    """Signing in correctly many times is never throttled, and does not use up the failures allowed."""
    user = make_user()
    for i in range(8):
        assert post_login(app.test_client(), user.email, addr="10.2.2.2").status_code == 302, (
            f"sign-in {i + 1}"
        )
    browser = app.test_client()
    for _ in range(4):
        assert post_login(browser, user.email, "wrong password", addr="10.2.2.2").status_code == 400
    for _ in range(3):
        assert post_login(app.test_client(), user.email, addr="10.2.2.2").status_code == 302
    assert (
        post_login(browser, user.email, "wrong password", addr="10.2.2.2").status_code == 400
    )  # 5th failure
    assert post_login(browser, user.email, "wrong password", addr="10.2.2.2").status_code == 429  # 6th


def test_the_throttled_page_says_clearly_what_happened(client, make_user):
    user = make_user()
    for _ in range(5):
        post_login(client, user.email, "wrong password")
    response = post_login(client, user.email, "wrong password")
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many attempts" in body
    assert "wait a few minutes" in body
    assert "<html" in body  # a real page, not a bare error string


# --- revocation --------------------------------------------------------------------------------------------


def test_after_logout_the_old_session_and_remember_cookies_stop_working(app, make_school, make_member):
    """Copies of the cookies taken before signing out (session, remember-me, or both) give no access."""
    school = make_school()
    member = make_member(school, "staff")
    browser = signed_in_browser(app, member.user, remember=True)
    old = cookies_of(browser)
    assert set(old) == {"session", "remember_token"}
    # the copies work while the session is alive
    assert browser_with(app, old).get(home(school)).status_code == 200
    assert browser_with(app, {"remember_token": old["remember_token"]}).get(home(school)).status_code == 200

    assert browser.post("/logout").status_code == 302
    assert sends_to_login(browser.get(home(school)))
    for replay in (old, {"session": old["session"]}, {"remember_token": old["remember_token"]}):
        assert sends_to_login(browser_with(app, replay).get(home(school))), sorted(replay)


def test_a_password_change_signs_out_other_devices_but_not_this_one(app, make_school, make_member):
    """Another device's cookies (session and remember-me) stop working after a password change; the
    device that changed it stays signed in."""
    school = make_school()
    member = make_member(school, "staff")
    laptop = signed_in_browser(app, member.user, remember=True)
    phone = signed_in_browser(app, member.user, remember=True)
    phone_cookies = cookies_of(phone)
    assert phone.get(home(school)).status_code == 200

    response = laptop.post(
        "/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302

    assert laptop.get(home(school)).status_code == 200
    assert laptop.get("/account").status_code == 200
    assert sends_to_login(phone.get(home(school)))
    assert sends_to_login(browser_with(app, phone_cookies).get(home(school)))
    assert sends_to_login(
        browser_with(app, {"remember_token": phone_cookies["remember_token"]}).get(home(school))
    )


def test_a_wrong_current_password_changes_nothing(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "staff")
    laptop = signed_in_browser(app, member.user)
    phone = signed_in_browser(app, member.user)
    response = laptop.post(
        "/account/password",
        data={"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)
    assert phone.get(home(school)).status_code == 200
    assert login(app.test_client(), member.user.email).status_code == 302


def test_a_removed_members_old_cookies_stop_working(app, client, make_school, make_member):
    """When a lead removes a member, every browser of that member is signed out, cookies and all."""
    school = make_school()
    lead = make_member(school, "lead")
    member = make_member(school, "staff")
    browser = signed_in_browser(app, member.user, remember=True)
    old = cookies_of(browser)
    assert browser.get(home(school)).status_code == 200

    login(client, lead.user.email)
    assert client.post(f"/s/{school.slug}/members/{member.id}/remove").status_code == 302

    assert sends_to_login(browser.get(home(school)))
    assert sends_to_login(browser.get("/"))
    assert sends_to_login(browser_with(app, old).get("/"))
    assert sends_to_login(browser_with(app, {"remember_token": old["remember_token"]}).get("/"))


# --- open redirect -----------------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil",
    "http:evil.example",
    "\t//evil",
    "/\t/evil.example",
    " //evil.example",
    "///evil.example",
]


def _is_local(location):
    parts = urlsplit(location)
    return (
        parts.scheme in ("", "http", "https")
        and parts.netloc in ("", HOST)
        and parts.path.startswith("/")
        and not parts.path.startswith("//")
        and "\\" not in location
        and not any(ord(c) < 33 for c in location)
    )


@pytest.mark.parametrize(
    "raw_query",
    [f"next={quote(p, safe='')}" for p in HOSTILE_NEXT]
    + ["next=%2F%2Fevil.example", "next=%2F%5Cevil.example", "next=https:%2F%2Fevil.example"],
)
def test_sign_in_never_redirects_off_site(app, make_school, make_member, raw_query):
    """A `next` that points to another site (or a script) is ignored: after signing in, the browser
    goes to its home page on this site."""
    school = make_school()
    member = make_member(school, "staff")
    browser = app.test_client()
    page = browser.get(f"/login?{raw_query}").get_data(as_text=True)
    assert "evil" not in page  # the sign-in form does not carry the hostile target along

    response = post_login(browser, member.user.email, query=f"?{raw_query}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert _is_local(location), location
    assert urlsplit(location).path == "/"
    assert "evil" not in location

    # already signed in: the same link redirects at once, also only locally
    again = browser.get(f"/login?{raw_query}")
    assert again.status_code == 302
    assert _is_local(again.headers["Location"]) and "evil" not in again.headers["Location"]


def test_sign_in_honours_a_local_next_page(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    target = f"/s/{school.slug}/members"
    browser = app.test_client()
    bounced = browser.get(target)
    assert sends_to_login(bounced)
    assert parse_qs(urlsplit(bounced.headers["Location"]).query)["next"] == [target]
    response = post_login(browser, lead.user.email, query=f"?next={quote(target, safe='')}")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == target
    assert browser.get(urlsplit(response.headers["Location"]).path).status_code == 200


# --- expiring accreditor access ----------------------------------------------------------------------------


def test_an_accreditor_whose_access_ended_yesterday_gets_404(app, make_school, make_member):
    """At 08:00 on 16 June in Auckland (still 15 June in UTC), access that ended on 15 June is over."""
    with time_machine.travel(datetime(2030, 6, 15, 20, 0, tzinfo=UTC)):
        school = make_school(timezone="Pacific/Auckland")
        make_member(school, "lead")
        accreditor = make_member(school, "accreditor", access_until=date(2030, 6, 15))
        browser = signed_in_browser(app, accreditor.user)
        assert browser.get(home(school)).status_code == 404
        assert browser.get(f"/s/{school.slug}/items").status_code == 404
        assert school.name not in browser.get("/schools").get_data(as_text=True)


def test_an_accreditor_keeps_access_on_the_end_date_itself(app, make_school, make_member):
    """At 20:00 on 15 June in Los Angeles (already 16 June in UTC), access ending on 15 June still works;
    the next day it does not."""
    with time_machine.travel(datetime(2030, 6, 16, 3, 0, tzinfo=UTC)):
        school = make_school(timezone="America/Los_Angeles")
        make_member(school, "lead")
        accreditor = make_member(school, "accreditor", access_until=date(2030, 6, 15))
        browser = signed_in_browser(app, accreditor.user)
        assert browser.get(home(school)).status_code == 200
        assert school.name in browser.get("/schools").get_data(as_text=True)
    with time_machine.travel(datetime(2030, 6, 16, 8, 0, tzinfo=UTC)):  # 01:00 on 16 June in Los Angeles
        browser = signed_in_browser(app, accreditor.user)
        assert browser.get(home(school)).status_code == 404


# --- invitation links --------------------------------------------------------------------------------------


def _issue(school, email="newcomer@example.org", role="staff", **kwargs):
    issued = invite(school, email=email, role=role, **kwargs)
    db.session.commit()
    return f"/invitations/{issued.token}", issued.invitation


def _accept_as_new(browser, link, name="Nia Newcomer", password=NEW_PASSWORD):
    return browser.post(link, data={"name": name, "password": password, "confirm": password})


def _dead_link(response):
    return response.status_code == 404 and "no longer works" in response.get_data(as_text=True)


def test_an_invitation_creates_the_account_with_the_chosen_name_and_password(app, make_school):
    school = make_school()
    link, _ = _issue(school, role="hr")
    browser = app.test_client()
    assert browser.get(link).status_code == 200
    response = _accept_as_new(browser, link)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == home(school)
    assert browser.get(home(school)).status_code == 200  # signed in straight away

    db.session.expire_all()
    user = db.session.execute(sa.select(User).where(User.email == "newcomer@example.org")).scalar_one()
    assert user.name == "Nia Newcomer"
    membership = db.session.execute(sa.select(Membership).where(Membership.user_id == user.id)).scalar_one()
    assert (membership.school_id, membership.role) == (school.id, "hr")
    assert login(app.test_client(), "newcomer@example.org", NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "newcomer@example.org", "some other password").status_code == 400


def test_an_invitation_link_works_only_once(app, make_school):
    school = make_school()
    link, _ = _issue(school)
    assert _accept_as_new(app.test_client(), link).status_code == 302
    assert _dead_link(app.test_client().get(link))
    second = _accept_as_new(app.test_client(), link, name="Someone Else", password="another long password")
    assert _dead_link(second)
    db.session.expire_all()
    assert (
        db.session.execute(sa.select(User.name).where(User.email == "newcomer@example.org")).scalar_one()
        == "Nia Newcomer"
    )


def test_an_invitation_expires_after_the_configured_days(app, make_school):
    assert app.config["TRACKER_INVITE_DAYS"] == 7
    school = make_school()
    link, _ = _issue(school)
    now = datetime.now(UTC)
    with time_machine.travel(now + timedelta(days=6)):
        assert app.test_client().get(link).status_code == 200
    with time_machine.travel(now + timedelta(days=8)):
        assert _dead_link(app.test_client().get(link))
        assert _dead_link(_accept_as_new(app.test_client(), link))
    db.session.expire_all()
    assert (
        db.session.execute(sa.select(User).where(User.email == "newcomer@example.org")).scalar_one_or_none()
        is None
    )


def test_a_revoked_invitation_no_longer_works(app, client, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    link, invitation = _issue(school)
    login(client, lead.user.email)
    assert client.post(f"/s/{school.slug}/invitations/{invitation.id}/revoke").status_code == 302
    assert _dead_link(app.test_client().get(link))
    assert _dead_link(_accept_as_new(app.test_client(), link))


def test_an_existing_account_must_sign_in_then_accepts_with_a_post(app, make_school, make_user):
    """Someone who already has an account is sent to sign in; opening the link does not join them,
    pressing the accept button does. Nobody can set their password through the link."""
    school = make_school()
    user = make_user(email="known@example.org")
    link, _ = _issue(school, email="known@example.org", role="head")
    browser = app.test_client()

    response = browser.get(link)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    # an anonymous POST cannot take the account over by choosing a new password
    response = _accept_as_new(browser, link, password="attacker chosen password")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert login(app.test_client(), user.email, "attacker chosen password").status_code == 400

    response = post_login(browser, user.email, query="?next=" + quote(link, safe=""))
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == link
    page = browser.get(link)
    assert page.status_code == 200
    assert "Accept and join as known@example.org" in page.get_data(as_text=True)
    db.session.expire_all()
    membership_q = sa.select(Membership).where(
        Membership.user_id == user.id, Membership.school_id == school.id
    )
    assert db.session.execute(membership_q).scalar_one_or_none() is None  # GET alone does not join

    response = browser.post(link)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.execute(membership_q).scalar_one().role == "head"
    assert browser.get(home(school)).status_code == 200


def test_an_invitation_for_another_address_is_refused(app, make_school, make_user):
    school = make_school()
    intruder = make_user(email="intruder@example.org")
    link, _ = _issue(school, email="invitee@example.org")
    browser = signed_in_browser(app, intruder)
    response = browser.post(link)
    assert response.status_code == 400
    assert "This invitation is for invitee@example.org" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(sa.select(Membership).where(Membership.user_id == intruder.id)).first() is None
    assert browser.get(home(school)).status_code == 404
    # the invitation is still there for the right person
    assert app.test_client().get(link).status_code == 200


def test_inviting_someone_who_is_already_a_member_is_refused(client, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    member = make_member(school, "staff", email="already@example.org")
    login(client, lead.user.email)
    response = client.post(
        f"/s/{school.slug}/members/invite", data={"email": "Already@example.org", "role": "hr"}
    )
    assert response.status_code == 400
    assert f"already@example.org is already a member of {school.name}" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (
        db.session.execute(sa.select(Invitation).where(Invitation.email == "already@example.org")).first()
        is None
    )
    assert db.session.get(Membership, member.id).role == "staff"


# --- password reset ----------------------------------------------------------------------------------------


def test_the_forgot_password_form_answers_the_same_for_unknown_and_known_addresses(app, make_user, mail_log):
    """Whether or not the address has an account, the page says the same thing, so the form cannot be
    used to find out who has one; only the real account's mailbox gets a link."""
    make_user(email="known@example.org")
    answers = []
    for email in ("known@example.org", "nobody@example.org"):
        browser = app.test_client()
        response = browser.post("/password/forgot", data={"email": email})
        page = browser.get(response.headers["Location"])
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                page.status_code,
                page.get_data(as_text=True),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 302
    assert "If that address has an account" in answers[0][3]
    sent_to = db.session.execute(sa.select(OutboxMessage.to_address)).scalars().all()
    assert sent_to == ["known@example.org"]
    assert "/password/reset/" not in mail_log.text


def _reset_link(app, user, caplog):
    response = app.test_client().post("/password/forgot", data={"email": user.email})
    assert response.status_code == 302
    return logged_link(caplog, "/password/reset/")


def test_a_reset_link_works_once(app, make_user, mail_log):
    user = make_user()
    link = _reset_link(app, user, mail_log)
    browser = app.test_client()
    assert browser.get(link).status_code == 200
    response = browser.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert login(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), user.email, PASSWORD).status_code == 400

    assert _dead_link(app.test_client().get(link))
    again = app.test_client().post(
        link, data={"password": "third long password", "confirm": "third long password"}
    )
    assert _dead_link(again)
    assert login(app.test_client(), user.email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires_after_the_configured_minutes(app, make_user):
    from tracker.auth.services import make_reset_token

    assert app.config["TRACKER_RESET_MINUTES"] == 60
    user = make_user()
    link = f"/password/reset/{make_reset_token(user)}"
    now = datetime.now(UTC)
    with time_machine.travel(now + timedelta(minutes=58)):
        assert app.test_client().get(link).status_code == 200
    with time_machine.travel(now + timedelta(minutes=61)):
        assert _dead_link(app.test_client().get(link))
        response = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert _dead_link(response)
    assert login(app.test_client(), user.email, PASSWORD).status_code == 302


def test_a_password_reset_signs_out_every_old_session(app, make_school, make_member, mail_log):
    school = make_school()
    member = make_member(school, "staff")
    browser = signed_in_browser(app, member.user, remember=True)
    old = cookies_of(browser)
    link = _reset_link(app, member.user, mail_log)
    response = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert sends_to_login(browser.get(home(school)))
    assert sends_to_login(browser_with(app, old).get(home(school)))
    assert sends_to_login(browser_with(app, {"remember_token": old["remember_token"]}).get(home(school)))
    db.session.expire_all()
    assert (
        db.session.execute(sa.select(LoginSession).where(LoginSession.user_id == member.user_id)).first()
        is None
    )


# --- rehash on login ---------------------------------------------------------------------------------------


def test_a_hash_made_with_other_parameters_is_replaced_at_sign_in(client, make_user):
    old_hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2)
    user = make_user()
    user.password_hash = old_hasher.hash(PASSWORD)
    db.session.commit()
    before = user.password_hash
    assert CHEAP_HASHER.check_needs_rehash(before)

    assert login(client, user.email).status_code == 302
    db.session.expire_all()
    after = db.session.get(User, user.id).password_hash
    assert after != before
    assert not CHEAP_HASHER.check_needs_rehash(after)
    assert CHEAP_HASHER.verify(after, PASSWORD)


def test_a_current_hash_is_left_alone_and_a_failed_sign_in_does_not_rehash(client, make_user):
    user = make_user()
    current = user.password_hash
    assert login(client, user.email).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == current

    old_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2).hash(PASSWORD)
    db.session.get(User, user.id).password_hash = old_hash
    db.session.commit()
    assert login(client, user.email, "wrong password").status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash


# --- audit of sign-ins -------------------------------------------------------------------------------------


def test_sign_ins_and_failed_attempts_are_recorded_in_the_audit_trail(client, make_user):
    user = make_user(email="audited@example.org")
    assert post_login(client, "audited@example.org", "wrong password", addr="10.9.9.9").status_code == 400
    assert post_login(client, "ghost@example.org", "wrong password", addr="10.9.9.8").status_code == 400
    assert post_login(client, "audited@example.org", addr="10.9.9.7").status_code == 302
    db.session.expire_all()

    failed = [(e.actor_email, e.actor_id, e.ip) for e in events("auth.sign_in_failed")]
    assert failed == [("audited@example.org", None, "10.9.9.9"), ("ghost@example.org", None, "10.9.9.8")]
    [ok] = events("auth.sign_in")
    assert (ok.actor_email, ok.actor_id, ok.ip, ok.subject_id) == (
        "audited@example.org",
        user.id,
        "10.9.9.7",
        str(user.id),
    )
