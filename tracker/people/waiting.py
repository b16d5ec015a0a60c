"""What the staff register asks of a member, for "Waiting for you" (tracker/waiting.py): risk assessments
waiting for the head's signature, and recruitment checks due before a person's start date that are not done
(HR and the leads)."""

from flask import url_for
from sqlalchemy import func, or_

from ..db import db
from ..signals import waiting_for
from ..tenancy import HEAD, HR, LEAD
from ..tracking.models import OPEN_STATUSES, Item, ItemKind
from ..waiting import WaitingLine, per_batch, prepared, school_in
from .models import Person, RiskAssessment

#: who records recruitment checks and hears of the ones still open before a start date
CHECKERS = (HR, LEAD)


def _current(shape, today):
    """Criteria: an open check of someone on the register who has not left."""
    return (
        school_in(Item.school_id, shape),
        Item.kind == ItemKind.CHECK,
        Item.status.in_(OPEN_STATUSES),
        Person.id == Item.person_id,
        Person.school_id == Item.school_id,
        or_(Person.leave_on.is_(None), Person.leave_on >= today),
    )


def _unsigned(school_ids, today):
    """{school id: (risk assessments waiting for a signature, a person (id) and check (id) of the first)}, for
    the schools that have any: one query."""
    rows = prepared("people.unsigned", _unsigned_statement, school_ids, today)
    return {school_id: (n, person_id, item_id) for school_id, n, person_id, item_id in rows}


def _unsigned_statement(shape, today):
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
            school_in(RiskAssessment.school_id, shape),
            RiskAssessment.signed_at.is_(None),
            *_current(shape, today),
        )
        .subquery()
    )
    return db.select(ranked.c.school_id, ranked.c.n, ranked.c.person_id, ranked.c.item_id).where(
        ranked.c.rank == 1
    )


def _before_start(school_ids, today):
    """{school id: (open checks due on or before the person's start date and not covered by a signed risk
    assessment, how many people they are about, one of those people (id), the earliest due date)}, for the
    schools that have any: one query."""
    rows = prepared("people.before_start", _before_start_statement, school_ids, today)
    return {
        school_id: (int(checks), people, person_id, first)
        for school_id, checks, people, person_id, first in rows
    }


def _before_start_statement(shape, today):
    """Driven from the people of the schools who have not left: for each, their open checks due by their start
    date are counted in the (school_id, kind, status, person_id, due_on) index (a few index probes a person,
    not a walk through every item of the school, whatever the planner's statistics say). Not a join grouped
    by person: that was 0.5 ms faster on a page, but on PostgreSQL without statistics a batch of 25 schools
    (the digest job) took 55 ms instead of under 9 (1.7 s more for 1,000 schools)."""
    covered = db.select(RiskAssessment.item_id).where(
        school_in(RiskAssessment.school_id, shape), RiskAssessment.signed_at.is_not(None)
    )

    def of_person(column):
        return (
            db.select(column)
            .where(
                Item.school_id == Person.school_id,
                Item.kind == ItemKind.CHECK,
                Item.status.in_(OPEN_STATUSES),
                Item.person_id == Person.id,
                Item.due_on <= Person.start_on,
                Item.id.not_in(covered),
            )
            .scalar_subquery()
        )

    people = (
        db.select(
            Person.school_id.label("school_id"),
            Person.id.label("person_id"),
            of_person(func.count()).label("n"),
            of_person(func.min(Item.due_on)).label("first"),
        )
        .where(
            school_in(Person.school_id, shape),
            or_(Person.leave_on.is_(None), Person.leave_on >= today),
        )
        .subquery()
    )
    per_person = db.select(people).where(people.c.n > 0).subquery()
    school = per_person.c.school_id
    ranked = db.select(
        school.label("school_id"),
        per_person.c.person_id.label("person_id"),
        func.count().over(partition_by=school).label("people"),
        func.sum(per_person.c.n).over(partition_by=school).label("checks"),
        func.min(per_person.c.first).over(partition_by=school).label("first"),
        func.row_number().over(partition_by=school).label("rank"),
    ).subquery()
    return db.select(
        ranked.c.school_id, ranked.c.checks, ranked.c.people, ranked.c.person_id, ranked.c.first
    ).where(ranked.c.rank == 1)


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
