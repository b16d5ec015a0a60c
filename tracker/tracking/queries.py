"""Read-side queries for the dashboard and item list: a fixed number of SQL queries whatever the item count."""
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, or_

from ..db import db
from ..frameworks.models import Framework
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD
from .models import DONE, NOT_APPLICABLE, OPEN_STATUSES, Item, SchoolYear

SEES_EVERYTHING = (LEAD, HEAD, ACCREDITOR)


def visible_items(school, membership):
    """Items this member may see: everything for leads, heads and accreditors; their own for others."""
    query = db.select(Item).where(Item.school_id == school.id)
    if membership.role == HR:  # HR also keeps every recruitment check
        query = query.where(or_(Item.owner_id == membership.user_id, Item.person_id.is_not(None)))
    elif membership.role not in SEES_EVERYTHING:
        query = query.where(Item.owner_id == membership.user_id)
    return query


@dataclass
class Progress:
    title: str
    total: int = 0
    done: int = 0
    not_applicable: int = 0
    in_progress: int = 0
    sections: "OrderedDict[str, Progress]" = field(default_factory=OrderedDict)

    @property
    def countable(self):
        return self.total - self.not_applicable

    @property
    def percent(self):
        return round(100 * self.done / self.countable) if self.countable else 100


def progress(school, year, membership) -> list[Progress]:
    """Completion per framework and per section, aggregated in SQL (one query)."""
    base = visible_items(school, membership).where(Item.year_id == year.id).subquery()
    rows = db.session.execute(
        db.select(func.coalesce(Framework.title, "School's own items"), base.c.section_title,
                  func.count(), func.sum(case((base.c.status == DONE, 1), else_=0)),
                  func.sum(case((base.c.status == NOT_APPLICABLE, 1), else_=0)),
                  func.sum(case((base.c.status == "in_progress", 1), else_=0)))
        .select_from(base).outerjoin(Framework, Framework.id == base.c.framework_id)
        .group_by(Framework.title, base.c.section_title)
        .order_by(Framework.title, func.min(base.c.due_on))
    ).all()
    out: "OrderedDict[str, Progress]" = OrderedDict()
    for fw_title, section, total, done, na, in_progress in rows:
        fw = out.setdefault(fw_title, Progress(fw_title))
        sec = Progress(section, total, done or 0, na or 0, in_progress or 0)
        fw.sections[section] = sec
        fw.total += sec.total
        fw.done += sec.done
        fw.not_applicable += sec.not_applicable
        fw.in_progress += sec.in_progress
    return list(out.values())


def _open(query):
    return query.where(Item.status.in_(OPEN_STATUSES))


def dashboard(school, year, membership, user_id) -> dict:
    today = school.today()
    visible = visible_items(school, membership).where(Item.year_id == year.id)
    lists = {
        "overdue": _open(visible).where(Item.due_on < today).order_by(Item.due_on).limit(10),
        "due_soon": _open(visible).where(Item.due_on >= today, Item.due_on <= today + timedelta(days=30))
        .order_by(Item.due_on).limit(10),
        "mine": _open(visible).where(Item.owner_id == user_id).order_by(Item.due_on).limit(10),
        "recent": visible.where(Item.status == DONE).order_by(Item.updated_at.desc()).limit(6),
    }
    data = {name: db.session.execute(q).scalars().unique().all() for name, q in lists.items()}
    open_items = _open(visible).subquery()
    counts = db.session.execute(
        db.select(func.sum(case((open_items.c.due_on < today, 1), else_=0)),
                  func.sum(case((open_items.c.due_on.between(today, today + timedelta(days=30)), 1), else_=0)))
        .select_from(open_items)
    ).one()
    data["overdue_count"], data["due_soon_count"] = counts[0] or 0, counts[1] or 0
    data["progress"] = progress(school, year, membership)
    data["timeline"] = timeline(visible, year, today)
    data["today"] = today
    return data


def timeline(visible, year, today):
    """Month by month: how many items fall due, how many are done, how many are overdue."""
    sub = visible.subquery()
    rows = db.session.execute(
        db.select(sub.c.due_on, sub.c.status, func.count()).group_by(sub.c.due_on, sub.c.status)
    ).all()
    months = OrderedDict()
    d = year.starts_on
    for _ in range(12):
        months[(d.year, d.month)] = {"month": d, "total": 0, "done": 0, "overdue": 0}
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    for due_on, status, count in rows:
        bucket = months.get((due_on.year, due_on.month))
        if bucket is None:
            continue
        bucket["total"] += count
        if status in (DONE, NOT_APPLICABLE):
            bucket["done"] += count
        elif due_on < today:
            bucket["overdue"] += count
    peak = max([m["total"] for m in months.values()] + [1])
    for m in months.values():
        m["height"] = round(100 * m["total"] / peak)
    return list(months.values())


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
        query = query.where(Item.framework_id.in_(db.select(Framework.id).where(Framework.key == f.framework)))
    if f.month:
        nxt = (f.month.replace(day=28) + timedelta(days=4)).replace(day=1)
        query = query.where(Item.due_on >= f.month, Item.due_on < nxt)
    if f.overdue:
        query = _open(query).where(Item.due_on < today)
    if f.due_soon:
        query = _open(query).where(Item.due_on.between(today, today + timedelta(days=30)))
    return query.order_by(Item.due_on, Item.title)


def years(school):
    return db.session.execute(db.select(SchoolYear).where(SchoolYear.school_id == school.id)
                              .order_by(SchoolYear.starts_on.desc())).scalars().all()


__all__ = ["visible_items", "progress", "dashboard", "item_query", "ItemFilters", "years", "or_"]
