"""What the staff register asks of a member, for "Waiting for you" (tracker/waiting.py): risk assessments
waiting for the head's signature, and recruitment checks due before a person's start date that are not done
(HR and the leads)."""

from flask import url_for
from sqlalchemy import func, or_

from ..db import db
from ..signals import waiting_for
from ..tenancy import HEAD, HR, LEAD
from ..tracking.models import OPEN_STATUSES, Item, ItemKind
from ..waiting import WaitingLine, per_school
from .models import Person, RiskAssessment

#: who records recruitment checks and hears of the ones still open before a start date
CHECKERS = (HR, LEAD)


def _current(school, today):
    """Criteria: an open check of someone on the register who has not left."""
    return (
        Item.school_id == school.id,
        Item.kind == ItemKind.CHECK,
        Item.status.in_(OPEN_STATUSES),
        Person.id == Item.person_id,
        Person.school_id == school.id,
        or_(Person.leave_on.is_(None), Person.leave_on >= today),
    )


def _unsigned(school, today):
    """(risk assessments waiting for a signature, a person (id) and check (id) of the first): one query."""
    row = db.session.execute(
        db.select(Item.person_id, Item.id, func.count().over())
        .select_from(RiskAssessment)
        .join(Item, Item.id == RiskAssessment.item_id)
        .join(Person, Person.id == Item.person_id)
        .where(
            RiskAssessment.school_id == school.id,
            RiskAssessment.signed_at.is_(None),
            *_current(school, today),
        )
        .order_by(RiskAssessment.written_at, RiskAssessment.id)
        .limit(1)
    ).first()
    return (row[2], row[0], row[1]) if row else (0, None, None)


def _before_start(school, today):
    """(open checks due on or before the person's start date and not covered by a signed risk assessment, how
    many people they are about, one of those people (id), the earliest due date): one query."""
    covered = db.select(RiskAssessment.item_id).where(
        RiskAssessment.school_id == school.id, RiskAssessment.signed_at.is_not(None)
    )
    per_person = (
        db.select(
            Item.person_id.label("person_id"), func.count().label("n"), func.min(Item.due_on).label("first")
        )
        .select_from(Item)
        .join(Person, Person.id == Item.person_id)
        .where(*_current(school, today), Item.due_on <= Person.start_on, Item.id.not_in(covered))
        .group_by(Item.person_id)
        .subquery()
    )
    row = db.session.execute(
        db.select(
            per_person.c.person_id,
            func.count().over(),
            func.sum(per_person.c.n).over(),
            func.min(per_person.c.first).over(),
        ).limit(1)
    ).first()
    return (int(row[2]), row[1], row[0], row[3]) if row else (0, 0, None, None)


@waiting_for.connect
def register_lines(school, member, today, **_):
    """The head: risk assessments to sign. HR and the leads: checks due before start dates still open."""
    lines = []
    if member.role == HEAD:
        count, person_id, item_id = per_school(
            school, ("people", "unsigned"), lambda: _unsigned(school, today)
        )
        if count == 1:
            url = url_for(
                "people.person", school=school.slug, person_id=person_id, _anchor=f"check-{item_id}"
            )
        else:
            url = url_for("people.index", school=school.slug, filter="incomplete")
        if count:
            noun = "risk assessment" if count == 1 else "risk assessments"
            lines.append(WaitingLine(kind="risk_sign", text=f"{count} {noun} to sign", url=url, count=count))
    if member.role in CHECKERS:
        count, people, person_id, first = per_school(
            school, ("people", "before_start"), lambda: _before_start(school, today)
        )
        if count:
            if people == 1:
                url = url_for("people.person", school=school.slug, person_id=person_id)
            else:
                url = url_for("people.index", school=school.slug, filter="incomplete")
            noun = "recruitment check" if count == 1 else "recruitment checks"
            whose = "a start date" if people == 1 else f"start dates ({people} people)"
            lines.append(
                WaitingLine(
                    kind="checks",
                    text=f"{count} {noun} due before {whose}",
                    url=url,
                    count=count,
                    due_on=first,
                    nudge=False,
                )
            )
    return lines
