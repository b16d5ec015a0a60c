"""Invitations and password resets arrive by e-mail through the outbox, over real SMTP (aiosmtpd): the
message names the school, who invited the person, the role and when the link expires, in text and HTML; its
link works (followed with the test client); the server log keeps no usable link (tracker/mail.py)."""

import logging
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.reminders.models import OutboxMessage
from tracker.reminders.outbox import send_pending
from tracker.tenancy import Membership

from .conftest import PASSWORD, login
from .smtp_server import SMTPServer, free_port

pytestmark = pytest.mark.smtp

NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture
def smtp_port(app, monkeypatch):
    port = free_port()
    settings = {
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(port),
        "TRACKER_SMTP_TLS": "none",
        "TRACKER_SMTP_FROM": "Tracker <tracker@example.org>",
        "TRACKER_SMTP_TIMEOUT": "5",
        "TRACKER_BASE_URL": "https://tracker.example.org",
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return port


@pytest.fixture
def full_log(app, caplog, monkeypatch):
    """Everything logged, at every level (the migrations' fileConfig switched the app's loggers off)."""
    monkeypatch.setattr(app.logger, "disabled", False)
    for name in ("tracker", "tracker.mail", "tracker.auth.views", "tracker.schools.services"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.DEBUG)
    return caplog


def _deliver(port):
    with SMTPServer(port=port) as server:
        report = send_pending()
    assert report.failed == 0 and report.retrying == 0, report.errors
    return server.recorder.received


def _decoded(part):
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def _parts(message):
    text = html = None
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = _decoded(part)
        elif part.get_content_type() == "text/html":
            html = _decoded(part)
    return text, html


def _link(text, prefix):
    [link] = set(re.findall(r"https://tracker\.example\.org" + re.escape(prefix) + r"[A-Za-z0-9_.\-]+", text))
    return link


def test_an_invitation_arrives_by_email_and_its_link_makes_a_member(
    app, make_school, make_member, smtp_port, full_log
):
    school = make_school(name="Riverside Test School")
    lead = make_member(school, "lead", name="Lena Lead")
    browser = app.test_client()
    login(browser, lead.user.email)
    response = browser.post(
        f"/s/{school.slug}/members/invite", data={"email": "New.Teacher@example.org", "role": "staff"}
    )
    assert response.status_code == 302
    # the person who sent it sees it in the school's outbox before it goes
    outbox = browser.get(f"/s/{school.slug}/reminders/outbox").get_data(as_text=True)
    assert "new.teacher@example.org" in outbox and "Riverside Test School" in outbox

    received = _deliver(smtp_port)
    [(_mid, rcpt, message)] = received
    assert rcpt == "new.teacher@example.org"
    assert "Lena Lead" in message["Subject"] and "Riverside Test School" in message["Subject"]
    text, html = _parts(message)
    for body in (text, html):
        assert "Riverside Test School" in body
        assert "Lena Lead" in body and lead.user.email in body
        assert "Staff member" in body
        assert "expires on" in body
    link = _link(text, "/invitations/")
    assert link in html
    token = link.rsplit("/", 1)[1]
    assert token not in full_log.text and "/invitations/" not in full_log.text

    # follow the link: a new account, a member of the school
    newcomer = app.test_client()
    path = urlsplit(link).path
    assert newcomer.get(path).status_code == 200
    response = newcomer.post(
        path, data={"name": "Nia Newcomer", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith(f"/s/{school.slug}/")
    member = db.session.execute(
        sa.select(Membership).where(Membership.school_id == school.id, Membership.role == "staff")
    ).scalar_one()
    assert member.user.email == "new.teacher@example.org"
    assert token not in full_log.text
    sent = db.session.execute(sa.select(OutboxMessage).where(OutboxMessage.kind == "invitation")).scalar_one()
    assert sent.school_id == school.id and sent.status == "sent"


def test_an_accreditor_invitation_names_the_last_day_of_access(app, make_school, make_member, smtp_port):
    school = make_school()
    lead = make_member(school, "lead")
    browser = app.test_client()
    login(browser, lead.user.email)
    until = date.today() + timedelta(days=30)
    response = browser.post(
        f"/s/{school.slug}/members/invite",
        data={"email": "auditor@example.org", "role": "accreditor", "access_until": until.isoformat()},
    )
    assert response.status_code == 302
    [(_mid, _rcpt, message)] = _deliver(smtp_port)
    text, _html = _parts(message)
    assert "Accreditor (read-only)" in text and "lasts until" in text
    assert until.strftime("%-d %B %Y") in text


def test_the_invite_command_emails_the_invitation_and_prints_the_same_link(
    app, make_school, smtp_port, full_log
):
    school = make_school(name="Command Line School")
    result = app.test_cli_runner().invoke(
        args=["users", "invite", "--school", school.slug, "--email", "cli@example.org", "--role", "head"]
    )
    assert result.exit_code == 0, result.output
    printed = result.output.strip()
    [(_mid, rcpt, message)] = _deliver(smtp_port)
    text, _html = _parts(message)
    assert rcpt == "cli@example.org"
    assert _link(text, "/invitations/") == printed  # the operator's own terminal keeps the link
    assert "Command Line School" in text and "Head of school" in text
    assert "administrator of this Safeguarding Tracker" in text
    assert printed.rsplit("/", 1)[1] not in full_log.text


def test_a_password_reset_arrives_by_email_and_its_link_changes_the_password(
    app, make_school, make_member, smtp_port, full_log
):
    school = make_school(name="Reset School")
    member = make_member(school, "staff", name="Sam Staff")
    response = app.test_client().post("/password/forgot", data={"email": member.user.email.upper()})
    assert response.status_code == 302
    [(_mid, rcpt, message)] = _deliver(smtp_port)
    assert rcpt == member.user.email
    text, html = _parts(message)
    assert "Sam Staff" in text and "Reset School" in text and "60 minutes" in text
    link = _link(text, "/password/reset/")
    assert link in html
    token = link.rsplit("/", 1)[1]
    assert token not in full_log.text and "/password/reset/" not in full_log.text
    # a reset belongs to the person, not to a school: no school's outbox page shows it
    sent = db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "password_reset")
    ).scalar_one()
    assert sent.school_id is None and sent.status == "sent"

    browser = app.test_client()
    path = urlsplit(link).path
    assert browser.get(path).status_code == 200
    response = browser.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert login(app.test_client(), member.user.email, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), member.user.email, PASSWORD).status_code == 400
    actions = db.session.execute(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("auth.password_reset%"))
    ).scalars()
    assert set(actions) == {"auth.password_reset_requested", "auth.password_reset"}


def test_a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(
    app, make_user, smtp_port, full_log
):
    user = make_user()
    answers = []
    for email in (user.email, "nobody@example.org"):
        browser = app.test_client()
        response = browser.post("/password/forgot", data={"email": email})
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
        answers.append((response.status_code, response.headers["Location"], page))
    assert answers[0] == answers[1]
    received = _deliver(smtp_port)
    assert [rcpt for _, rcpt, _ in received] == [user.email]
    assert "nobody@example.org" not in full_log.text


def test_the_outbox_page_of_a_school_does_not_show_password_resets(app, make_school, make_member, smtp_port):
    school = make_school()
    lead = make_member(school, "lead")
    staff = make_member(school, "staff")
    app.test_client().post("/password/forgot", data={"email": staff.user.email})
    browser = app.test_client()
    login(browser, lead.user.email)
    page = browser.get(f"/s/{school.slug}/reminders/outbox").get_data(as_text=True)
    assert staff.user.email not in page
