"""A message that cannot be built fails on its own, with the reason; the rest of its batch is delivered.

Whatever is stored (a line break in a school's name or in an address, written straight to the database past
every form), the outbox never stalls: the healthy messages claimed in the same batch reach the real SMTP test
server (aiosmtpd), the poisoned one is failed with a reason the lead can read, and nothing is left pending or
half-claimed.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from tracker.auth.models import User
from tracker.extensions import db
from tracker.reminders import digest
from tracker.reminders.digest import run_daily_digests
from tracker.reminders.models import FAILED, PENDING, SENDING, SENT, OutboxMessage
from tracker.reminders.outbox import send_pending
from tracker.tenancy import School

from .reminders_helpers import add_item
from .smtp_server import SMTPServer, free_port

pytestmark = pytest.mark.smtp

MORNING = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 in Bangkok
TODAY = date(2026, 11, 23)


@pytest.fixture
def smtp_port(app, monkeypatch):
    port = free_port()
    settings = {
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(port),
        "TRACKER_SMTP_TLS": "none",
        "TRACKER_SMTP_FROM": "Tracker <tracker@example.org>",
        "TRACKER_SMTP_TIMEOUT": "5",
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return port


def _school_with_digests(make_school, make_member, slug, roles=("lead", "hr", "staff")):
    school = make_school(slug=slug, timezone="Asia/Bangkok")
    members = {role: make_member(school, role) for role in roles}
    for role, member in members.items():
        add_item(school, f"{role} item", TODAY, owner=member.user, owner_role=role)
    return school, members


def _statuses(*schools):
    db.session.expire_all()
    rows = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.school_id.in_([s.id for s in schools])))
        .scalars()
        .all()
    )
    return {m.to_address: m for m in rows}


def test_a_message_that_cannot_be_built_fails_alone_and_the_rest_of_its_batch_is_sent(
    make_school, make_member, smtp_port, login_as, client
):
    poisoned, poisoned_members = _school_with_digests(make_school, make_member, "a-poisoned")
    healthy, healthy_members = _school_with_digests(make_school, make_member, "b-healthy")
    injected = healthy_members["staff"].user
    # stored past every form: a line break in a school's name (in every subject it sends) and in an address
    db.session.execute(update(School).where(School.id == poisoned.id).values(name="Riverside\nInternational"))
    db.session.execute(
        update(User)
        .where(User.id == injected.id)
        .values(email=f"{injected.email}\r\nBcc: everyone@example.org")
    )
    db.session.commit()
    with time_machine.travel(MORNING, tick=False):
        assert run_daily_digests().messages == 6
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.school_id == poisoned.id)
        .values(next_attempt_at=MORNING - timedelta(minutes=5))
    )  # claimed first in the batch
    db.session.commit()

    with SMTPServer(port=smtp_port) as server:
        report = send_pending(now=MORNING)  # one batch: the poisoned messages are claimed first
        later = send_pending(now=MORNING + timedelta(days=1))
    assert (later.sent, later.failed) == (0, 0), "a message that cannot be built stays failed"
    assert (report.sent, report.failed, report.retrying) == (2, 4, 0)
    delivered = sorted(rcpt for _, rcpt, _ in server.recorder.received)
    db.session.expire_all()
    assert delivered == sorted(m.user.email for role, m in healthy_members.items() if role != "staff")
    assert "everyone@example.org" not in delivered

    messages = _statuses(poisoned, healthy)
    assert not [m for m in messages.values() if m.status in (PENDING, SENDING)], "nothing is stuck or claimed"
    failed = [m for m in messages.values() if m.status == FAILED]
    assert len(failed) == 4 and all(m.claim_id is None for m in messages.values())
    assert all("could not be built" in m.last_error and "line break" in m.last_error for m in failed)
    assert all(m.status == SENT for m in messages.values() if m not in failed)

    login_as(poisoned_members["lead"])
    page = client.get(f"/s/{poisoned.slug}/reminders/outbox?status=failed")
    assert page.status_code == 200
    assert "This e-mail could not be built, so it was not sent" in page.get_data(as_text=True)


def test_a_digest_that_cannot_be_written_is_failed_with_the_reason_and_the_others_are_queued(
    make_school, make_member, smtp_port, monkeypatch, login_as, client
):
    school, members = _school_with_digests(make_school, make_member, "c-unwritable")
    broken = members["hr"].user
    render = digest.render_message

    def render_or_fail(school, recipient, *args):
        if recipient.user_id == broken.id:
            raise ValueError("year 10000 is out of range")  # whatever a stored value breaks while writing it
        return render(school, recipient, *args)

    monkeypatch.setattr(digest, "render_message", render_or_fail)
    with time_machine.travel(MORNING, tick=False):
        assert run_daily_digests().messages == 3
    messages = _statuses(school)
    unwritten = messages[broken.email]
    assert unwritten.status == FAILED and "This digest could not be written" in unwritten.last_error
    assert "year 10000 is out of range" in unwritten.last_error
    assert [m.status for m in messages.values()].count(PENDING) == 2

    login_as(members["lead"])
    assert client.post(f"/s/{school.slug}/reminders/outbox/{unwritten.id}/retry").status_code == 302
    with SMTPServer(port=smtp_port) as server:
        report = send_pending()  # Send again made it due from now
    assert (report.sent, report.failed) == (2, 1)  # Send again on it fails again: never an empty e-mail
    assert broken.email not in [rcpt for _, rcpt, _ in server.recorder.received]
    assert _statuses(school)[broken.email].status == FAILED
