"""Importing checked register rows (people/importing.py) into the register, fast: thousands of rows in a few
seconds. The caller commits once: an import is saved whole or not at all.

New people and their checklists are inserted a batch at a time (one statement per kind per batch, every
column given so that no default is computed row by row); the people already on the register (matched by
e-mail, or by name and start date when neither has an e-mail) are read once, their checks as plain rows, and
only what the file changes is loaded and written. Importing the register's own export changes nothing. On
PostgreSQL a batch's checks are inserted while the next batch is made (psycopg's pipeline mode on the
session's connection: _Pending), in the same transaction.

The audit trail gets one `people.imported` event per import (counts, the id and name of every person added,
and the id, name and changes of every person changed) instead of an event per person added or changed; each
change to a check that the file makes keeps its own event (`check.changed`). When start dates move, the open
checks of the people whose checks nothing else touches move together, a batch of people at a time
(due_dates.move_open_checks_of); the rest (a person also in the file's check columns, or whose checklist
changes) move at once, in the order update_person moves them, so the resulting data is the same.
"""

import os
import select
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from .. import audit
from ..auth.models import User
from ..db import as_given, db, given_form, new_id, utcnow
from ..tenancy import Membership
from ..tracking.models import DONE, NOT_APPLICABLE, Item, ItemKind
from . import checklist
from .checks import CHECK_TO_STATUS, update_check
from .due_dates import MOVE_BATCH, move_open_checks_of
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
    as_given(Item.person_id).label("person_id"),
    Item.requirement_key,
    Item.country,
    Item.check_status,
    Item.verified_on,
    Item.expires_on,
)


def _check_states(school, person_ids) -> dict:
    """{person id: {(requirement key, country): row}} of the checks of people on the register (the items
    sync_checklist reads). The ids are read as the driver gives them (a UUID made of each row's is most of
    the work on SQLite) and matched with `person_ids` converted once."""
    given = given_form(Item.person_id)
    ids = {given(i): i for i in person_ids}
    out = {}
    conn = db.session.connection()
    pg_arrays = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
    school_id = given_form(Item.school_id)(school.id)
    for chunk in _chunks(ids):
        if pg_arrays:
            rows = conn.exec_driver_sql(_PG_CHECK_STATES, (chunk, school_id)).all()  # all: not row by row
        else:
            rows = db.session.execute(
                db.select(*_CHECK_STATE).where(
                    Item.school_id == school.id,
                    as_given(Item.person_id).in_(chunk),
                    Item.kind == ItemKind.CHECK,
                )
            )
        for row in rows:
            out.setdefault(ids[row.person_id], {})[(row.requirement_key, row.country)] = row
    return out


#: _check_states' query on PostgreSQL, driven by the people: for each id, its items found through
#: ix_items_person_id (a parameterized index scan on person_id alone, the only index that can serve it: the
#: subquery's OFFSET 0 keeps the school and kind conditions outside it). Without it, right after a large
#: import (no planner statistics yet), the planner took ix_items_school_id_kind_status_person_id_due_on for
#: "school_id = ? AND kind = ?" (estimated as one row) and compared every check of the school with each of
#: the 500 ids: 1.7 s of server CPU per 500 people.
_PG_CHECK_STATES = (
    "SELECT i.person_id, i.requirement_key, i.country, i.check_status, i.verified_on, i.expires_on "
    "FROM unnest(CAST(%b AS UUID[])) AS p(id) CROSS JOIN LATERAL ("
    "SELECT items.school_id, items.kind, items.person_id, items.requirement_key, items.country, "
    "items.check_status, items.verified_on, items.expires_on FROM items WHERE items.person_id = p.id OFFSET 0"
    f") AS i WHERE i.school_id = %b AND i.kind = '{ItemKind.CHECK.value}'"
)


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
    if db.session.connection().dialect.name == "postgresql":
        # no JIT compilation for the rest of the import's transaction: right after a large import (no planner
        # statistics yet) the estimates of the statements driven by ids (_check_states, the moves) are a share
        # of the whole table, past jit_above_cost, and compiling one cost ten times running it
        db.session.execute(db.text("SET LOCAL jit = off"))
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
    new_people, new_items, added, changed_people = [], [], [], []
    plans = {}  # checklists made once per (category, start date, countries), copied for each person
    today = context["today"] if context is not None else school.today()
    moves, seen, moved = {}, set(), 0  # {person id: new start date} of the open checks still to move

    def move():
        nonlocal moved
        moved += move_open_checks_of(school, moves, today)
        moves.clear()

    def write():
        if new_people:
            db.session.execute(Person.__table__.insert(), new_people)  # Core: one executemany per batch
        if new_items:
            _insert_many(Item.__table__, new_items, new_ids=True, pending=pending)
        new_people.clear()
        new_items.clear()

    pending = _Pending(db.session.connection())  # PostgreSQL: a batch's checks go in while the next is made
    try:
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
                    full = {**defaults, **item}  # its id given by _insert_many
                    check = wanted.get((item["requirement_key"], item["country"]))
                    if check is not None:
                        _apply_to_values(full, check, actor_id)
                    new_items.append(full)
                added.append((person_id, values["full_name"], len(items)))
                report.added += 1
            else:
                state = states.get(person.id, {})
                checks = [c for c in checks if (c[0], c[1]) in state and _differs(state[(c[0], c[1])], c)]
                email = (r["email"] or "").strip().lower() or None
                if person.id in seen or email != person.email:  # rare: the general way, its own audit event
                    move()
                    changed = update_person(school, person, email=email, actor=actor, **values)
                else:
                    change = _change_person(school, person, values, accounts)
                    changed = change is not None
                    if changed:
                        changed_people.append([str(person.id), person.full_name, *change])
                        resync = not _checklist_in_step(school, framework, context, plans, person, state)
                        if "start_on" in change[1]:
                            moves[person.id] = person.start_on
                            if resync or checks:  # moved before the checklist or the checks change them
                                move()
                        if resync:
                            checklist.sync_checklist(school, person, framework)
                seen.add(person.id)
                changed = _update_checks(school, person, checks, actor) or changed
                if changed:
                    report.changed += 1
                else:
                    report.unchanged += 1
            if len(new_people) >= IMPORT_BATCH:
                write()
            if len(moves) >= MOVE_BATCH:
                move()
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(rows)):
                progress(done, len(rows))
        write()
        pending.wait()
    finally:
        pending.close()
    move()
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
            "people_changed": changed_people,
            "checks_moved": moved,
        },
    )
    return report


def _insert_many(table, rows: list[dict], *, new_ids=False, pending=None) -> None:
    """INSERT `rows` (all with the same keys) in one statement, each distinct value of a column converted
    for the driver once: a checklist repeats its school, framework, requirement, person and dates over
    thousands of rows, and SQLAlchemy would convert every one of them again (half an import's time).

    On PostgreSQL (psycopg) the statement is one INSERT ... SELECT FROM unnest() of an array per column: the
    server inserts every row in one go rather than executing a statement per row (executemany). Elsewhere it
    is an executemany.

    `new_ids`: the rows have no id; each gets a new random one (UUID version 4, as db.new_id makes), made by
    the server on PostgreSQL (gen_random_uuid()), else made in the driver's form at once.

    `pending` (a _Pending): on PostgreSQL the statement is sent without waiting for the server to finish it;
    the next statement on the connection, or pending.wait(), waits for it (and raises its error)."""
    conn = db.session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _insert_unnest(conn, table, keys, rows, new_ids=new_ids, pending=pending)
        return
    compiled = table.insert().compile(dialect=dialect, column_keys=keys + (["id"] if new_ids else []))
    order = list(compiled.positiontup) if compiled.positional else keys + ["id"] * new_ids
    given = {"id": _hex_ids(len(rows))} if new_ids and _ids_given_as_hex(table, dialect) else None
    if set(order) != set(keys) | ({"id"} if new_ids else set()) or (new_ids and given is None):
        # a dialect that names its parameters otherwise, or keeps UUIDs otherwise: the general way
        db.session.execute(table.insert(), [{**r, "id": new_id()} for r in rows] if new_ids else rows)
        return
    values = zip(*_columns(table, order, rows, dialect, given), strict=True)
    if not compiled.positional:
        values = (dict(zip(order, row, strict=True)) for row in values)
    conn.exec_driver_sql(compiled.string, list(values))


def _ids_given_as_hex(table, dialect) -> bool:
    """True when the driver takes `table`'s ids as 32 hex digits (SQLite: Uuid stored as CHAR(32))."""
    process = table.c.id.type._cached_bind_processor(dialect)
    sample = new_id()
    return process is not None and process(sample) == sample.hex


def _hex_ids(n) -> list[str]:
    """`n` new random ids as 32 hex digits, each what uuid.uuid4().hex gives (version 4, RFC 4122 variant)."""
    raw = os.urandom(16 * n).hex()
    return [
        f"{raw[i : i + 12]}4{raw[i + 13 : i + 16]}{_VARIANT[raw[i + 16]]}{raw[i + 17 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


#: the first hex digit of a UUID's clock_seq_hi_and_reserved with its variant bits set to 10 (RFC 4122)
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def _insert_unnest(conn, table, keys, rows, *, new_ids=False, pending=None) -> None:
    """_insert_many() on PostgreSQL: INSERT INTO t (a, b) SELECT * FROM unnest(CAST(%b AS a's type[]), ...)
    with one list of values per column, sent in binary (%b: psycopg's text form of an array is made in
    Python, value by value, and costs more than the executemany it replaces)."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    columns = [table.c[k] for k in keys]
    names = ["id"] * new_ids + [c.name for c in columns]
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(n) for n in names)}) SELECT {'gen_random_uuid(), ' * new_ids}* FROM unnest("
        + ", ".join(f"CAST(%b AS {c.type.compile(dialect=dialect)}[])" for c in columns)
        + ")"
    )
    params = tuple(_columns(table, keys, rows, dialect))
    if pending is not None:
        pending.send(sql, params)
    else:
        conn.exec_driver_sql(sql, params)


class _Pending:
    """A statement sent to PostgreSQL in pipeline mode (psycopg) and not waited for: the server runs it while
    this process goes on with its own work (the next batch of an import), on the session's connection and so
    in its transaction. Whatever runs next on the connection waits for it first (a before_cursor_execute
    listener), as does wait(); its error, if any, is raised then as SQLAlchemy raises a driver's error (an
    IntegrityError stays one), and the transaction is then failed as after any failed statement: nothing of
    the import is saved. close() (always called) leaves pipeline mode however the import ended. Elsewhere
    send() simply executes the statement."""

    def __init__(self, conn):
        self.conn = conn
        self.pipeline = None
        self.statement = None
        self.listening = False

    def send(self, sql, params) -> None:
        self.wait()
        dialect = self.conn.dialect
        if not (dialect.name == "postgresql" and dialect.driver == "psycopg" and _pipelines()):
            self.conn.exec_driver_sql(sql, params)
            return
        raw = self.conn.connection.driver_connection
        if not self.listening:  # till close(): a listener cannot be removed while it runs
            db.event.listen(self.conn, "before_cursor_execute", self._before)
            self.listening = True
        pipeline = raw.pipeline()
        pipeline.__enter__()
        try:
            # through SQLAlchemy, seen by its events and logging as any statement (pipeline mode: it returns
            # once the statement is sent, with no rows, as an INSERT has)
            self.conn.exec_driver_sql(sql, params)
            _flush(raw.pgconn)  # all of it on its way: psycopg leaves what the socket does not take at once
        except BaseException as exc:
            pipeline.__exit__(type(exc), exc, exc.__traceback__)  # leaves pipeline mode; raises nothing more
            raise
        self.pipeline, self.statement = pipeline, sql

    def _before(self, *args) -> None:
        self.wait()

    def wait(self) -> None:
        """Wait for the statement sent, if any; raise its error."""
        if self.pipeline is None:
            return
        pipeline, statement, self.pipeline = self.pipeline, self.statement, None
        import psycopg

        try:
            pipeline.__exit__(None, None, None)
        except psycopg.Error as exc:
            raise db.exc.DBAPIError.instance(
                statement, None, exc, psycopg.Error, hide_parameters=True, dialect=self.conn.dialect
            ) from exc

    def close(self) -> None:
        """Leave pipeline mode however the import ended: after wait(), nothing to do; after a failure, the
        statement's own error, if any, is not the one to report."""
        try:
            self.wait()
        except db.exc.DBAPIError:
            pass
        finally:
            if self.listening:
                db.event.remove(self.conn, "before_cursor_execute", self._before)
                self.listening = False


def _pipelines() -> bool:
    """True when psycopg's libpq has pipeline mode (libpq 14 or later)."""
    import psycopg

    return psycopg.Pipeline.is_supported()


def _flush(pgconn) -> None:
    """Send all of libpq's output buffer, reading what the server sends meanwhile (so that neither waits on
    the other)."""
    while pgconn.flush():
        readable, _, _ = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:
            pgconn.consume_input()


def _columns(table, keys, rows, dialect, given=None) -> list[list]:
    """The values of each of `keys` in `rows`, a list per column, converted for the driver: each value once
    however many rows share it (the rows of a checklist share their school's, framework's, requirements',
    person's and dates' objects; told apart by identity, as hashing a UUID costs more than converting it).
    `given`: {key: values already in the driver's form} of columns the rows do not hold."""
    out = []
    for key in keys:
        if given and key in given:
            out.append(given[key])
            continue
        values = [r[key] for r in rows]
        process = table.c[key].type._cached_bind_processor(dialect)
        if process is not None:
            ids = list(map(id, values))
            done = {
                k: None if v is None else process(v) for k, v in dict(zip(ids, values, strict=True)).items()
            }
            values = [done[k] for k in ids]
        out.append(values)
    return out


def _planned(school, framework, context, plans, values) -> list[dict]:
    """The checklist of a person with these values (shared: not to be changed), made once per category, start
    date, leave date and countries."""
    key = (values["category"], values["start_on"], values["leave_on"], tuple(values["countries"]))
    plan = plans.get(key)
    if plan is None:
        person = SimpleNamespace(
            id=None,
            email=None,
            leave_reason="",
            **{k: values[k] for k in ("category", "start_on", "leave_on", "countries")},
        )
        plan = plans[key] = checklist.missing_item_values(school, person, framework, context=context)
    return plan


def _plan(school, framework, context, plans, values, person_id) -> list[dict]:
    """A new person's checklist as column values: the same for everyone of the same category, start date and
    countries (and leave date: a leaver gets none), so it is made once per such group and copied."""
    if framework is None:
        return []
    return [{**item, "person_id": person_id} for item in _planned(school, framework, context, plans, values)]


def _change_person(school, person, values: dict, accounts: dict) -> tuple[dict, dict] | None:
    """update_person() for a person whose e-mail stays, without its reads and its audit event (the import's
    event lists the change), and without its checklist's upkeep (the caller's): (before, after) of what
    changed, or None."""
    before = person.audit_view()
    for key, value in values.items():
        setattr(person, key, list(value) if isinstance(value, (list, tuple)) else value)
    old, new = audit.changes(before, person.audit_view())
    if not new:
        return None
    person.user_id = accounts.get(person.email) if person.email else None  # services._link_account
    return old, new


def _checklist_in_step(school, framework, context, plans, person, state: dict) -> bool:
    """True when checklist.sync_checklist would change nothing for `person`, whose checks are `state`
    (_check_states): no check missing, none to mark not required."""
    if framework is None:
        return True
    if not person.leave_reason:
        values = {
            "category": person.category,
            "start_on": person.start_on,
            "leave_on": person.leave_on,
            "countries": list(person.countries or []),
        }
        if any(
            (item["requirement_key"], item["country"]) not in state
            for item in _planned(school, framework, context, plans, values)
        ):
            return False
    for (key, country), row in state.items():
        if row.check_status != "not_started":
            continue
        if country and (
            country not in (person.countries or [])
            or (country == context["host"] and key == checklist.COUNTRY_POLICE_CHECK)
        ):
            return False
        if key and not checklist.applies_to(key, person.category):
            return False
    return True


def _update_checks(school, person, changed, actor) -> bool:
    """Bring the person's checks to what the file says (`changed`: the file's checks that differ from the
    register; each change audited); True if any changed."""
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
