"""Term dates of a school year: stored per year (`SchoolTerm`), three by default (`schedule.default_terms`),
edited by the lead or the head (`change_terms`), which moves the open items the old terms had placed.

Every service takes the school first, only flushes, and records audit events in the same transaction.
"""

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .. import audit
from ..dates import add_years
from ..db import SchoolScoped, db
from ..frameworks.models import Requirement
from . import schedule
from .errors import TrackingError
from .models import OPEN_STATUSES, Item, SchoolYear

#: the number of terms a year has (the page edits exactly this many)
TERM_COUNT = len(schedule.DEFAULT_TERMS)
NAME_MAX = 60
#: the shortest term accepted, in days (so every term has working days to hold its items)
MIN_TERM_DAYS = 14


class SchoolTerm(SchoolScoped, db.Model):
    """One term of a school year: its position (1, 2, 3), name and first and last days."""

    __tablename__ = "school_terms"

    year_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("school_years.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("year_id", "position"),)

    def as_term(self) -> schedule.Term:
        return schedule.Term(self.name, self.starts_on, self.ends_on)


def stored_terms(school, year) -> list[SchoolTerm]:
    return list(
        db.session.execute(
            db.select(SchoolTerm)
            .where(SchoolTerm.school_id == school.id, SchoolTerm.year_id == year.id)
            .order_by(SchoolTerm.position)
        ).scalars()
    )


def terms_for(school, year) -> list[schedule.Term]:
    """The year's terms: the stored ones, else the defaults (a year started before terms were kept)."""
    stored = stored_terms(school, year)
    return [t.as_term() for t in stored] if stored else schedule.default_terms(year.starts_on)


def add_terms(school, year, previous=None) -> list[schedule.Term]:
    """Store the terms of a new year: last year's a year later (when `previous` has stored terms), else the
    defaults. Returns them."""
    terms = schedule.default_terms(year.starts_on)
    if previous is not None:
        before = stored_terms(school, previous)
        shifted = [schedule.Term(t.name, add_years(t.starts_on, 1), add_years(t.ends_on, 1)) for t in before]
        if len(shifted) == TERM_COUNT and not check_terms(year, shifted, raise_error=False):
            terms = shifted
    for position, term in enumerate(terms, start=1):
        db.session.add(
            SchoolTerm(
                school_id=school.id,
                year_id=year.id,
                position=position,
                name=term.name,
                starts_on=term.starts_on,
                ends_on=term.ends_on,
            )
        )
    return terms


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def check_terms(year, terms, raise_error=True):
    """The first thing wrong with `terms` for `year` (a TrackingError naming the field), or None."""

    def problem(message, position, part):
        error = TrackingError(message, field=f"term{position}_{part}")
        if raise_error:
            raise error
        return error

    if len(terms) != TERM_COUNT:
        return problem(f"Give the dates of all {TERM_COUNT} terms.", 1, "name")
    previous = None
    for position, term in enumerate(terms, start=1):
        name = (term.name or "").strip()
        label = name or f"Term {position}"
        if not name:
            return problem(f"Give term {position} a name.", position, "name")
        if len(name) > NAME_MAX:
            return problem(f"Keep the name of term {position} to {NAME_MAX} characters.", position, "name")
        if term.starts_on is None or term.ends_on is None:
            return problem(f"Give the first and last day of {label}.", position, "starts_on")
        if not (year.starts_on <= term.starts_on <= year.ends_on):
            return problem(
                f"{label} must start inside {year.label} ({_day(year.starts_on)} to {_day(year.ends_on)}).",
                position,
                "starts_on",
            )
        if not (year.starts_on <= term.ends_on <= year.ends_on):
            return problem(
                f"{label} must end inside {year.label} ({_day(year.starts_on)} to {_day(year.ends_on)}).",
                position,
                "ends_on",
            )
        if term.ends_on < term.starts_on:
            return problem(f"{label} ends before it starts.", position, "ends_on")
        if (term.ends_on - term.starts_on).days + 1 < MIN_TERM_DAYS:
            return problem(f"{label} must be at least {MIN_TERM_DAYS} days long.", position, "ends_on")
        if previous is not None and term.starts_on <= previous.ends_on:
            return problem(
                f"{label} must start after {previous.name.strip() or f'term {position - 1}'} ends "
                f"({_day(previous.ends_on)}): terms are in order and do not overlap.",
                position,
                "starts_on",
            )
        previous = term
    return None


def _placements(school, year, terms) -> dict:
    """{(requirement id, occurrence): due date} of every requirement of the year's frameworks."""
    ids = [r.id for f in year.frameworks for r in f.requirements]
    placed = {}
    for requirement in db.session.execute(db.select(Requirement).where(Requirement.id.in_(ids))).scalars():
        for occurrence, due in schedule.occurrences(requirement, year.starts_on, terms):
            placed[(requirement.id, occurrence)] = due
    return placed


def change_terms(school, year: SchoolYear, terms: list[schedule.Term]) -> int:
    """Store new term dates for `year` and move its open items still on the date the old terms gave them
    (items done, not applicable, or whose date a person changed stay). Returns how many items moved."""
    if year.school_id != school.id:
        raise TrackingError("That year is not this school's.")
    # one change of a year's terms at a time (PostgreSQL; SQLite saves one at a time anyway)
    db.session.execute(db.select(SchoolYear.id).where(SchoolYear.id == year.id).with_for_update())
    db.session.refresh(year)
    if year.signed_off_at is not None or year.sign_off_state != "open":
        raise TrackingError(
            f"{year.label} is signed off (or being signed off): its term dates can no longer change."
        )
    terms = [schedule.Term((t.name or "").strip(), t.starts_on, t.ends_on) for t in terms]
    check_terms(year, terms)
    old_terms = terms_for(school, year)
    stored = stored_terms(school, year)
    before = [
        {"name": t.name, "starts_on": t.starts_on.isoformat(), "ends_on": t.ends_on.isoformat()}
        for t in old_terms
    ]
    after = [
        {"name": t.name, "starts_on": t.starts_on.isoformat(), "ends_on": t.ends_on.isoformat()}
        for t in terms
    ]
    if before == after:
        return 0
    if not stored:
        stored = [
            SchoolTerm(school_id=school.id, year_id=year.id, position=n) for n in range(1, TERM_COUNT + 1)
        ]
        db.session.add_all(stored)
    for row, term in zip(stored, terms, strict=True):
        row.name, row.starts_on, row.ends_on = term.name, term.starts_on, term.ends_on
    old_dates = _placements(school, year, old_terms)
    new_dates = _placements(school, year, terms)
    items = db.session.execute(
        db.select(Item).where(
            Item.school_id == school.id,
            Item.year_id == year.id,
            Item.requirement_id.is_not(None),
            Item.status.in_(OPEN_STATUSES),
        )
    ).scalars()
    moved = 0
    for item in items:
        key = (item.requirement_id, item.occurrence)
        old, new = old_dates.get(key), new_dates.get(key)
        if old is None or new is None or old == new:
            continue
        view = item.audit_view()
        if (
            item.planned_due_on is not None
        ):  # caught up in the first-year setup: the plan moves, not the catch-up
            if item.planned_due_on != old:
                continue
            item.planned_due_on = new
        elif item.due_on == old:
            item.due_on = new
        else:
            continue  # a person changed its date
        changed_before, changed_after = audit.changes(view, item.audit_view())
        audit.record("item.changed", school=school, subject=item, before=changed_before, after=changed_after)
        moved += 1
    db.session.flush()
    audit.record(
        "year.terms_changed",
        school=school,
        subject=year,
        before={"terms": before},
        after={"terms": after, "items_moved": moved},
    )
    return moved


def items_in_terms(school, year, terms) -> tuple[list[int], int]:
    """How many of the year's items fall due in each of `terms`, and how many in none (holidays)."""
    dues = db.session.execute(
        db.select(Item.due_on).where(Item.school_id == school.id, Item.year_id == year.id)
    ).scalars()
    counts, outside = [0] * len(terms), 0
    for due in dues:
        for n, term in enumerate(terms):
            if due in term:
                counts[n] += 1
                break
        else:
            outside += 1
    return counts, outside
