"""What the staff register asks of a member, for "Waiting for you" (tracker/waiting.py): risk assessments
waiting for the head's signature, and recruitment checks due before a person's start date that are not done
(HR and the leads)."""

from flask import url_for
from sqlalchemy import func, or_

from ..db import db
from ..signals import waiting_for
from ..tenancy import HEAD, HR, LEAD
from ..tracking.models import OPEN_STATUSES, Item, ItemKind
from ..waiting import WaitingLine, per_batch
from .models import Person, RiskAssessment

#: who records recruitment checks and hears of the ones still open before a start date
CHECKERS = (HR, LEAD)


def _school_in(column, school_ids):
    """Criterion: `column` is one of the schools (an equality for one: the plan a page's query always had)."""
    return column == school_ids[0] if len(school_ids) == 1 else column.in_(school_ids)


def _current(school_ids, today):
    """Criteria: an open check of someone on the register who has not left."""
    return (
        _school_in(Item.school_id, school_ids),
        Item.kind == ItemKind.CHECK,
        Item.status.in_(OPEN_STATUSES),
        Person.id == Item.person_id,
        Person.school_id == Item.school_id,
        or_(Person.leave_on.is_(None), Person.leave_on >= today),
    )


def _unsigned(school_ids, today):
    """{school id: (risk assessments waiting for a signature, a person (id) and check (id) of the first)}, for
    the schools that have any: one query."""
    ranked = (
        db.select(
            RiskAssessment.school_id.label("school_id"),
            Item.person_id.label("person_id"),
            Item.id.label("item_id"),
            func.count().over(partition_by=RiskAssessment.school_id).label("n"),
            func.row_number()
            .over(
                partition_by=RiskAssessment.school_id,
                order_by=(RiskAssessment.written_at, RiskAssessment.id),
            )
            .label("rank"),
        )
        .select_from(RiskAssessment)
        .join(Item, Item.id == RiskAssessment.item_id)
        .join(Person, Person.id == Item.person_id)
        .where(
            _school_in(RiskAssessment.school_id, school_ids),
            RiskAssessment.signed_at.is_(None),
            *_current(school_ids, today),
        )
        .subquery()
    )
    rows = db.session.execute(
        db.select(ranked.c.school_id, ranked.c.n, ranked.c.person_id, ranked.c.item_id).where(
            ranked.c.rank == 1
        )
    ).all()
    return {school_id: (n, person_id, item_id) for school_id, n, person_id, item_id in rows}


def _before_start(school_ids, today):
    """{school id: (open checks due on or before the person's start date and not covered by a signed risk
    assessment, how many people they are about, one of those people (id), the earliest due date)}, for the
    schools that have any: one query."""
    covered = db.select(RiskAssessment.item_id).where(
        _school_in(RiskAssessment.school_id, school_ids), RiskAssessment.signed_at.is_not(None)
    )
    per_person = (
        db.select(
            Item.school_id.label("school_id"),
            Item.person_id.label("person_id"),
            func.count().label("n"),
            func.min(Item.due_on).label("first"),
        )
        .select_from(Item)
        .join(Person, Person.id == Item.person_id)
        .where(*_current(school_ids, today), Item.due_on <= Person.start_on, Item.id.not_in(covered))
        .group_by(Item.school_id, Item.person_id)
        .subquery()
    )
    school = per_person.c.school_id
    ranked = db.select(
        school.label("school_id"),
        per_person.c.person_id.label("person_id"),
        func.count().over(partition_by=school).label("people"),
        func.sum(per_person.c.n).over(partition_by=school).label("checks"),
        func.min(per_person.c.first).over(partition_by=school).label("first"),
        func.row_number().over(partition_by=school).label("rank"),
    ).subquery()
    rows = db.session.execute(
        db.select(
            ranked.c.school_id, ranked.c.checks, ranked.c.people, ranked.c.person_id, ranked.c.first
        ).where(ranked.c.rank == 1)
    ).all()
    return {
        school_id: (int(checks), people, person_id, first)
        for school_id, checks, people, person_id, first in rows
    }


@waiting_for.connect
def register_lines(school, member, today, **_):
    """The head: risk assessments to sign. HR and the leads: checks due before start dates still open."""
    lines = []
    if member.role == HEAD:
        count, person_id, item_id = per_batch(school, "people.unsigned", today, _unsigned, (0, None, None))
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
        count, people, person_id, first = per_batch(
            school, "people.before_start", today, _before_start, (0, 0, None, None)
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
