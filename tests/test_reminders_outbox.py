"""Delivery through the outbox over real SMTP (aiosmtpd on 127.0.0.1): once each, retried, or failed for
good."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.reminders.digest import run_daily_digests
from tracker.reminders.models import FAILED, PENDING, SENT, OutboxMessage
from tracker.reminders.outbox import MAX_ATTEMPTS, send_pending

from .reminders_helpers import add_item
from .smtp_server import SMTPServer, free_port

pytestmark = pytest.mark.smtp

MORNING = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@pytest.fixture
def smtp_settings(app, monkeypatch):
    """Point the app at a port on 127.0.0.1 (nothing listens there until a test starts a server)."""
    port = free_port()
    for name, value in {
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(port),
        "TRACKER_SMTP_TLS": "none",
        "TRACKER_SMTP_FROM": "Tracker <tracker@example.org>",
        "TRACKER_SMTP_TIMEOUT": "5",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    return port


@pytest.fixture
def queued(make_school, make_member):
    """A Bangkok school whose lead, HR and staff member each have one digest queued for 23 November."""
    school = make_school(timezone="Asia/Bangkok")
    members = {role: make_member(school, role) for role in ("lead", "hr", "staff")}
    for role, m in members.items():
        add_item(school, f"{role} item", TODAY, owner=m.user, owner_role=role)
    with time_machine.travel(MORNING, tick=False):
        assert run_daily_digests().messages == 3
    return school, members


def _messages(school):
    return {
        m.to_address: m
        for m in db.session.execute(
            select(OutboxMessage).where(OutboxMessage.school_id == school.id)
        ).scalars()
    }


def test_each_pending_message_is_delivered_once_as_html_and_plain_text(queued, smtp_settings):
    school, members = queued
    with SMTPServer(port=smtp_settings) as server:
        first = send_pending(now=MORNING)
        again = send_pending(now=MORNING + timedelta(hours=1))
    assert (first.sent, again.sent) == (3, 0)
    received = server.recorder.received
    assert sorted(rcpt for _, rcpt, _ in received) == sorted(m.user.email for m in members.values())
    assert len({mid for mid, _, _ in received}) == 3
    parsed = received[0][2]
    assert parsed.is_multipart()
    assert {part.get_content_type() for part in parsed.walk()} >= {"text/plain", "text/html"}
    assert all(m.status == SENT and m.sent_at is not None for m in _messages(school).values())


def test_while_smtp_is_down_messages_wait_and_pages_still_load_then_each_is_delivered_once(
    queued, smtp_settings, login_as
):
    school, members = queued
    down = send_pending(now=MORNING)  # nothing listens on the port: connection refused
    assert (down.sent, down.retrying, down.failed) == (0, 3, 0)
    waiting = _messages(school)
    assert all(
        m.status == PENDING and "could not reach the SMTP server" in m.last_error for m in waiting.values()
    )
    assert all(m.next_attempt_at > MORNING for m in waiting.values())

    page = login_as(members["lead"]).get(f"/s/{school.slug}/reminders/outbox")
    assert page.status_code == 200 and "could not reach the SMTP server" in page.get_data(as_text=True)

    with SMTPServer(port=smtp_settings) as server:
        assert send_pending(now=MORNING + timedelta(seconds=30)).sent == 0, "backoff: not yet"
        assert send_pending(now=MORNING + timedelta(hours=1)).sent == 3
        assert send_pending(now=MORNING + timedelta(hours=2)).sent == 0
    ids = server.recorder.message_ids()
    assert len(ids) == 3 and len(set(ids)) == 3


def test_a_4xx_reply_is_retried_later_and_then_delivered(queued, smtp_settings):
    school, members = queued
    staff_email = members["staff"].user.email
    with SMTPServer(port=smtp_settings) as server:
        server.recorder.rcpt_replies[staff_email] = ["451 4.7.1 Greylisted, try again later", "accept"]
        first = send_pending(now=MORNING)
        assert (first.sent, first.retrying) == (2, 1)
        staff = _messages(school)[staff_email]
        assert staff.status == PENDING and staff.last_error.startswith("451")
        assert send_pending(now=MORNING + timedelta(minutes=2)).sent == 1
    assert sorted(server.recorder.message_ids()) == sorted(set(server.recorder.message_ids()))
    assert [rcpt for _, rcpt, _ in server.recorder.received].count(staff_email) == 1
    assert _messages(school)[staff_email].status == SENT


def test_a_5xx_reply_fails_for_good_and_the_lead_sees_why_and_can_send_it_again(
    queued, smtp_settings, login_as, client
):
    school, members = queued
    staff_email = members["staff"].user.email
    with SMTPServer(port=smtp_settings) as server:
        server.recorder.rcpt_replies[staff_email] = ["550 5.1.1 No such mailbox", "accept"]
        report = send_pending(now=MORNING)
        assert (report.sent, report.failed) == (2, 1)
        assert send_pending(now=MORNING + timedelta(days=1)).sent == 0, "a permanent failure is not retried"
        failed = _messages(school)[staff_email]
        assert failed.status == FAILED and failed.last_error.startswith("550")

        assert (
            login_as(members["staff"])
            .post(f"/s/{school.slug}/reminders/outbox/{failed.id}/retry")
            .status_code
            == 403
        )
        login_as(members["lead"])
        page = client.get(f"/s/{school.slug}/reminders/outbox?status=failed").get_data(as_text=True)
        assert "550 5.1.1 No such mailbox" in page and staff_email in page and "Send again" in page
        response = client.post(f"/s/{school.slug}/reminders/outbox/{failed.id}/retry")
        assert response.status_code == 302
        db.session.expire_all()
        assert _messages(school)[staff_email].status == PENDING
        event = db.session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "reminders.message_retried", AuditEvent.school_id == school.id
            )
        ).scalar_one()
        assert event.before["status"] == FAILED and event.after["status"] == PENDING
        assert send_pending().sent == 1
    assert [rcpt for _, rcpt, _ in server.recorder.received].count(staff_email) == 1


def test_a_message_that_keeps_getting_4xx_stops_after_the_set_number_of_attempts(queued, smtp_settings):
    school, members = queued
    staff_email = members["staff"].user.email
    moment = MORNING
    with SMTPServer(port=smtp_settings) as server:
        server.recorder.rcpt_replies[staff_email] = ["452 4.2.2 Mailbox full"]
        for _ in range(MAX_ATTEMPTS + 3):
            send_pending(now=moment)
            moment += timedelta(hours=2)
    message = _messages(school)[staff_email]
    assert message.status == FAILED and message.attempts == MAX_ATTEMPTS
    assert (
        message.last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
        and "452" in message.last_error
    )
