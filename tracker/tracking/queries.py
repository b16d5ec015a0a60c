"""Read-side queries for the item list and an item's page: a fixed number of SQL queries whatever the item
count. The visibility rules (visibility.py) and dashboard queries (dashboard.py) are re-exported here."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from sqlalchemy import or_

from ..audit import AuditEvent
from ..auth.models import User
from ..dates import add_months
from ..db import db, get_for_school_or_404
from ..frameworks.models import Framework
from ..tenancy import ACCREDITOR, Membership
from .dashboard import (  # noqa: F401 (re-exported)
    OWN_ITEMS,
    SHORT_LIST_SIZES,
    Progress,
    dashboard,
    progress,
    progress_from,
    short_lists,
    timeline_from,
    year_counts,
)
from .models import AnswerVersion, Comment, Item, SchoolYear
from .visibility import (  # noqa: F401 (re-exported)
    SEES_EVERYTHING,
    _open,
    may_see,
    sees_unassigned,
    visible_criteria,
    visible_items,
)


@dataclass
class ItemFilters:
    status: str | None = None
    owner: str | None = None  # a user id, "me" or "none"
    framework: str | None = None  # framework key or "own"
    month: date | None = None
    overdue: bool = False
    due_soon: bool = False  # open and due within the next 30 days


def item_query(school, year, membership, user_id, f: ItemFilters, today):
    query = visible_items(school, membership).where(Item.year_id == year.id)
    if f.status:
        query = query.where(Item.status == f.status)
    if f.owner == "me":
        query = query.where(Item.owner_id == user_id)
    elif f.owner == "none":
        query = query.where(Item.owner_id.is_(None))
    elif f.owner:
        query = query.where(Item.owner_id == f.owner)
    if f.framework == "own":
        query = query.where(Item.framework_id.is_(None))
    elif f.framework:
        query = query.where(
            Item.framework_id.in_(db.select(Framework.id).where(Framework.key == f.framework))
        )
    if f.month:
        nxt = add_months(f.month, 1, 1)  # held at date.max for a month of year 9999
        query = query.where(Item.due_on >= f.month, Item.due_on < nxt)
    if f.overdue:
        query = _open(query).where(Item.due_on < today)
    if f.due_soon:
        query = _open(query).where(Item.due_on.between(today, today + timedelta(days=30)))
    return query.order_by(Item.due_on, Item.title)


def years(school):
    return (
        db.session.execute(
            db.select(SchoolYear)
            .where(SchoolYear.school_id == school.id)
            .order_by(SchoolYear.starts_on.desc())
        )
        .scalars()
        .all()
    )


def visible_item_or_404(school, membership, item_id) -> Item:
    """The school's item `item_id` if this member may see it; anything else is a 404 (staff see only what is
    assigned to them; HR also recruitment checks and unassigned HR items)."""
    item = get_for_school_or_404(Item, item_id, school)
    if may_see(membership, item):
        return item
    abort(404)


def owner_choices(school) -> list[tuple[str, str]]:
    """(user id, name) of the members who may own an item: everyone but accreditors, by name."""
    rows = db.session.execute(
        db.select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, Membership.role != ACCREDITOR)
        .order_by(User.name, User.email)
    ).all()
    return [(str(r.id), r.name or r.email) for r in rows]


def member(school, user_id):
    """The user `user_id` if they are a member of the school, else None."""
    return db.session.execute(
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, User.id == user_id)
    ).scalar_one_or_none()


def item_history(school, item) -> list:
    """The item's audit events, newest first."""
    return (
        db.session.execute(
            db.select(AuditEvent)
            .where(
                AuditEvent.school_id == school.id,
                AuditEvent.subject_type == "items",
                AuditEvent.subject_id == str(item.id),
            )
            .order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .all()
    )


def comments(school, item) -> list:
    """The item's comments, oldest first."""
    return (
        db.session.execute(
            db.select(Comment)
            .where(Comment.school_id == school.id, Comment.item_id == item.id)
            .order_by(Comment.created_at)
        )
        .scalars()
        .all()
    )


def answer_versions(school, item) -> list:
    """The item's saved answers, newest first."""
    return (
        db.session.execute(
            db.select(AnswerVersion)
            .where(AnswerVersion.school_id == school.id, AnswerVersion.item_id == item.id)
            .order_by(AnswerVersion.created_at.desc())
        )
        .scalars()
        .all()
    )


__all__ = [
    "visible_items",
    "visible_criteria",
    "may_see",
    "sees_unassigned",
    "progress",
    "dashboard",
    "item_query",
    "ItemFilters",
    "years",
    "or_",
    "visible_item_or_404",
    "owner_choices",
    "member",
    "item_history",
    "comments",
    "answer_versions",
]
