"""Anchors: a school's audit chain head kept outside the database (on every PDF report, in a weekly e-mail
to its leads) and `audit verify --school --anchor` finding the rewrites the key alone cannot: the newest
events cut off with the head moved back, and a rewrite by someone who holds the key."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tracker import audit, audit_verify
from tracker.anchors import KIND, queue_anchor_mail
from tracker.audit import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db
from tracker.reminders.models import OutboxMessage
from tracker.schools.services import change_role, update_settings
from tracker.tenancy import Membership

from .reports_helpers import pdf_text, squash
from .test_audit_chain import EVENTS, HEADS, edited, rewrite, stored_rows

#: a Monday; 01:30 UTC is 08:30 in Bangkok, after the anchor hour
MONDAY = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


@pytest.fixture
def school(make_school, make_member):
    """A school with a dozen events in its chain."""
    school = make_school(timezone="Asia/Bangkok")
    make_member(school, "lead")
    staff = make_member(school, "staff")
    for i in range(5):
        update_settings(school, name=f"Renamed {i}")
        change_role(school, staff, role="hr" if i % 2 == 0 else "staff")
    db.session.commit()
    return school


def cli(*args):
    from flask import current_app

    db.session.expire_all()
    return current_app.test_cli_runner().invoke(args=["audit", "verify", *args])


def more_events(school, n=3):
    for i in range(n):
        update_settings(school, name=f"Later change {i}")
    db.session.commit()


def cut_back_to(school, seq):
    """The attacker drops every event after `seq` and moves the head back onto event `seq`."""
    chain = str(school.id)
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.chain == chain, EVENTS.c.seq > seq))
    kept = db.session.execute(
        sa.select(EVENTS.c.hash).where(EVENTS.c.chain == chain, EVENTS.c.seq == seq)
    ).scalar()
    db.session.execute(sa.update(HEADS).where(HEADS.c.chain == chain).values(seq=seq, hash=kept))
    db.session.expire_all()


def test_an_intact_history_contains_its_anchors(school):
    early = audit.anchor(school)
    more_events(school)
    now = audit.anchor(school)
    seq, digest = now.split(":")
    assert int(seq) == int(early.split(":")[0]) + 3 and len(digest) == audit.ANCHOR_HASH_CHARS
    result = cli("--school", school.slug, "--anchor", early, "--anchor", now)
    assert result.exit_code == 0, result.output
    assert f"OK: anchor {early}: found" in result.output and f"OK: anchor {now}: found" in result.output
    assert f"chain intact up to #{seq}" in result.output


def test_the_newest_events_dropped_and_the_head_moved_back_are_caught_by_an_anchor(school):
    """(c) Truncation leaves a chain that verifies on its own (the key cannot see it): the anchor does."""
    before = audit.anchor(school)
    more_events(school, 4)
    anchor = audit.anchor(school)
    cut_back_to(school, int(before.split(":")[0]) + 1)
    assert audit_verify.verify_chains() == []  # a shorter but consistent chain: only an anchor can tell
    assert cli("--school", school.slug).exit_code == 0
    result = cli("--school", school.slug, "--anchor", before, "--anchor", anchor)
    assert result.exit_code == 1, result.output
    assert f"OK: anchor {before}: found" in result.output
    seq = int(anchor.split(":")[0])
    assert (
        f"TRUNCATED: anchor {anchor}: the chain now ends at #{seq - 3}, before the anchor's #{seq}"
        in result.output
    )
    assert "removed from the end" in result.output


def test_a_cut_history_that_has_grown_again_past_the_anchor_is_caught(school):
    anchor = audit.anchor(school)
    seq = int(anchor.split(":")[0])
    cut_back_to(school, seq - 2)
    more_events(school, 4)  # the app carries on, sealing new events with the real key
    assert audit_verify.verify_chains() == []
    result = cli("--school", school.slug, "--anchor", anchor)
    assert result.exit_code == 1, result.output
    assert f"REWRITTEN: anchor {anchor}: event #{seq} is not the event the anchor recorded" in result.output


def test_a_rewrite_by_someone_with_the_key_is_caught_by_an_anchor(school):
    """Whoever holds the key can re-seal an edited history so that it verifies; an anchor taken before it
    cannot be matched."""
    anchor = audit.anchor(school)
    chain = str(school.id)
    rows = stored_rows(chain)
    with_the_key = lambda event: event.digest()  # noqa: E731
    rewrite(chain, edited(rows, 3, actor_email="forger@example.org"), with_the_key, from_seq=4)
    assert audit_verify.verify_chains() == []
    result = cli("--school", school.slug, "--anchor", anchor)
    assert result.exit_code == 1 and "REWRITTEN" in result.output, result.output


def test_an_anchor_on_a_chain_broken_after_it_fails_too(school):
    anchor = audit.anchor(school)
    more_events(school, 2)
    last = stored_rows(str(school.id))[-1]
    db.session.execute(sa.update(EVENTS).where(EVENTS.c.id == last["id"]).values(action="member.nothing"))
    result = cli("--school", school.slug, "--anchor", anchor)
    assert result.exit_code == 1
    assert f"BROKEN chain {school.id}: event {last['id']} (#{last['seq']})" in result.output
    assert (
        f"BROKEN: anchor {anchor}: event #{anchor.split(':')[0]} matches, but the chain does not verify"
        in result.output
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--anchor", "3:0123456789abcdef"], "--anchor needs --school"),
        (["--school", "no-such-school"], "no school 'no-such-school'"),
        (["--school", "{slug}", "--anchor", "12-0123456789abcdef"], "is not an anchor: give it as SEQ:HASH"),
        (["--school", "{slug}", "--anchor", "12:0123"], "is not an anchor"),
        (["--school", "{slug}", "--anchor", "0:0000000000000000"], "the anchor of an empty chain"),
    ],
)
def test_the_cli_explains_what_it_cannot_use(school, args, message):
    result = cli(*[a.format(slug=school.slug) for a in args])
    assert result.exit_code == 2
    assert message in result.output


def test_the_anchor_command_prints_where_the_chain_stands(app, school):
    result = app.test_cli_runner().invoke(args=["audit", "anchor", "--school", school.slug])
    assert result.exit_code == 0 and result.output.strip() == audit.anchor(school)
    head = db.session.get(audit.AuditHead, str(school.id))
    assert result.output.strip() == f"{head.seq}:{head.hash[:16]}"


# --- The weekly e-mail to the leads -------------------------------------------------------------------------


def anchor_messages(school):
    return (
        db.session.execute(
            sa.select(OutboxMessage)
            .where(OutboxMessage.school_id == school.id, OutboxMessage.kind == KIND)
            .order_by(OutboxMessage.to_address)
        )
        .scalars()
        .all()
    )


def test_the_leads_get_the_anchor_once_a_week_from_monday_morning(school, make_member):
    second_lead = make_member(school, "lead")
    make_member(school, "lead").user.active = False
    make_member(school, "head")
    make_member(school, "accreditor")
    db.session.commit()
    leads = sorted(
        db.session.execute(
            sa.select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.school_id == school.id, Membership.role == "lead", User.active.is_(True))
        ).scalars()
    )
    assert queue_anchor_mail(MONDAY - timedelta(hours=2)).messages == 0  # 06:30 in Bangkok: not yet
    anchor = audit.anchor(school)
    report = queue_anchor_mail(MONDAY)
    messages = anchor_messages(school)
    assert report.messages == len(messages) == 2
    assert second_lead.user.email in leads and [m.to_address for m in messages] == leads
    for message in messages:
        assert f"Audit anchor: {anchor}" in message.body_text and anchor in message.body_html
        command = f"flask --app tracker audit verify --school {school.slug} --anchor {anchor}"
        assert command in message.body_text
        seq = anchor.split(":")[0]
        assert message.subject == f"{school.name}: audit trail anchor for week 2026-W48 (#{seq})"
        assert message.status == "pending"
    more_events(school)
    assert queue_anchor_mail(MONDAY + timedelta(days=3)).messages == 0  # once a week, whatever has changed
    assert queue_anchor_mail(MONDAY, force=True).messages == 0
    report = queue_anchor_mail(MONDAY + timedelta(days=7))
    assert report.messages == 2
    newest = anchor_messages(school)
    assert len(newest) == 4 and sum(audit.anchor(school) in m.body_text for m in newest) == 2
    assert cli("--school", school.slug, "--anchor", anchor, "--anchor", audit.anchor(school)).exit_code == 0


def test_a_school_without_events_or_leads_gets_no_anchor_mail(make_school, make_member):
    school = make_school()
    make_member(school, "head")
    assert queue_anchor_mail(MONDAY).messages == 0
    assert anchor_messages(school) == []


@pytest.mark.smtp
def test_the_anchor_mail_is_sent_by_the_outbox_like_any_message(app, school, monkeypatch):
    from tracker.reminders.outbox import send_pending

    from .smtp_server import SMTPServer, free_port

    port = free_port()
    for name, value in {
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_PORT": str(port),
        "TRACKER_SMTP_TLS": "none",
        "TRACKER_SMTP_FROM": "Tracker <tracker@example.org>",
        "TRACKER_SMTP_TIMEOUT": "5",
    }.items():
        monkeypatch.setitem(app.config, name, value)
    anchor = audit.anchor(school)
    assert queue_anchor_mail(MONDAY).messages == 1
    with SMTPServer(port=port) as server:
        assert send_pending(now=MONDAY).sent == 1
    [(_, rcpt, parsed)] = server.recorder.received
    [plain] = [part for part in parsed.walk() if part.get_content_type() == "text/plain"]
    assert rcpt == anchor_messages(school)[0].to_address
    assert f"Audit anchor: {anchor}" in plain.get_payload(decode=True).decode()
    assert [m.status for m in anchor_messages(school)] == ["sent"]


def test_the_digest_job_queues_the_anchor_mail(app, school, monkeypatch):
    from tracker.reminders import scheduler

    calls = []
    monkeypatch.setattr(
        "tracker.anchors.queue_anchor_mail",
        lambda: calls.append(1) or type("R", (), {"messages": 0, "schools": 0})(),
    )
    monkeypatch.setattr(
        "tracker.reminders.digest.run_daily_digests", lambda: type("R", (), {"messages": 0, "schools": 0})()
    )
    scheduler.build_digests_job(app)
    assert calls == [1]


# --- On every PDF report ------------------------------------------------------------------------------------


def _pdf(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data()


def test_every_report_page_carries_the_anchor_and_the_signed_report_its_sign_off_anchor(app):
    from pypdf import PdfReader

    from tracker.reports.models import Report

    from .sign_off_helpers import sign_off
    from .world import build_worlds, sign_in

    a, _ = build_worlds()
    base = f"/s/{a.school.slug}/reports"
    lead = sign_in(app.test_client(), a.members["lead"].user)
    anchor = audit.anchor(a.school)
    register = _pdf(lead, f"{base}/years/{a.objects['year_id']}/register.pdf")
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(register)).pages]
    assert pages and all(f"Auditanchor{anchor}" in page for page in pages)

    head = sign_in(app.test_client(), a.members["head"].user)
    assert sign_off(head, a.school.slug, a.objects["year_id"]).status_code == 302
    db.session.expire_all()
    frozen = (
        db.session.execute(
            sa.select(Report).where(
                Report.school_id == a.school.id, Report.frozen.is_(True), Report.id != a.objects["report_id"]
            )
        )
        .scalars()
        .one()
    )
    pdf = _pdf(head, f"{base}/files/{frozen.id}")
    text = pdf_text(pdf)
    signed_anchor = re.search(r"Audittrailatsign-off:anchor(\d+:[0-9a-f]{16})", text).group(1)
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 2 and all(f"Auditanchor{signed_anchor}" in page for page in pages)
    # the anchor printed at sign-off is in the school's history, after the head's sign-off was recorded (the
    # report is made after it, by a job; the year is signed off when the report is stored)
    signoff = db.session.execute(
        sa.select(AuditEvent.seq).where(
            AuditEvent.school_id == a.school.id, AuditEvent.action == "year.sign_off_requested"
        )
    ).scalar()
    assert signoff is not None and signoff <= int(signed_anchor.split(":")[0])
    result = cli("--school", a.school.slug, "--anchor", signed_anchor, "--anchor", anchor)
    assert result.exit_code == 0, result.output


def test_the_audit_page_shows_the_anchor_to_keep_and_how_to_check_it(school, login_as):
    """The lead can take an anchor from the audit page too, and it verifies."""
    lead = db.session.scalars(
        sa.select(Membership).where(Membership.school_id == school.id, Membership.role == "lead")
    ).first()
    page = login_as(lead).get(f"/s/{school.slug}/audit").get_data(as_text=True)
    shown = re.search(r'<code class="anchor">(\d+:[0-9a-f]+)</code>', page).group(1)
    assert shown == audit.anchor(school)
    assert f"--anchor {shown}" in page
    assert cli("--school", school.slug, "--anchor", shown).exit_code == 0
