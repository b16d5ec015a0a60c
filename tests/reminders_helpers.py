"""Helpers for the reminder tests: items, people and the queued digests of a school."""

from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.reminders.models import OutboxMessage
from tracker.tracking.models import Item


def add_item(
    school, title, due_on: date, owner=None, owner_role="lead", status="not_started", person=None, kind="own"
):
    item = Item(
        school_id=school.id,
        kind=kind,
        title=title,
        due_on=due_on,
        owner_id=owner.id if owner else None,
        owner_role=owner_role,
        status=status,
        person_id=person.id if person else None,
        check_status="not_started" if person else None,
    )
    db.session.add(item)
    db.session.commit()
    return item


def add_person(school, name, start_on: date, user=None, category="teaching"):
    from tracker.people.models import Person

    person = Person(
        school_id=school.id,
        full_name=name,
        email=None,
        category=category,
        groups=[],
        start_on=start_on,
        countries=[],
        user_id=user.id if user else None,
    )
    db.session.add(person)
    db.session.commit()
    return person


def digests(school) -> dict:
    """{e-mail address: message} of the school's queued messages."""
    rows = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.school_id == school.id)).scalars().all()
    )
    out = {}
    for m in rows:
        assert m.to_address not in out, f"two messages for {m.to_address}"
        out[m.to_address] = m
    return out
