"""The dashboard's queries: what is waiting for the member, progress per framework and section, the short
lists, tiles and timeline."""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from sqlalchemy import bindparam, func, literal, union_all
from sqlalchemy.orm import joinedload, lazyload, load_only

from ..auth.models import User
from ..dates import month_starts
from ..db import db
from ..frameworks.models import Framework
from ..waiting import lines_for
from .models import DONE, IN_PROGRESS, NOT_APPLICABLE, OPEN_STATUSES, Item, SchoolYearFramework
from .ordering import LAST, section_positions
from .shared import references, shared_counts
from .visibility import _open, per_role, visible_criteria, visible_items


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


def _params(school, membership, **values) -> dict:
    return {"school_id": school.id, "member_id": getattr(membership, "user_id", None), **values}


def year_counts(school, year, membership):
    """One grouped query over the member's items of the year: (framework title, section, due date, status,
    count) rows, at most one per distinct combination, from which progress, tiles and the timeline are
    made."""

    def build(school, member):
        return (
            db.select(Framework.title, Item.section_title, Item.due_on, Item.status, func.count())
            .select_from(Item)
            .outerjoin(Framework, Framework.id == Item.framework_id)
            .where(*visible_criteria(school, member), Item.year_id == bindparam("year_id"))
            .group_by(Framework.title, Item.section_title, Item.due_on, Item.status)
        )

    statement = per_role("dashboard.year_counts", membership.role, build)
    return db.session.execute(statement, _params(school, membership, year_id=year.id)).all()


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


#: {(id, checksum) of each framework version a year tracks: (section positions, `same_as` references)}
_framework_shapes: dict = {}


@cache
def _year_frameworks_statement():
    return (
        db.select(Framework.id, Framework.key, Framework.checksum)
        .join(SchoolYearFramework, SchoolYearFramework.framework_id == Framework.id)
        .where(SchoolYearFramework.year_id == bindparam("year_id"))
    )


def framework_shape(year):
    """The year's framework versions (one query), their sections' order (ordering.section_positions) and
    their `same_as` references (shared.references), the last two read once per process for each set of
    versions: a version's sections and requirements change only with its file
    (frameworks.services.load_framework), which changes its checksum too, so the versions' ids and checksums
    say whether what was read still holds. Two queries fewer on every dashboard. The versions are read as
    plain (id, key, checksum) rows, all that is used of them here and in shared.shared_counts."""
    frameworks = db.session.execute(_year_frameworks_statement(), {"year_id": year.id}).all()
    key = tuple(sorted((str(f.id), f.checksum) for f in frameworks))
    shape = _framework_shapes.get(key)
    if shape is None:
        if len(_framework_shapes) >= 64:
            _framework_shapes.clear()
        shape = _framework_shapes[key] = (section_positions(year), references(year))
    return frameworks, *shape


def dashboard(school, year, membership, user_id) -> dict:
    """Everything the dashboard shows, in a fixed number of queries whatever the number of items: "Waiting for
    you" (each feature's lines, tracker/waiting.py), the four short lists and one grouped count from which the
    tiles, the progress bars and the timeline are made."""
    today = school.today()
    waiting = lines_for(school, membership, today)
    data = short_lists(school, year, membership, user_id, today)
    rows = year_counts(school, year, membership)
    soon = today + timedelta(days=30)
    open_rows = [(due_on, count) for _, _, due_on, status, count in rows if status in OPEN_STATUSES]
    data["overdue_count"] = sum(count for due_on, count in open_rows if due_on < today)
    data["due_soon_count"] = sum(count for due_on, count in open_rows if today <= due_on <= soon)
    frameworks, positions, refs = framework_shape(year)
    shared = shared_counts(school, year, membership, refs=refs, frameworks=frameworks)
    data["progress"] = progress_from(rows + shared, positions)
    data["timeline"] = timeline_from(rows, year, today)
    data["today"] = today
    data["waiting"] = waiting
    return data


#: the columns of an item that a list row shows (tracking/_macros.html `item_list` and `status_tag`, the item
#: list's table) and sorts by
LIST_COLUMNS = (
    Item.id,
    Item.version,
    Item.title,
    Item.section_title,
    Item.occurrence,
    Item.status,
    Item.to_review,
    Item.due_on,
    Item.updated_at,
    Item.owner_id,
    Item.framework_id,
)


def list_row_options(with_framework=False):
    """Loader options for items shown as list rows: their `LIST_COLUMNS`, the owner's name and e-mail, and
    the framework's title when the row shows it. Making every column of 50 items and of their owners and
    frameworks (two JSON columns each) was a third of loading them. An attribute left out still loads when
    read, with a query per item, which the statement-count tests (tests/test_tracking_queries.py) catch."""
    framework = (
        joinedload(Item.framework).load_only(Framework.id, Framework.title)
        if with_framework
        else lazyload(Item.framework)
    )
    return (
        load_only(*LIST_COLUMNS),
        joinedload(Item.owner).load_only(User.id, User.name, User.email),
        framework,
    )


#: the dashboard's short lists: how many rows each shows
SHORT_LIST_SIZES = {"overdue": 10, "due_soon": 10, "mine": 10, "recent": 6}


def _by_due(item):
    return (item.due_on, item.id)


def _by_recent(item):
    return (item.updated_at, item.id)


def short_lists(school, year, membership, user_id, today) -> dict:
    """The dashboard's four short lists in one query: each list's first rows (a limited select per list, their
    ids labelled with the list's name and joined in one UNION ALL), read as plain rows (`ListRow`). The rules
    live only in the SQL; Python puts each list back in its order (orders end on the id, so ties agree). The
    statement is built once per role (`visibility.per_role`)."""
    statement = per_role("dashboard.short_lists", membership.role, _short_lists_statement)
    params = _params(
        school, membership, year_id=year.id, user_id=user_id, today=today, soon=today + timedelta(days=30)
    )
    out = {name: [] for name in SHORT_LIST_ORDERS}
    for *values, name in db.session.execute(statement, params):
        out[name].append(ListRow(*values))
    for name, key in SHORT_LIST_ORDERS.items():
        out[name].sort(key=key, reverse=key is _by_recent)
    return out


class OwnerName:
    """An item's owner as a short list shows them: `display_name` is User's own rule."""

    __slots__ = ("name", "email")
    display_name = User.display_name

    def __init__(self, name, email):
        self.name = name
        self.email = email


class ListRow:
    """A short list's item as its row reads it (tracking/_macros.html `item_list` and `status_tag`), with
    Item's own `is_open` and `is_overdue`: loading 36 ORM items and their owners was a third of the lists'
    time (500-staff school)."""

    __slots__ = ("id", "title", "due_on", "status", "to_review", "updated_at", "owner")
    is_open = Item.is_open
    is_overdue = Item.is_overdue

    def __init__(self, id, title, due_on, status, to_review, updated_at, owner_id, owner_name, owner_email):
        self.id = id
        self.title = title
        self.due_on = due_on
        self.status = status
        self.to_review = to_review
        self.updated_at = updated_at
        self.owner = OwnerName(owner_name, owner_email) if owner_id is not None else None


#: each short list's order in Python (the SQL's own order is in `_short_lists_statement`)
SHORT_LIST_ORDERS = {"overdue": _by_due, "due_soon": _by_due, "mine": _by_due, "recent": _by_recent}


def _short_lists_statement(school, member):
    visible = visible_items(school, member).where(Item.year_id == bindparam("year_id"))
    open_ = _open(visible)
    today = bindparam("today")
    selects = {
        "overdue": open_.where(Item.due_on < today),
        "due_soon": open_.where(Item.due_on.between(today, bindparam("soon"))),
        "mine": open_.where(Item.owner_id == bindparam("user_id")),
        "recent": visible.where(Item.status == DONE),
    }
    ordered = {
        "overdue": (Item.due_on, Item.id),
        "due_soon": (Item.due_on, Item.id),
        "mine": (Item.due_on, Item.id),
        "recent": (Item.updated_at.desc(), Item.id.desc()),
    }
    firsts = []
    for name, query in selects.items():
        sub = (
            query.order_by(*ordered[name]).limit(SHORT_LIST_SIZES[name]).with_only_columns(Item.id).subquery()
        )
        firsts.append(db.select(sub.c.id, literal(name).label("list")))
    chosen = union_all(*firsts).subquery()
    return (
        db.select(
            Item.id,
            Item.title,
            Item.due_on,
            Item.status,
            Item.to_review,
            Item.updated_at,
            Item.owner_id,
            User.name,
            User.email,
            chosen.c.list,
        )
        .join(chosen, chosen.c.id == Item.id)
        .outerjoin(User, User.id == Item.owner_id)
    )


def timeline_from(rows, year, today):
    """Month by month: how many items fall due, how many are done, how many are overdue; with the month's
    texts the table shows (its label, its name, its `?month=` value, whether it is this month), made here
    once rather than by the template, row by row."""
    months = OrderedDict()
    for d in month_starts(year.starts_on, 12):
        months[(d.year, d.month)] = {
            "month": d,
            "label": d.strftime("%b %Y"),
            "name": d.strftime("%B"),
            "param": d.strftime("%Y-%m"),
            "current": d.year == today.year and d.month == today.month,
            "total": 0,
            "done": 0,
            "overdue": 0,
        }
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
