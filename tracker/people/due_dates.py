"""When each recruitment check is due: the person's start date plus the check's offset (the requirement's
`timing.days_from_start`; negative = before they start, positive = after arrival).

A late hire (a start date close or already past) gets a realistic plan rather than checks overdue on day one:
a check whose planned date is already past when it is made is due today instead, its planned date kept in
`planned_due_on` (the page shows it as "late hire"). A check due before the start date is "needed before day
one" while the person has not started yet.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm.exc import StaleDataError

from ..db import UuidAsGiven, as_given, db, given_form, utcnow
from ..frameworks.models import Requirement
from ..tracking.models import OPEN_STATUSES, Item, ItemKind

#: the offset of checks whose requirement carries no timing (or is gone): due on the start date
DEFAULT_OFFSET = 0


def offset_of(requirement) -> int:
    """Days from the start date the requirement's check is due (negative = before the start)."""
    if requirement is None:
        return DEFAULT_OFFSET
    return _offset(requirement.timing)


def _offset(timing) -> int:
    return int((timing or {}).get("days_from_start", DEFAULT_OFFSET))


@dataclass(frozen=True)
class Due:
    #: the date the check is due
    on: date
    #: the date the person's start date and the offset give, when it was moved to today (late hire); else None
    planned: date | None


def due_for(start_on: date, offset: int, today: date) -> Due:
    """The due date of a check with `offset` for a person starting on `start_on`, made or moved `today`."""
    planned = start_on + timedelta(days=offset)
    if planned < today:
        return Due(on=today, planned=planned)
    return Due(on=planned, planned=None)


def before_start(item, person) -> bool:
    """True when the check must be done before the person starts (due, or planned, before the start)."""
    return (item.planned_due_on or item.due_on) < person.start_on


def needed_before_day_one(item, person, today: date) -> bool:
    """An open check the person needs before their first day, which has not come yet."""
    return item.is_open and before_start(item, person) and person.start_on >= today


def move_open_checks(school, person, items, today: date) -> int:
    """Recompute the due dates of the person's open checks after their start date changed. Returns how many
    moved."""
    moved = 0
    for item in items:
        if not item.is_open or item.kind != ItemKind.CHECK:
            continue
        due = due_for(person.start_on, offset_of(item.requirement), today)
        if (item.due_on, item.planned_due_on) != (due.on, due.planned):
            item.due_on, item.planned_due_on = due.on, due.planned
            moved += 1
    return moved


#: people whose open checks move_open_checks_of reads and moves at once
MOVE_BATCH = 500


def move_open_checks_of(school, starts: dict, today: date) -> int:
    """move_open_checks() for many people at once (imports): `starts` is {person id: new start date}. Their
    open checks are read as plain rows, MOVE_BATCH people at a time, and the ones that move are written with
    one UPDATE per batch (an executemany; on PostgreSQL, one statement of arrays), the version and updated_at
    moving as a flush would move them; a check changed meanwhile fails the whole change (StaleDataError), as
    the flush would. Checks of these people already loaded in the session are expired. Returns how many
    moved.

    Ids go to and from the driver as it gives them (as_given): on SQLite, making a UUID of every id read was
    most of the work."""
    table = Item.__table__
    update = (
        table.update()
        .where(
            table.c.id == db.bindparam("m_id", type_=UuidAsGiven()),
            table.c.version == db.bindparam("m_version", type_=table.c.version.type),
        )
        .values(
            due_on=db.bindparam("m_due_on", type_=table.c.due_on.type),
            planned_due_on=db.bindparam("m_planned", type_=table.c.planned_due_on.type),
            version=table.c.version + 1,
            updated_at=db.bindparam("m_now", type_=table.c.updated_at.type),
        )
    )
    people = set(starts)
    dialect = db.session.connection().dialect
    pg_arrays = dialect.name == "postgresql" and dialect.driver == "psycopg"
    given = given_form(table.c.person_id)
    starts = {given(pid): start_on for pid, start_on in starts.items()}
    offsets, moved, ids = {}, 0, list(starts)
    for start in range(0, len(ids), MOVE_BATCH):
        chunk = ids[start : start + MOVE_BATCH]
        rows = db.session.execute(
            db.select(
                as_given(Item.id),
                as_given(Item.person_id),
                as_given(Item.requirement_id),
                Item.due_on,
                Item.planned_due_on,
                Item.version,
            ).where(
                Item.school_id == school.id,
                as_given(Item.person_id).in_(chunk),
                Item.status.in_(OPEN_STATUSES),
                Item.kind == ItemKind.CHECK,
            )
        ).all()
        wanted = {r[2] for r in rows if r[2] is not None} - offsets.keys()
        if wanted:
            offsets.update(
                (rid, _offset(timing))
                for rid, timing in db.session.execute(
                    db.select(as_given(Requirement.id), Requirement.timing).where(
                        as_given(Requirement.id).in_(wanted)
                    )
                )
            )
        now, params = utcnow(), []
        for item_id, person_id, requirement_id, due_on, planned_due_on, version in rows:
            due = due_for(starts[person_id], offsets.get(requirement_id, DEFAULT_OFFSET), today)
            if (due_on, planned_due_on) != (due.on, due.planned):
                params.append(
                    dict(m_id=item_id, m_version=version, m_due_on=due.on, m_planned=due.planned, m_now=now)
                )
        if not params:
            continue
        if pg_arrays:  # one statement, not a statement per check
            result = db.session.connection().exec_driver_sql(
                _PG_UPDATE,
                (
                    given_form(table.c.updated_at)(now),
                    *([p[k] for p in params] for k in ("m_id", "m_version", "m_due_on", "m_planned")),
                ),
            )
        else:
            result = db.session.execute(update, params)
        if result.rowcount != len(params):
            raise StaleDataError(
                f"{len(params) - result.rowcount} of {len(params)} checks changed while their due dates moved"
            )
        moved += len(params)
    for obj in list(db.session.identity_map.values()):
        # read without loading: an expired item reloads anyway
        if isinstance(obj, Item) and db.inspect(obj).dict.get("person_id") in people:
            db.session.expire(obj)
    return moved


#: move_open_checks_of's UPDATE on PostgreSQL: the moves as arrays (sent in binary: psycopg makes the text
#: form of an array in Python), one statement for a batch of people. Driven by the ids: each check is found by
#: its primary key (with the version read) and updated where it lies (ctid), whatever the planner knows of the
#: table (a join of the arrays with items read the whole table, every school's, once per batch: without
#: statistics the planner saw no better way). A check changed meanwhile by another transaction is no longer
#: where it lay: it is not updated (and the count tells).
_PG_UPDATE = (
    "UPDATE items SET due_on = x.due_on, planned_due_on = x.planned, version = items.version + 1, "
    "updated_at = %b FROM (SELECT t.tid, m.due_on, m.planned "
    "FROM unnest(CAST(%b AS UUID[]), CAST(%b AS INTEGER[]), CAST(%b AS DATE[]), CAST(%b AS DATE[])) "
    "AS m(id, version, due_on, planned) CROSS JOIN LATERAL (SELECT items.ctid AS tid FROM items "
    "WHERE items.id = m.id AND items.version = m.version OFFSET 0) AS t) AS x "
    "WHERE items.ctid = x.tid"
)
