"""The dashboard's queries: what is waiting for the member, progress per framework and section, the short
lists, tiles and timeline."""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, literal, union_all
from sqlalchemy.orm import lazyload

from ..dates import month_starts
from ..db import db
from ..frameworks.models import Framework
from ..waiting import lines_for
from .models import DONE, IN_PROGRESS, NOT_APPLICABLE, OPEN_STATUSES, Item
from .ordering import LAST, section_positions
from .shared import shared_counts
from .visibility import _open, visible_criteria, visible_items


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

    def add(self, status, count):
        self.total += count
        if status == DONE:
            self.done += count
        elif status == NOT_APPLICABLE:
            self.not_applicable += count
        elif status == IN_PROGRESS:
            self.in_progress += count


OWN_ITEMS = "School's own items"


def year_counts(school, year, membership):
    """One grouped query over the member's items of the year: (framework title, section, due date, status,
    count) rows, at most one per distinct combination, from which progress, tiles and the timeline are
    made."""
    return db.session.execute(
        db.select(Framework.title, Item.section_title, Item.due_on, Item.status, func.count())
        .select_from(Item)
        .outerjoin(Framework, Framework.id == Item.framework_id)
        .where(*visible_criteria(school, membership), Item.year_id == year.id)
        .group_by(Framework.title, Item.section_title, Item.due_on, Item.status)
    ).all()


def progress_from(rows, positions=None) -> list[Progress]:
    """Completion per framework (by title, the school's own items last) and per section, in the framework's
    order of sections (`positions`, ordering.section_positions), else by earliest due date."""
    positions = positions or {}
    frameworks: dict[str, Progress] = {}
    first_due: dict[tuple, date] = {}
    for fw_title, section, due_on, status, count in rows:
        title = fw_title or OWN_ITEMS
        fw = frameworks.setdefault(title, Progress(title))
        sec = fw.sections.get(section)
        if sec is None:
            sec = fw.sections[section] = Progress(section)
        sec.add(status, count)
        fw.add(status, count)
        key = (title, section)
        if due_on is not None and (key not in first_due or due_on < first_due[key]):
            first_due[key] = due_on
    out = []
    for title in sorted(frameworks, key=lambda t: (t == OWN_ITEMS, t)):
        fw = frameworks[title]
        fw.sections = OrderedDict(
            sorted(
                fw.sections.items(),
                key=lambda kv: (
                    positions.get((title, kv[0]), LAST),
                    first_due.get((title, kv[0])) or date.max,
                    kv[0] or "",
                ),
            )
        )
        out.append(fw)
    return out


def progress(school, year, membership) -> list[Progress]:
    """Completion per framework and per section of the member's items of the year; a framework counts the
    items it references in another framework (`same_as`, tracking/shared.py) too."""
    rows = year_counts(school, year, membership) + shared_counts(school, year, membership)
    return progress_from(rows, section_positions(year))


def dashboard(school, year, membership, user_id) -> dict:
    """Everything the dashboard shows, in a fixed number of queries whatever the number of items: "Waiting for
    you" (each feature's lines, tracker/waiting.py), the four short lists and one grouped count from which the
    tiles, the progress bars and the timeline are made."""
    today = school.today()
    waiting = lines_for(school, membership, today)
    data = short_lists(visible_items(school, membership).where(Item.year_id == year.id), user_id, today)
    rows = year_counts(school, year, membership)
    soon = today + timedelta(days=30)
    open_rows = [(due_on, count) for _, _, due_on, status, count in rows if status in OPEN_STATUSES]
    data["overdue_count"] = sum(count for due_on, count in open_rows if due_on < today)
    data["due_soon_count"] = sum(count for due_on, count in open_rows if today <= due_on <= soon)
    data["progress"] = progress_from(rows + shared_counts(school, year, membership), section_positions(year))
    data["timeline"] = timeline_from(rows, year, today)
    data["today"] = today
    data["waiting"] = waiting
    return data


#: the dashboard's short lists: how many rows each shows
SHORT_LIST_SIZES = {"overdue": 10, "due_soon": 10, "mine": 10, "recent": 6}


def _by_due(item):
    return (item.due_on, item.id)


def _by_recent(item):
    return (item.updated_at, item.id)


def short_lists(visible, user_id, today) -> dict:
    """The dashboard's four short lists in one query: each list's first rows (a limited select per list, their
    ids labelled with the list's name and joined in one UNION ALL), loaded once. The rules live only in the
    SQL; Python puts each list back in its order (orders end on the id, so ties agree)."""
    open_ = _open(visible)
    selects = {
        "overdue": (open_.where(Item.due_on < today), _by_due),
        "due_soon": (open_.where(Item.due_on.between(today, today + timedelta(days=30))), _by_due),
        "mine": (open_.where(Item.owner_id == user_id), _by_due),
        "recent": (visible.where(Item.status == DONE), _by_recent),
    }
    ordered = {
        "overdue": (Item.due_on, Item.id),
        "due_soon": (Item.due_on, Item.id),
        "mine": (Item.due_on, Item.id),
        "recent": (Item.updated_at.desc(), Item.id.desc()),
    }
    firsts = []
    for name, (query, _) in selects.items():
        sub = (
            query.order_by(*ordered[name]).limit(SHORT_LIST_SIZES[name]).with_only_columns(Item.id).subquery()
        )
        firsts.append(db.select(sub.c.id, literal(name).label("list")))
    chosen = union_all(*firsts).subquery()
    rows = db.session.execute(
        db.select(Item, chosen.c.list).join(chosen, chosen.c.id == Item.id).options(lazyload(Item.framework))
    ).all()
    out = {name: [] for name in selects}
    for item, name in rows:
        out[name].append(item)
    for name, (_, key) in selects.items():
        out[name].sort(key=key, reverse=key is _by_recent)
    return out


def timeline_from(rows, year, today):
    """Month by month: how many items fall due, how many are done, how many are overdue."""
    months = OrderedDict()
    for d in month_starts(year.starts_on, 12):
        months[(d.year, d.month)] = {"month": d, "total": 0, "done": 0, "overdue": 0}
    for _, _, due_on, status, count in rows:
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
