"""The weekly group digest: to each holder of a group role, the schools of the group with new overdue items or
new gaps on the register this week. Queued through the reminders outbox (`mail.queue_mail`) after the daily
digests (the `digests_queued` signal); at most one per person, group and ISO week."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func

from ..auth.models import User
from ..db import db, utcnow
from ..group_access import GROUP_ROLE_LABELS, GroupMembership, SchoolGroup
from ..links import links_context
from ..mail import queue_mail
from ..reminders.models import OutboxMessage
from ..signals import digests_queued
from ..tenancy import School
from ..tracking.models import OPEN_STATUSES, Item

log = logging.getLogger(__name__)

KIND = "group_digest"


@dataclass
class SchoolNews:
    school: School
    overdue_items: int = 0
    overdue_checks: int = 0


@dataclass
class DigestReport:
    messages: int = 0
    groups: list = field(default_factory=list)


def week_key(today) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def news(group) -> list[SchoolNews]:
    """Schools of `group` with items or recruitment checks that fell overdue in the last seven days and are
    still open: two queries whatever the number of schools."""
    schools = (
        db.session.execute(
            db.select(School).where(School.group_id == group.id).order_by(School.name, School.id)
        )
        .scalars()
        .all()
    )
    if not schools:
        return []
    today = {s.id: s.today() for s in schools}
    latest = max(today.values())
    rows = db.session.execute(
        db.select(Item.school_id, Item.due_on, Item.person_id.is_not(None), func.count())
        .where(
            Item.school_id.in_(list(today)),
            Item.status.in_(OPEN_STATUSES),
            Item.due_on < latest,
            Item.due_on >= latest - timedelta(days=8),
        )
        .group_by(Item.school_id, Item.due_on, Item.person_id.is_not(None))
    ).all()
    found = {s.id: SchoolNews(s) for s in schools}
    for school_id, due_on, is_check, count in rows:
        t = today[school_id]
        if t - timedelta(days=7) <= due_on < t:
            if is_check:
                found[school_id].overdue_checks += count
            else:
                found[school_id].overdue_items += count
    return [n for n in found.values() if n.overdue_items or n.overdue_checks]


def queue_group_digests(now=None) -> DigestReport:
    """Queue this week's digest to every group role holder of a group with news who has not had it."""
    now = now or utcnow()
    report = DigestReport()
    week = week_key(now.date())
    sent = set(
        db.session.execute(
            db.select(OutboxMessage.idempotency_key).where(
                OutboxMessage.kind == KIND, OutboxMessage.created_at >= now - timedelta(days=8)
            )
        ).scalars()
    )
    groups = db.session.execute(db.select(SchoolGroup).order_by(SchoolGroup.slug)).scalars().all()
    with links_context():
        for group in groups:
            lines = news(group)
            if not lines:
                continue
            people = db.session.execute(
                db.select(GroupMembership.role, User)
                .join(User, User.id == GroupMembership.user_id)
                .where(GroupMembership.group_id == group.id, User.active.is_(True))
                .order_by(User.email)
            ).all()
            for role, user in people:
                key = f"group-digest:{group.id}:{user.id}:{week}"
                if key in sent:
                    continue
                queue_mail(
                    to=user.email,
                    subject=f"{group.name}: {len(lines)} school(s) with new overdue work this week",
                    template="groups/email/digest",
                    kind=KIND,
                    key=key,
                    user=user,
                    group=group,
                    role_label=GROUP_ROLE_LABELS[role],
                    lines=lines,
                    week=week,
                )
                report.messages += 1
            if report.messages:
                report.groups.append(group.slug)
    db.session.commit()
    return report


@digests_queued.connect
def queue_after_digests(_app) -> int:
    """The digest job's turn for the groups: returns how many messages were queued."""
    try:
        report = queue_group_digests()
    except Exception:  # the group digest must not stop the other mail of the job
        db.session.rollback()
        log.exception("group digests failed")
        return 0
    if report.messages:
        log.info("group digests: %s messages queued for %s groups", report.messages, len(report.groups))
    return report.messages
