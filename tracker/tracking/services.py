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
    ANSWER_STATUSES,
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
    "UNCHANGED",
    "EditConflict",
    "TrackingError",
    "UpgradeReport",
    "_create_year",
    "add_comment",
    "add_own_item",
    "answer_status_to_item_status",
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


#: save_answer leaves the owner as it is (a form that did not show the owner field)
UNCHANGED = object()


def answer_status_to_item_status(answer: str, answer_status, current) -> str:
    """A policy question has one status, where the school stands; the item's status follows from it: in place
    is done, not applicable is not applicable, partly and not yet are in progress. Not assessed yet leaves
    the status as it is, except that writing a first answer starts the item."""
    if answer_status == "in_place":
        return DONE
    if answer_status == "not_applicable":
        return NOT_APPLICABLE
    if answer_status in ("partly", "not_yet"):
        return IN_PROGRESS
    if current == NOT_STARTED and (answer or "").strip():
        return IN_PROGRESS
    return current


def save_answer(
    school,
    item: Item,
    *,
    version,
    answer,
    answer_status,
    review_on,
    author,
    notes=None,
    owner=UNCHANGED,
    due_on=None,
) -> None:
    """Save a policy-form answer with its one status (where the school stands), keeping every earlier version.

    In place marks the item done, not applicable marks it not applicable (the answer says why), partly and not
    yet put it in progress (answer_status_to_item_status). `notes` None, `owner` UNCHANGED and `due_on` None
    leave those as they are. One audit event holds every change; a new version is kept when the answer, where
    the school stands or the review date changed."""
    submitted = {"answer": answer, "answer_status": answer_status, "review_on": review_on}
    check_version(item, version, submitted)
    if item.kind != ItemKind.ANSWER:
        raise TrackingError("Only policy-form questions take a written answer.")
    answer = answer or ""
    answer_status = answer_status or None
    if answer_status is not None and answer_status not in ANSWER_STATUSES:
        raise TrackingError("Choose where the school stands from the list.")
    status = answer_status_to_item_status(answer, answer_status, item.status)
    if status == NOT_APPLICABLE and answer_status == "not_applicable" and not answer.strip():
        raise TrackingError("Say in the answer why this question does not apply to your school.")
    before = item.audit_view()
    answer_changed = (item.answer, item.answer_status, item.review_on) != (answer, answer_status, review_on)
    item.answer, item.answer_status, item.review_on = answer, answer_status, review_on
    item.to_review = False
    if status != item.status or (answer_status == "not_applicable" and item.na_reason != answer.strip()):
        done_on = (item.completed_on or school.today()) if status == DONE else None
        set_status(item, status, on=done_on, reason=answer if status == NOT_APPLICABLE else "")
    if notes is not None:
        item.notes = notes
    if owner is not UNCHANGED:
        item.owner_id = owner.id if owner else None
        item.owner = owner
    if due_on is not None:
        item.due_on = due_on
    old, new = audit.changes(before, item.audit_view())
    if not new:
        return
    if answer_changed:
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
