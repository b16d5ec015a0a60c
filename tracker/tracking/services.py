"""Tracking services on items: change an item, save answers, add comments and the school's own items.

Every service takes the school first, only flushes, and records an audit event in the same transaction. The
year services (start, roll over, sign off, upgrade) live in years.py and are re-exported here.
"""

from datetime import date

from .. import audit
from ..db import db
from ..frameworks.models import Requirement
from .errors import TrackingError
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
from .state import EditConflict, check_version, set_status
from .years import (
    UpgradeReport,
    _create_year,
    current_year,
    roll_over,
    sign_off,
    start_year,
    upgrade_framework,
)

__all__ = [
    "EditConflict",
    "TrackingError",
    "UpgradeReport",
    "_create_year",
    "add_comment",
    "add_own_item",
    "current_year",
    "requirement_for",
    "roll_over",
    "save_answer",
    "sign_off",
    "start_year",
    "update_item",
    "upgrade_framework",
]


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
    """Change an item's status, owner, due date or notes; only leads and heads (manage) move owners and
    dates."""
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


def requirement_for(item) -> Requirement | None:
    return db.session.get(Requirement, item.requirement_id) if item.requirement_id else None
