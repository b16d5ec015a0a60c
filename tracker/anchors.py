"""The weekly audit-anchor e-mail: each school's leads are sent where its audit chain stands ("SEQ:HASH").

That copy of the chain head lives outside the database, so a later rewrite of the history, or events cut off
its end, is found by `flask --app tracker audit verify --school SLUG --anchor SEQ:HASH` even by someone who
holds the audit key. Anchors are also printed on every PDF report (templates/reports/pdf/).

The e-mail is an outbox message of its own kind ("audit_anchor"), one per lead and ISO week, queued by the
digest job after the digests (tracker/reminders/scheduler.py, through the `digests_queued` signal) from
Monday 07:00 school time, and sent by the outbox like any other message; the digest and outbox code know
nothing of it.
"""

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from flask import render_template, url_for
from sqlalchemy import or_, select

from . import audit
from .auth.models import User
from .db import db, new_id, utcnow
from .links import links_context
from .reminders.models import PENDING, OutboxMessage
from .reminders.outbox import with_write_retries
from .signals import digests_queued
from .tenancy import LEAD, Membership, School

log = logging.getLogger(__name__)

KIND = "audit_anchor"
#: the anchor goes out from this hour on the first day of the school's week (Monday)
ANCHOR_HOUR = 7
ANCHOR_WEEKDAY = 0


@dataclass
class AnchorReport:
    schools: int = 0
    messages: int = 0
    skipped: list = field(default_factory=list)


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def idempotency_key(week: str, user_id) -> str:
    return f"audit-anchor:{week}:{user_id}"


def _insert():
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(OutboxMessage)


def queue_anchor_mail(now: datetime | None = None, *, force: bool = False) -> AnchorReport:
    """Queue this week's anchor e-mail for every school that has not had it, once its Monday 07:00 has come
    (`force`: whatever the hour). Each school is its own transaction; one school's failure skips only it."""
    now = now or utcnow()
    report = AnchorReport()
    schools = db.session.execute(
        select(School.id, School.slug, School.name, School.timezone).order_by(School.slug)
    ).all()
    done = {
        (school_id, key.split(":")[1])
        for school_id, key in db.session.execute(
            select(OutboxMessage.school_id, OutboxMessage.idempotency_key).where(
                OutboxMessage.kind == KIND, OutboxMessage.created_at >= now - timedelta(days=8)
            )
        )
    }
    db.session.rollback()  # nothing is held open while schools are worked through one by one
    with links_context():  # every link on TRACKER_BASE_URL
        for school in schools:
            local = now.astimezone(zoneinfo.ZoneInfo(school.timezone))
            week = week_of(local.date())
            if (school.id, week) in done:
                continue
            if not force and local.weekday() == ANCHOR_WEEKDAY and local.hour < ANCHOR_HOUR:
                continue
            try:
                count = with_write_retries(partial(build_school_anchor_mail, school, now, local.date()))
            except Exception:  # one school's problem must not stop the others' anchors
                db.session.rollback()
                log.exception("audit anchor e-mail for %s failed", school.slug)
                report.skipped.append(school.slug)
                continue
            if count:
                report.schools += 1
                report.messages += count
    return report


def build_school_anchor_mail(school, now: datetime, today: date) -> int:
    """Queue the week's anchor e-mail to each active lead of the school; return how many. Flushes only."""
    anchor = audit.anchor(school)
    seq = int(anchor.split(":")[0])
    if seq == 0:
        return 0
    leads = db.session.execute(
        select(Membership.user_id, User.email, User.name)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.school_id == school.id,
            Membership.role == LEAD,
            User.active.is_(True),
            or_(Membership.access_until.is_(None), Membership.access_until >= today),
        )
        .order_by(User.email)
    ).all()
    if not leads:
        return 0
    week = week_of(today)
    context = {
        "school": school,
        "anchor": anchor,
        "seq": seq,
        "week": week,
        "taken_at": now,
        "audit_url": url_for("schools.audit_trail", school=school.slug, _external=True),
        "command": f"flask --app tracker audit verify --school {school.slug} --anchor {anchor}",
    }
    subject = f"{school.name}: audit trail anchor for week {week} (#{seq})"
    rows = [
        {
            "id": new_id(),
            "school_id": school.id,
            "idempotency_key": idempotency_key(week, lead.user_id),
            "kind": KIND,
            "user_id": lead.user_id,
            "to_address": lead.email,
            "subject": subject[:300],
            "body_text": render_template("audit/anchor_email.txt", name=lead.name or lead.email, **context),
            "body_html": render_template("audit/anchor_email.html", name=lead.name or lead.email, **context),
            "digest_on": today,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for lead in leads
    ]
    insert = _insert().on_conflict_do_nothing(index_elements=["school_id", "idempotency_key"])
    db.session.execute(insert, rows)
    return len(rows)


@digests_queued.connect
def queue_after_digests(_app) -> int:
    """The digest job's turn for the anchors: queue this week's anchor e-mail, after the digests; returns how
    many messages were queued."""
    report = queue_anchor_mail()
    if report.messages:
        log.info("audit anchors: %s messages queued for %s schools", report.messages, report.schools)
    return report.messages
