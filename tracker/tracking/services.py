"""Tracking services: start and roll over years, change items, answers, comments; upgrade frameworks.

Every service takes the school first, only flushes, and records an audit event in the same transaction.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.exc import IntegrityError

from .. import audit
from ..dates import add_months
from ..db import db, utcnow
from ..frameworks.models import SCHOOL_YEAR, Framework, Requirement
from ..frameworks.services import compare_versions, latest_versions
from ..signals import year_signed_off
from ..transactions import DomainError
from . import schedule
from .models import (
    DONE,
    IN_PROGRESS,
    NOT_APPLICABLE,
    NOT_STARTED,
    OWN_KIND,
    STATUSES,
    AnswerVersion,
    Comment,
    Item,
    ItemKind,
    SchoolYear,
)
from .state import EditConflict, check_version, set_status  # noqa: F401 (EditConflict: re-exported)


class TrackingError(DomainError):
    """A change that cannot be made; the message is for the user."""


def current_year(school, years=None) -> SchoolYear | None:
    """The school's latest year that has started (or the next one, if none has yet). `years`, newest first,
    saves the query when the caller has them already."""
    today = school.today()
    if years is None:
        years = (
            db.session.execute(
                db.select(SchoolYear)
                .where(SchoolYear.school_id == school.id)
                .order_by(SchoolYear.starts_on.desc())
            )
            .scalars()
            .all()
        )
    for year in years:
        if year.starts_on <= today:
            return year
    return years[-1] if years else None


def _items_for(school, year, requirement, *, previous=None):
    items = []
    for occurrence, due in schedule.occurrences(requirement, year.starts_on):
        items.append(
            Item(
                school_id=school.id,
                year_id=year.id,
                framework_id=requirement.framework_id,
                requirement_id=requirement.id,
                requirement_key=requirement.key,
                kind=ItemKind(requirement.answer_type),
                section_title=requirement.section.title,
                title=requirement.title,
                occurrence=occurrence,
                owner_role=requirement.owner_role,
                due_on=due,
                status=NOT_STARTED,
            )
        )
    return items


def _school_year_frameworks():
    return [f for f in latest_versions() if f.scope == SCHOOL_YEAR]


def _create_year(school, start_year: int, previous=None) -> SchoolYear:
    starts_on = schedule.year_start(start_year, school.year_start_month)
    exists = TrackingError(f"The school year starting {starts_on:%B %Y} already exists.")
    same = db.select(SchoolYear.id).where(
        SchoolYear.school_id == school.id, SchoolYear.starts_on == starts_on
    )
    if db.session.execute(same).first():
        raise exists
    year = SchoolYear(
        school_id=school.id,
        label=schedule.year_label(starts_on),
        starts_on=starts_on,
        ends_on=schedule.year_end(starts_on),
        previous_id=previous.id if previous else None,
    )
    year.frameworks = _school_year_frameworks()
    if not year.frameworks:
        raise TrackingError(
            "No framework templates are loaded yet: ask a platform admin to run `flask seed`."
        )
    try:
        # someone else starting the same year at the same moment (PostgreSQL: both passed the check above)
        # meets the unique (school, start) constraint here; the savepoint keeps this transaction usable
        with db.session.begin_nested():
            db.session.add(year)
            db.session.flush()
    except IntegrityError:
        if db.session.execute(same).first():  # committed by the other request meanwhile
            raise exists from None
        raise
    return year


def start_year(school, start_year: int) -> SchoolYear:
    """Start a school year: one item per requirement occurrence of every school-year framework."""
    year = _create_year(school, start_year)
    count = 0
    for framework in year.frameworks:
        for requirement in framework.requirements:
            items = _items_for(school, year, requirement)
            db.session.add_all(items)
            count += len(items)
    db.session.flush()
    audit.record("year.started", school=school, subject=year, after={**year.audit_view(), "items": count})
    return year


def roll_over(school, previous: SchoolYear) -> SchoolYear:
    """Start the next year from `previous`: recurring items get new dates, policy answers come forward as
    drafts to review, and earlier evidence stays linked (read-only) rather than copied."""
    year = _create_year(school, previous.starts_on.year + 1, previous)
    old_items = (
        db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.year_id == previous.id))
        .scalars()
        .all()
    )
    by_key = {(i.requirement_key, i.occurrence): i for i in old_items if i.requirement_key}
    count = 0
    for framework in year.frameworks:
        for requirement in framework.requirements:
            if requirement.repeat == "once" and any(k == requirement.key for k, _ in by_key):
                continue
            if requirement.repeat == "every_two_years" and any(k == requirement.key for k, _ in by_key):
                continue  # done last year; due again the year after
            for item in _items_for(school, year, requirement):
                before = by_key.get((requirement.key, item.occurrence))
                if before is not None:
                    item.carried_from_id = before.id
                    item.owner_id = before.owner_id
                    if requirement.answer_type == ItemKind.ANSWER and (before.answer or before.answer_status):
                        item.answer, item.answer_status = before.answer, before.answer_status
                        item.to_review = True
                db.session.add(item)
                count += 1
    for own in (i for i in old_items if i.kind == OWN_KIND):
        db.session.add(
            Item(
                school_id=school.id,
                year_id=year.id,
                kind=OWN_KIND,
                section_title=own.section_title,
                title=own.title,
                owner_role=own.owner_role,
                owner_id=own.owner_id,
                due_on=add_months(own.due_on, 12),
                carried_from_id=own.id,
            )
        )
        count += 1
    db.session.flush()
    audit.record(
        "year.rolled_over",
        school=school,
        subject=year,
        after={**year.audit_view(), "from": previous.label, "items": count},
    )
    return year


def sign_off(school, year: SchoolYear, user) -> None:
    # the year's row is locked and read again (PostgreSQL), so of two sign-offs at the same moment the second
    # waits for the first and is told it is done; SQLite's write lock serializes them already
    year = db.session.execute(
        db.select(SchoolYear)
        .where(SchoolYear.id == year.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if year.signed_off_at is not None:
        raise TrackingError(f"{year.label} was already signed off.")
    year.signed_off_at, year.signed_off_by_id = utcnow(), user.id
    year.signed_off_by = user
    audit.record("year.signed_off", school=school, subject=year, after={"signed_off_by": user.email})
    # reports freezes the year's report as it stands now, in this transaction (it raises TrackingError if it
    # cannot, and then nothing is signed off); see tracker/signals.py
    year_signed_off.send(school, year=year, user=user)


def update_item(
    school,
    item: Item,
    *,
    version,
    status=None,
    owner=None,
    due_on=None,
    notes=None,
    na_reason=None,
    completed_on=None,
    manage=True,
) -> None:
    """Change an item's status, owner, due date or notes; only leads and heads (manage) move owners and dates."""
    submitted = {
        "status": status,
        "owner": owner.email if owner else None,
        "due_on": due_on,
        "notes": notes,
        "na_reason": na_reason,
    }
    check_version(item, version, submitted)
    before = item.audit_view()
    if status is not None:
        if status not in STATUSES:
            raise TrackingError("Choose a status from the list.")
        if status == NOT_APPLICABLE and not (na_reason or "").strip():
            raise TrackingError("Say why the item does not apply to your school.")
        done_on = (completed_on or item.completed_on or school.today()) if status == DONE else None
        set_status(item, status, on=done_on, reason=na_reason or "")
    if notes is not None:
        item.notes = notes
    if manage:
        item.owner_id = owner.id if owner else None
        item.owner = owner
        if due_on is not None:
            item.due_on = due_on
    old, new = audit.changes(before, item.audit_view())
    if new:
        db.session.flush()
        audit.record("item.changed", school=school, subject=item, before=old, after=new)


def save_answer(school, item: Item, *, version, answer, answer_status, review_on, author) -> None:
    """Save a policy-form answer, keeping every earlier version."""
    submitted = {"answer": answer, "answer_status": answer_status, "review_on": review_on}
    check_version(item, version, submitted)
    if item.kind != ItemKind.ANSWER:
        raise TrackingError("Only policy-form questions take a written answer.")
    before = item.audit_view()
    item.answer, item.answer_status, item.review_on = answer, answer_status, review_on
    item.to_review = False
    if item.status == NOT_STARTED and answer.strip():
        set_status(item, IN_PROGRESS)
    if answer_status == "in_place" and item.status != DONE:
        set_status(item, DONE, on=school.today())
    old, new = audit.changes(before, item.audit_view())
    if not new:
        return
    db.session.add(
        AnswerVersion(
            school_id=school.id,
            item_id=item.id,
            answer=answer,
            answer_status=answer_status,
            review_on=review_on,
            author_id=author.id if author else None,
        )
    )
    db.session.flush()
    audit.record("item.answered", school=school, subject=item, before=old, after=new)


def add_comment(school, item: Item, *, body: str, author) -> Comment:
    comment = Comment(school_id=school.id, item_id=item.id, body=body, author_id=author.id)
    db.session.add(comment)
    db.session.flush()
    audit.record("item.commented", school=school, subject=item, after={"comment": body[:500]})
    return comment


def add_own_item(
    school, year: SchoolYear, *, title, due_on: date, owner=None, owner_role="lead", notes=""
) -> Item:
    if not year.starts_on <= due_on <= year.ends_on:
        raise TrackingError(
            f"The due date must fall within {year.label} ({year.starts_on:%-d %b %Y} to "
            f"{year.ends_on:%-d %b %Y})."
        )
    item = Item(
        school_id=school.id,
        year_id=year.id,
        kind=OWN_KIND,
        section_title="School's own items",
        title=title,
        owner_id=owner.id if owner else None,
        owner_role=owner_role,
        due_on=due_on,
        notes=notes,
    )
    db.session.add(item)
    db.session.flush()
    audit.record("item.added", school=school, subject=item, after=item.audit_view())
    return item


@dataclass
class UpgradeReport:
    framework: str
    old_version: str
    new_version: str
    kept: list = field(default_factory=list)
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)


def upgrade_framework(school, year: SchoolYear, new: Framework) -> UpgradeReport:
    """Move a year to a newer framework version, keeping work on requirement keys that still exist."""
    old = next((f for f in year.frameworks if f.key == new.key), None)
    if old is None or old.id == new.id:
        raise TrackingError("This year already tracks that version.")
    change = compare_versions(old, new)
    report = UpgradeReport(new.title, old.version, new.version, change.kept, change.added, change.removed)
    new_reqs = {r.key: r for r in new.requirements}
    items = (
        db.session.execute(
            db.select(Item).where(
                Item.school_id == school.id, Item.year_id == year.id, Item.framework_id == old.id
            )
        )
        .scalars()
        .all()
    )
    for item in items:
        requirement = new_reqs.get(item.requirement_key)
        item.framework_id = new.id
        if requirement is not None:
            item.requirement_id, item.title = requirement.id, requirement.title
            item.section_title = requirement.section.title
        elif item.status != DONE:
            set_status(item, NOT_APPLICABLE, reason=f"No longer part of {new.title} version {new.version}.")
    for key in change.added:
        db.session.add_all(_items_for(school, year, new_reqs[key]))
    year.frameworks = [new if f.id == old.id else f for f in year.frameworks]
    db.session.flush()
    audit.record(
        "year.framework_upgraded",
        school=school,
        subject=year,
        after={
            "framework": new.key,
            "from": old.version,
            "to": new.version,
            "added": change.added,
            "removed": change.removed,
        },
    )
    return report


def requirement_for(item) -> Requirement | None:
    return db.session.get(Requirement, item.requirement_id) if item.requirement_id else None
