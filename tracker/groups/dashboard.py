"""The group dashboard: one row per school of the group, read with a fixed number of queries whatever the
number of schools (each figure is one grouped query over every school at once, never one per school).

Each school's row is kept (tracker/pagecache.py's per-process cache) while its audit head (every change to a
school's data writes an event), its date and the loaded frameworks stand still: one query reads the heads of
all the group's schools, and only the schools whose head moved are counted again (the same grouped queries,
over those schools). Rows hold plain values, never ORM objects, so they outlive the request's session."""

import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Date, String, case, func, literal, or_, type_coerce

from .. import pagecache
from ..audit import AuditHead
from ..dates import add_days
from ..db import db, utcnow
from ..evidence.models import VERIFIED
from ..frameworks.models import Framework
from ..people.models import Person, RiskAssessment
from ..review.models import CLOSED, ReviewQuery
from ..tenancy import School
from ..tracking.models import DONE, NOT_APPLICABLE, OPEN_STATUSES, Item, ItemKind, SchoolYear
from ..training.coverage import activities, in_audience, state
from ..training.models import TrainingAttendance, TrainingSession

OWN_ITEMS = "School's own items"


@dataclass
class FrameworkProgress:
    title: str
    #: the framework's key, "own" for the school's own items (the items list's `framework` filter)
    key: str = "own"
    done: int = 0
    countable: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.countable) if self.countable else 100


@dataclass(frozen=True)
class SchoolRef:
    """What the dashboard shows of a school."""

    id: UUID
    slug: str
    name: str


@dataclass(frozen=True)
class YearRef:
    """What the dashboard and the group report show of a school's current year."""

    id: UUID
    label: str
    starts_on: date
    ends_on: date


@dataclass
class SchoolRow:
    school: SchoolRef
    today: date
    year: YearRef | None = None
    frameworks: list = field(default_factory=list)
    overdue: int = 0
    open_queries: int = 0
    register_gaps: int = 0
    overdue_checks: int = 0
    training_due: int = 0
    training_total: int = 0
    last_sign_off: datetime | None = None

    @property
    def progress(self) -> int:
        countable = sum(f.countable for f in self.frameworks)
        return round(100 * sum(f.done for f in self.frameworks) / countable) if countable else 100

    @property
    def training_percent(self) -> int:
        if not self.training_total:
            return 100
        return round(100 * (self.training_total - self.training_due) / self.training_total)

    @property
    def needs_attention(self) -> bool:
        return bool(self.overdue or self.register_gaps or self.overdue_checks or self.open_queries)


def _current_years(rows, years):
    """Each school's current year, as tracking.years.current_year picks it (latest started, else the next)."""
    by_school = {}
    for y in years:  # newest first
        by_school.setdefault(y.school_id, []).append(y)
    for row in rows:
        mine = by_school.get(row.school.id, [])
        year = next((y for y in mine if y.starts_on <= row.today), mine[-1] if mine else None)
        if year is not None:
            row.year = YearRef(year.id, year.label, year.starts_on, year.ends_on)
        signed = [y.signed_off_at for y in mine if y.signed_off_at is not None]
        row.last_sign_off = max(signed) if signed else None


def school_rows(group) -> list[SchoolRow]:
    """One SchoolRow per school of `group`, by name. Read-only: the same rows may serve later requests."""
    now = utcnow()
    rows = [
        SchoolRow(
            school=SchoolRef(s.id, s.slug, s.name), today=now.astimezone(zoneinfo.ZoneInfo(s.timezone)).date()
        )
        for s in db.session.execute(
            db.select(School.id, School.slug, School.name, School.timezone)
            .where(School.group_id == group.id)
            .order_by(School.name, School.id)
        )
    ]
    if not rows:
        return rows
    if not pagecache.enabled():
        return _count(rows)
    keys = _keys(rows)
    kept = [pagecache.fragments.get(key) for key in keys]
    fresh = [i for i, old in enumerate(kept) if old is None]
    if fresh:
        _count([rows[i] for i in fresh])
        for i in fresh:
            pagecache.fragments.put(keys[i], rows[i])
    # the kept figures under this request's name and address of the school (a rename needs no recount)
    return [
        row if old is None else replace(old, school=row.school) for row, old in zip(rows, kept, strict=True)
    ]


def _keys(rows) -> list[tuple]:
    """Each school's cache key: its id, date and audit head, and the loaded frameworks (the training plan
    and the frameworks' titles come from them). Two queries for any number of schools."""
    heads = dict(
        db.session.execute(
            db.select(AuditHead.chain, AuditHead.hash).where(
                AuditHead.chain.in_([str(r.school.id) for r in rows])
            )
        ).all()
    )
    frameworks = tuple(
        db.session.execute(db.select(func.count(Framework.id), func.max(Framework.loaded_at))).one()
    )
    return [("group-row", r.school.id, r.today, heads.get(str(r.school.id)), frameworks) for r in rows]


def _count(rows) -> list[SchoolRow]:
    ids = [r.school.id for r in rows]
    by_id = {r.school.id: r for r in rows}
    years = db.session.execute(
        db.select(
            SchoolYear.id,
            SchoolYear.school_id,
            SchoolYear.label,
            SchoolYear.starts_on,
            SchoolYear.ends_on,
            SchoolYear.signed_off_at,
        )
        .where(SchoolYear.school_id.in_(ids))
        .order_by(SchoolYear.starts_on.desc())
    ).all()
    _current_years(rows, years)
    year_ids = [r.year.id for r in rows if r.year is not None]
    _progress(by_id, year_ids)
    _queries(by_id, ids)
    _register(by_id, ids)
    _training(by_id, ids)
    return rows


def _progress(by_id, year_ids):
    """Done and countable items per framework, and the open items due before the school's own today (overdue),
    in one pass over the current years' items."""
    counts = db.session.execute(
        db.select(
            Item.school_id,
            Framework.key,
            Framework.title,
            Item.status,
            func.count(),
            func.sum(case((Item.due_on < _today_of(by_id, Item.school_id), 1), else_=0)),
        )
        .select_from(Item)
        .outerjoin(Framework, Framework.id == Item.framework_id)
        .where(Item.year_id.in_(year_ids), Item.person_id.is_(None))
        .group_by(Item.school_id, Framework.key, Framework.title, Item.status)
    ).all()
    progress = {}
    for school_id, key, title, status, count, late in counts:
        fp = progress.setdefault(
            (school_id, title or OWN_ITEMS), FrameworkProgress(title or OWN_ITEMS, key or "own")
        )
        if status != NOT_APPLICABLE:
            fp.countable += count
        if status == DONE:
            fp.done += count
        if status in OPEN_STATUSES:
            by_id[school_id].overdue += int(late or 0)
    for (school_id, _title), fp in sorted(progress.items(), key=lambda kv: (kv[0][1] == OWN_ITEMS, kv[0][1])):
        by_id[school_id].frameworks.append(fp)


def _queries(by_id, ids):
    for school_id, count in db.session.execute(
        db.select(ReviewQuery.school_id, func.count())
        .where(ReviewQuery.school_id.in_(ids), ReviewQuery.state != CLOSED)
        .group_by(ReviewQuery.school_id)
    ).all():
        by_id[school_id].open_queries = count


def _today_of(by_id, school_id_column):
    """Each school's own date, as a SQL expression of the row's school (CASE school_id WHEN ... THEN ...): the
    schools of a group may be in different time zones, and every comparison with "today" is made in SQL. One
    date when they all share it (the usual case: one country), which spares the database a CASE per row."""
    todays = {row.today for row in by_id.values()}
    if len(todays) == 1:
        return literal(todays.pop(), Date)
    return case({school_id: row.today for school_id, row in by_id.items()}, value=school_id_column)


def _register(by_id, ids):
    """Gaps: people (not left) with an open recruitment check no signed risk assessment covers; overdue
    checks: those open checks already past their due date. Counted in SQL, one row per school."""
    today = _today_of(by_id, Item.school_id)
    covered = db.select(RiskAssessment.item_id).where(
        RiskAssessment.school_id.in_(ids), RiskAssessment.signed_at.is_not(None)
    )
    rows = db.session.execute(
        db.select(
            Item.school_id,
            func.count(Item.person_id.distinct()),
            func.sum(case((Item.due_on < today, 1), else_=0)),
        )
        .join(Person, Person.id == Item.person_id)
        .where(
            Item.school_id.in_(ids),
            Item.kind == ItemKind.CHECK,
            Item.status.in_(OPEN_STATUSES),
            Item.id.not_in(covered),
            or_(Person.leave_on.is_(None), Person.leave_on >= today),
        )
        .group_by(Item.school_id)
    ).all()
    for school_id, gaps, overdue in rows:
        by_id[school_id].register_gaps = gaps
        by_id[school_id].overdue_checks = int(overdue or 0)


def _training(by_id, ids):
    """Training coverage as training/coverage.py counts it: (person, activity) pairs of the people who have
    not left, and how many are overdue or never done. Which activities a person's audience calls for is worked
    out once per kind of person (category, groups, new or not), not once per person."""
    # thousands of rows for sixty schools: read as plain rows (the connection's, not the ORM's), the person's
    # id as the database gives it (only ever matched with itself, never turned into a UUID object)
    connection = db.session.connection()
    people = connection.execute(
        db.select(
            Person.school_id,
            type_coerce(Person.id, String).label("id"),
            Person.category,
            Person.groups,
            Person.start_on,
            Person.leave_on,
        ).where(Person.school_id.in_(ids))
    ).all()
    done = {}  # person id: {activity key: the date last done}
    for pid, key, held in connection.execute(
        db.select(
            type_coerce(TrainingAttendance.person_id, String),
            TrainingSession.requirement_key,
            func.max(TrainingSession.held_on),
        )
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(TrainingAttendance.school_id.in_(ids), TrainingSession.verification == VERIFIED)
        .group_by(TrainingAttendance.person_id, TrainingSession.requirement_key)
    ).all():
        done.setdefault(pid, {})[key] = held
    plan = activities()
    # (school's today, category, groups, new?): what training/coverage.py's audience rules read of a person;
    # the (activity key, repeat) pairs that apply to that kind of person, worked out once per kind
    applies = {}
    # (date last done, repeat, today): overdue or not (the expiry's month arithmetic once per distinct date)
    lapsed = {}
    year_ago = {row.today: add_days(row.today, -365) for row in by_id.values()}
    for p in people:
        row = by_id[p.school_id]
        today = row.today
        if p.leave_on is not None and p.leave_on < today:
            continue
        kind = (today, p.category, tuple(p.groups or ()), p.start_on >= year_ago[today])
        pairs = applies.get(kind)
        if pairs is None:
            pairs = applies[kind] = [(a.key, a.repeat) for a in plan if in_audience(p, a.audience, today)]
        row.training_total += len(pairs)
        mine = done.get(p.id)
        if mine is None:  # nothing done yet: every activity is due
            row.training_due += len(pairs)
            continue
        for key, repeat in pairs:
            held = mine.get(key)
            if held is None:
                row.training_due += 1
                continue
            due = lapsed.get((held, repeat, today))
            if due is None:
                due = lapsed[held, repeat, today] = state(held, repeat, today)[0] == "overdue"
            row.training_due += due


SORTS = {
    "name": (lambda r: r.school.name.lower(), False),
    "progress": (lambda r: r.progress, False),
    "overdue": (lambda r: r.overdue, True),
    "queries": (lambda r: r.open_queries, True),
    "gaps": (lambda r: r.register_gaps, True),
    "checks": (lambda r: r.overdue_checks, True),
    "training": (lambda r: r.training_percent, False),
    "signoff": (lambda r: r.last_sign_off.isoformat() if r.last_sign_off else "", False),
}
SORT_LABELS = {
    "name": "School name",
    "progress": "Progress (lowest first)",
    "overdue": "Overdue items (most first)",
    "queries": "Open queries (most first)",
    "gaps": "Register gaps (most first)",
    "checks": "Overdue checks (most first)",
    "training": "Training coverage (lowest first)",
    "signoff": "Last sign-off (oldest first)",
}


def sort_and_filter(rows, *, sort="name", q="", attention=False):
    if q:
        rows = [r for r in rows if q.lower() in r.school.name.lower()]
    if attention:
        rows = [r for r in rows if r.needs_attention]
    key, reverse = SORTS[sort]
    return sorted(
        rows, key=lambda r: (key(r), r.school.name.lower()) if not reverse else (key(r),), reverse=reverse
    )
