"""Demo reminders for `make run`: every demo member has a calendar link, and the outbox shows sent, pending
and failed digests built from the demo school's real data. Idempotent."""

from datetime import timedelta

from sqlalchemy import select

from ..db import db, utcnow
from ..links import links_context
from ..reminders import calendar as feeds
from ..reminders.digest import (
    CATCH_UP_DAYS,
    collect_lines,
    load_school_data,
    render_message,
    training_activities,
)
from ..reminders.models import FAILED, PENDING, SENT, OutboxMessage
from ..tenancy import ACCREDITOR, Membership

#: how the demo digests end up, in turn: a lead sees every state of the outbox
OUTCOMES = [
    (SENT, ""),
    (PENDING, "451 4.7.1 Greylisted: please try again later"),
    (FAILED, "550 5.1.1 Recipient address rejected: mailbox unavailable"),
    (SENT, ""),
]


def load_demo_reminders(school) -> None:
    members = (
        db.session.execute(
            select(Membership).where(Membership.school_id == school.id, Membership.role != ACCREDITOR)
        )
        .scalars()
        .all()
    )
    for membership in members:
        if feeds.feed_for(school, membership.user) is None:
            feeds.new_feed(school, membership.user)
    has_demo = db.session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.school_id == school.id, OutboxMessage.idempotency_key.like("demo:%"))
        .limit(1)
    ).first()
    if has_demo:
        return
    now = utcnow()
    today = school.today()
    data = load_school_data(school, today)
    lines = collect_lines(data, today - timedelta(days=CATCH_UP_DAYS), today, training_activities())
    chosen = [uid for uid in data["recipients"] if lines.get(uid)]
    with links_context():
        for n, uid in enumerate(sorted(chosen, key=lambda u: data["recipients"][u].email)):
            status, error = OUTCOMES[n % len(OUTCOMES)]
            row = render_message(
                school,
                data["recipients"][uid],
                lines[uid],
                today - timedelta(days=1),
                now - timedelta(days=1),
            )
            row.update(
                idempotency_key=f"demo:{uid}",
                status=status,
                last_error=error,
                attempts=0 if status == PENDING and not error else 1,
            )
            if status == SENT:
                row["sent_at"] = now - timedelta(days=1) + timedelta(minutes=1)
            if status == PENDING:
                row["next_attempt_at"] = now + timedelta(hours=2)
            db.session.add(OutboxMessage(**row))
    db.session.flush()
