"""Importing checked register rows (people/importing.py) into the register, fast: thousands of rows in a few
seconds. The caller commits once: an import is saved whole or not at all.

New people and their checklists are inserted a batch at a time (one statement per kind per batch, every
column given so that no default is computed row by row); the people already on the register (matched by
e-mail, or by name and start date when neither has an e-mail) are read once, their checks as plain rows, and
only what the file changes is loaded and written. Importing the register's own export changes nothing.

The audit trail gets one `people.imported` event per import (counts, and the id and name of every person
added) instead of an event per person added; each change to a person already on the register, and to each of
their checks, keeps its own event (`person.changed`, `check.changed`).
"""

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from .. import audit
from ..auth.models import User
from ..db import db, new_id, utcnow
from ..tenancy import Membership
from ..tracking.models import DONE, NOT_APPLICABLE, Item
from . import checklist
from .checks import CHECK_TO_STATUS, update_check
from .models import Person
from .services import update_person

#: rows between two progress reports of an import, and new people written to the database at once
PROGRESS_EVERY = 100
IMPORT_BATCH = 500
#: ids per IN (...) when reading the people and checks already on the register
READ_BATCH = 500
#: the reason kept when an import marks a check not required
IMPORTED_NOT_REQUIRED = "Marked not required in an imported register."


@dataclass
class ImportReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0


def _chunks(values, size=READ_BATCH):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing_people(school, rows) -> tuple[dict, dict]:
    """({e-mail: Person}, {(name, start date): Person without an e-mail}) of the rows' people already on the
    register; one query per READ_BATCH e-mails or names."""
    by_email, by_name = {}, {}
    for chunk in _chunks({r["email"] for r in rows if r["email"]}):
        by_email.update(
            (p.email, p)
            for p in db.session.execute(
                db.select(Person).where(Person.school_id == school.id, Person.email.in_(chunk))
            ).scalars()
        )
    for chunk in _chunks({r["full_name"] for r in rows if not r["email"]}):
        for p in db.session.execute(
            db.select(Person).where(
                Person.school_id == school.id, Person.email.is_(None), Person.full_name.in_(chunk)
            )
        ).scalars():
            by_name.setdefault((p.full_name, p.start_on), p)
    return by_email, by_name


def _member_accounts(school) -> dict:
    """{e-mail: user id} of the school's members (what services._link_account looks up one at a time)."""
    return dict(
        db.session.execute(
            db.select(User.email, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.school_id == school.id)
        ).all()
    )


#: the check columns an import compares with the file
_CHECK_STATE = (
    Item.person_id,
    Item.requirement_key,
    Item.country,
    Item.check_status,
    Item.verified_on,
    Item.expires_on,
)


def _check_states(school, person_ids) -> dict:
    """{person id: {(requirement key, country): row}} of the checks of people on the register."""
    out = {}
    for chunk in _chunks(person_ids):
        for row in db.session.execute(
            db.select(*_CHECK_STATE).where(
                Item.school_id == school.id, Item.person_id.in_(chunk), Item.requirement_key.is_not(None)
            )
        ):
            out.setdefault(row.person_id, {})[(row.requirement_key, row.country)] = row
    return out


def _wanted(check) -> tuple:
    key, country, status, verified_on, expires_on = check
    return (
        status,
        date.fromisoformat(verified_on) if verified_on else None,
        date.fromisoformat(expires_on) if expires_on else None,
    )


def _differs(row, check) -> bool:
    status, verified_on, expires_on = _wanted(check)
    return ((row.check_status or "not_started"), row.verified_on, row.expires_on) != (
        status,
        verified_on if status == "verified" else None,
        expires_on,
    )


def _apply_to_values(values: dict, check, actor_id) -> None:
    """Set a new check's column values to what the file says."""
    status, verified_on, expires_on = _wanted(check)
    values.update(
        check_status=status,
        status=CHECK_TO_STATUS[status],
        verified_on=verified_on if status == "verified" else None,
        verified_by_id=actor_id if status == "verified" else None,
        completed_on=verified_on if CHECK_TO_STATUS[status] == DONE else None,
        na_reason=IMPORTED_NOT_REQUIRED if CHECK_TO_STATUS[status] == NOT_APPLICABLE else "",
        expires_on=expires_on,
    )


def _item_defaults(now) -> dict:
    """Every column of a check item that missing_item_values leaves to its default, given once (so that no
    default is computed row by row); the columns that stay empty are left out (NULL anyway)."""
    return dict(
        occurrence=1,
        status="not_started",
        na_reason="",
        owner_id=None,
        planned_due_on=None,
        completed_on=None,
        notes="",
        answer="",
        to_review=False,
        verified_on=None,
        verified_by_id=None,
        expires_on=None,
        version=1,
        created_at=now,
        updated_at=now,
    )


def import_rows(school, rows: list[dict], *, skipped=0, progress=None, actor=None) -> ImportReport:
    """Add or update people and their checks from checked rows. Importing the same rows again, or the
    register's own export, changes nothing.

    `progress(done, total)` is called every PROGRESS_EVERY rows; `actor` is who confirmed the import
    (background jobs have no signed-in user)."""
    report = ImportReport(skipped=skipped)
    framework = checklist.recruitment_framework()
    # held for the whole import, so that every checklist finds the requirements' sections in the session
    held = [(r, r.section) for r in framework.requirements] if framework is not None else []
    context = checklist.plan_context(school) if framework is not None else None
    by_email, by_name = _existing_people(school, rows)
    accounts = _member_accounts(school)
    states = _check_states(school, [p.id for p in (*by_email.values(), *by_name.values())])
    actor_id = actor.id if actor is not None else None
    now = utcnow()
    defaults = _item_defaults(now)
    new_people, new_items, added = [], [], []
    plans = {}  # checklists made once per (category, start date, countries), copied for each person

    def write():
        if new_people:
            db.session.execute(Person.__table__.insert(), new_people)  # Core: one executemany per batch
        if new_items:
            _insert_many(Item.__table__, new_items)
        new_people.clear()
        new_items.clear()

    for done, r in enumerate(rows, start=1):
        values = dict(
            full_name=r["full_name"],
            category=r["category"],
            start_on=date.fromisoformat(r["start_on"]),
            leave_on=date.fromisoformat(r["leave_on"]) if r["leave_on"] else None,
            countries=list(r["countries"]),
            groups=list(r["groups"]),
        )
        checks = r.get("checks") or []
        key = (values["full_name"], values["start_on"])
        person = by_email.get(r["email"]) if r["email"] else by_name.get(key)
        if person is None:
            person_id = new_id()
            new_people.append(
                dict(
                    id=person_id,
                    school_id=school.id,
                    email=r["email"],
                    user_id=accounts.get(r["email"]),
                    created_at=now,
                    leave_reason="",
                    leave_note="",
                    **values,
                )
            )
            items = _plan(school, framework, context, plans, values, person_id)
            wanted = {(c[0], c[1]): c for c in checks}
            for item in items:
                full = {**defaults, **item, "id": new_id()}
                check = wanted.get((item["requirement_key"], item["country"]))
                if check is not None:
                    _apply_to_values(full, check, actor_id)
                new_items.append(full)
            added.append((person_id, values["full_name"], len(items)))
            report.added += 1
        else:
            changed = update_person(school, person, email=r["email"], actor=actor, **values)
            changed = _update_checks(school, person, checks, states.get(person.id, {}), actor) or changed
            if changed:
                report.changed += 1
            else:
                report.unchanged += 1
        if len(new_people) >= IMPORT_BATCH:
            write()
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done, len(rows))
    write()
    del held
    audit.record(
        "people.imported",
        school=school,
        subject_type="people",
        actor=actor,
        after={
            "added": report.added,
            "changed": report.changed,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
            "checks_added": sum(n for _, _, n in added),
            "people_added": [[str(pid), name] for pid, name, _ in added],
        },
    )
    return report


def _insert_many(table, rows: list[dict]) -> None:
    """INSERT `rows` (all with the same keys) in one executemany, each distinct value of a column converted
    for the driver once: a checklist repeats its school, framework, requirement, person and dates over
    thousands of rows, and SQLAlchemy would convert every one of them again (half an import's time)."""
    conn = db.session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    order = list(compiled.positiontup) if compiled.positional else keys
    if set(order) != set(keys):  # a dialect that names its parameters otherwise: the general way
        db.session.execute(table.insert(), rows)
        return
    converters = []
    for key in order:
        process = table.c[key].type._cached_bind_processor(dialect)
        converters.append((key, process, {} if process is not None and key != "id" else None))

    def convert(row):
        out = []
        for key, process, seen in converters:
            value = row[key]
            if process is None or value is None:
                out.append(value)
            elif seen is None:
                out.append(process(value))
            else:
                try:
                    out.append(seen[value])
                except KeyError:
                    out.append(seen.setdefault(value, process(value)))
                except TypeError:  # unhashable (a JSON list)
                    out.append(process(value))
        return tuple(out) if compiled.positional else dict(zip(order, out, strict=True))

    conn.exec_driver_sql(compiled.string, [convert(r) for r in rows])


def _plan(school, framework, context, plans, values, person_id) -> list[dict]:
    """A new person's checklist as column values: the same for everyone of the same category, start date and
    countries (and leave date: a leaver gets none), so it is made once per such group and copied."""
    if framework is None:
        return []
    key = (values["category"], values["start_on"], values["leave_on"], tuple(values["countries"]))
    plan = plans.get(key)
    if plan is None:
        person = SimpleNamespace(id=None, email=None, leave_reason="", **values)
        plan = plans[key] = checklist.missing_item_values(school, person, framework, context=context)
    return [{**item, "person_id": person_id} for item in plan]


def _update_checks(school, person, checks, state: dict, actor) -> bool:
    """Bring the person's checks to what the file says (each change audited); True if any changed."""
    changed = [c for c in checks if (c[0], c[1]) in state and _differs(state[(c[0], c[1])], c)]
    if not changed:
        return False
    keys = {(c[0], c[1]) for c in changed}
    items = {
        (i.requirement_key, i.country): i
        for i in db.session.execute(
            db.select(Item).where(
                Item.school_id == school.id,
                Item.person_id == person.id,
                Item.requirement_key.in_({k for k, _ in keys}),
            )
        ).scalars()
        if (i.requirement_key, i.country) in keys
    }
    user = actor if actor is not None else SimpleNamespace(id=None)
    for check in changed:
        item = items[(check[0], check[1])]
        status, verified_on, expires_on = _wanted(check)
        update_check(
            school,
            item,
            version=item.version,
            check_status=status,
            verified_on=verified_on,
            expires_on=expires_on,
            na_reason=(item.na_reason or IMPORTED_NOT_REQUIRED) if status == "not_required" else "",
            user=user,
        )
        if status == "verified" and verified_on is None:
            item.verified_on = None  # the file says verified without a date: the validator shows the gap
    return True
