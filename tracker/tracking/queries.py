"""Read-side queries for the item list and an item's page: a fixed number of SQL queries whatever the item
count. The visibility rules (visibility.py) and dashboard queries (dashboard.py) are re-exported here."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from flask import abort
from sqlalchemy import bindparam, case, func, or_
from sqlalchemy.orm import aliased

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
    list_row_options,
    progress,
    progress_from,
    short_lists,
    timeline_from,
    year_counts,
)
from .models import (
    DONE,
    IN_PROGRESS,
    NOT_APPLICABLE,
    NOT_STARTED,
    AnswerVersion,
    Comment,
    Item,
    SchoolYear,
)
from .visibility import (  # noqa: F401 (re-exported)
    SEES_EVERYTHING,
    _open,
    may_see,
    sees_unassigned,
    visible_criteria,
    visible_items,
)

#: the item list's sortable columns (?sort=): the column's value, then (for ties) due date, title and id
SORT_KEYS = ("title", "framework", "due", "owner", "status")
DEFAULT_SORT = "due"
#: how the list names an item of no framework (the school's own)
OWN_FRAMEWORK_LABEL = "School's own"
#: statuses in the order work moves through them (sorting by status follows it, not the alphabet)
_STATUS_ORDER = {NOT_STARTED: 0, IN_PROGRESS: 1, DONE: 2, NOT_APPLICABLE: 3}
#: longest search text accepted (?q=)
SEARCH_MAX = 200


@dataclass
class ItemFilters:
    status: str | None = None
    owner: str | None = None  # a user id, "me" or "none"
    framework: str | None = None  # framework key or "own"
    month: date | None = None
    overdue: bool = False
    due_soon: bool = False  # open and due within the next 30 days
    q: str = ""  # words to find in the title, section, framework or owner's name (each word somewhere)
    sort: str = DEFAULT_SORT  # one of SORT_KEYS
    desc: bool = False


def _like_pattern(word: str) -> str:
    """`word` as a LIKE pattern matching it anywhere, its own % _ and \\ taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(query, q: str, framework, owner):
    """Each word of `q` must appear (case-insensitively) in the title, section, framework title or the owner's
    name or e-mail address."""
    for word in q.split():
        pattern = _like_pattern(word)
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (Item.title, Item.section_title, framework.title, owner.name, owner.email)
                )
            )
        )
    return query


def _order(f: ItemFilters, framework, owner):
    """ORDER BY for the list: the chosen column (text compared lower-cased, so SQLite and PostgreSQL agree; an
    item of no framework sorts as "School's own"; unassigned items come last either way), then due date, title
    and id, so equal values keep one order from page to page."""

    def way(key):
        return key.desc() if f.desc else key

    title = func.lower(Item.title)
    if f.sort == "title":
        keys = [way(title)]
    elif f.sort == "framework":
        keys = [way(func.lower(func.coalesce(framework.title, OWN_FRAMEWORK_LABEL)))]
    elif f.sort == "owner":
        name = func.lower(func.coalesce(func.nullif(owner.name, ""), owner.email))
        keys = [case((Item.owner_id.is_(None), 1), else_=0), way(name)]
    elif f.sort == "status":
        keys = [way(case(_STATUS_ORDER, value=Item.status, else_=len(_STATUS_ORDER)))]
    else:
        keys = [way(Item.due_on)]
    ties = [title, Item.id] if f.sort == "due" else [Item.due_on, title, Item.id]
    return [*keys, *ties]


def item_query(school, year, membership, user_id, f: ItemFilters, today):
    """The year's items this member may see, filtered, searched and sorted as `f` says (a select of Item)."""
    framework, owner = aliased(Framework), aliased(User)
    query = visible_items(school, membership).where(Item.year_id == year.id)
    # joined only when the filters, search or sort read them (the plain list needs neither)
    if f.q or f.sort == "framework" or (f.framework and f.framework != "own"):
        query = query.outerjoin(framework, framework.id == Item.framework_id)
    if f.q or f.sort == "owner":
        query = query.outerjoin(owner, owner.id == Item.owner_id)
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
        query = query.where(framework.key == f.framework)
    if f.month:
        nxt = add_months(f.month, 1, 1)  # held at date.max for a month of year 9999
        query = query.where(Item.due_on >= f.month, Item.due_on < nxt)
    if f.overdue:
        query = _open(query).where(Item.due_on < today)
    if f.due_soon:
        query = _open(query).where(Item.due_on.between(today, today + timedelta(days=30)))
    if f.q:
        query = _search(query, f.q, framework, owner)
    return query.order_by(*_order(f, framework, owner))


def selected_items(school, year, membership, item_ids) -> list:
    """The items of `year` among `item_ids` that this member may see (a bulk change's items), by due date."""
    if not item_ids:
        return []
    return (
        db.session.execute(
            visible_items(school, membership)
            .where(Item.year_id == year.id, Item.id.in_(item_ids))
            .order_by(Item.due_on, Item.title, Item.id)
        )
        .scalars()
        .all()
    )


def owner_member(school, user_id):
    """(user, role) of the member `user_id` who may own items (anyone but an accreditor), else None."""
    row = db.session.execute(
        db.select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, User.id == user_id, Membership.role != ACCREDITOR)
    ).one_or_none()
    return (row[0], row[1]) if row else None


@cache
def _years_statement():
    """The school's years, newest first, built once (a page asks on every request)."""
    return (
        db.select(SchoolYear)
        .where(SchoolYear.school_id == bindparam("school_id"))
        .order_by(SchoolYear.starts_on.desc())
    )


def years(school):
    return db.session.execute(_years_statement(), {"school_id": school.id}).scalars().all()


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
    "SORT_KEYS",
    "selected_items",
    "owner_member",
    "years",
    "or_",
    "visible_item_or_404",
    "owner_choices",
    "member",
    "item_history",
    "comments",
    "answer_versions",
]
