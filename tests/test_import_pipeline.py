"""A register import on PostgreSQL: a batch's checks are inserted while the next batch is made (psycopg's
pipeline mode on the session's connection), all in the import's one transaction, so a failure anywhere still
leaves nothing; and the checks of the people already on the register are read through each person's id
whatever the planner knows of the table."""

import json
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.people import bulk_import, checklist, due_dates
from tracker.people.models import Person
from tracker.tracking.models import Item, ItemKind

from .import_rows import checked_rows


def _rows(n, start=0):
    return checked_rows(n, start, label="Pipe Person")


def _postgresql():
    return db.engine.dialect.name == "postgresql"


def _in_pipeline() -> bool:
    """True when the session's connection is in psycopg's pipeline mode (False elsewhere)."""
    if not _postgresql():
        return False
    return db.session.connection().connection.driver_connection.pgconn.pipeline_status != 0


def _count(model, school):
    return db.session.scalar(sa.select(sa.func.count()).where(model.school_id == school.id))


def test_a_batch_of_checks_is_still_going_in_while_the_next_batch_is_made(make_school, monkeypatch):
    """On PostgreSQL the first batch's checks are sent and not waited for: while the second batch's checklists
    are made the connection is in pipeline mode with that INSERT pending. It is left when the import ends,
    and every check is there."""
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", 5)
    seen = []
    real = bulk_import._plan

    def watching(*args, **kwargs):
        seen.append(_in_pipeline())
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk_import, "_plan", watching)
    school = make_school(country="Thailand")
    report = bulk_import.import_rows(school, _rows(12))
    assert report.added == 12
    assert not _in_pipeline()
    # people 1-5 are made before any INSERT; people 6-10 while the first batch's checks are pending
    assert seen[:5] == [False] * 5
    assert seen[5:10] == [_postgresql()] * 5
    assert _count(Person, school) == 12
    context = checklist.plan_context(school)
    framework = checklist.recruitment_framework()
    planned = sum(
        len(checklist.missing_item_values(school, p, framework, context=context))
        for p in db.session.execute(sa.select(Person).where(Person.school_id == school.id)).scalars()
    )
    assert _count(Item, school) == planned > 12


def test_an_error_while_checks_are_pending_leaves_nothing_and_the_session_usable(make_school, monkeypatch):
    """The import fails in Python while the first batch's checks are still going in: that error is the one
    raised, pipeline mode is left, and once rolled back nothing of the import is kept."""
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", 5)
    calls = []
    real = bulk_import._plan

    def failing(*args, **kwargs):
        calls.append(_in_pipeline())
        if len(calls) == 7:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk_import, "_plan", failing)
    school = make_school(country="Thailand")
    savepoint = db.session.begin_nested()
    with pytest.raises(RuntimeError, match="disk full"):
        bulk_import.import_rows(school, _rows(12))
    assert calls[-1] == _postgresql()  # it failed with an INSERT pending (PostgreSQL)
    assert not _in_pipeline()
    savepoint.rollback()
    assert _count(Person, school) == 0
    assert _count(Item, school) == 0


@pytest.mark.parametrize("batches", [1, 3])
def test_a_failing_pending_insert_is_raised_as_the_integrity_error_it_is(make_school, monkeypatch, batches):
    """The checks' INSERT fails on the server (a requirement that does not exist). With one batch, the
    import's own wait for it raises; with several, the next statement on the connection does. Either way it is
    SQLAlchemy's IntegrityError (the job's "someone else added these people"), pipeline mode is left and
    nothing is kept."""
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", 5 if batches > 1 else 100)
    real = checklist.missing_item_values

    def broken(*args, **kwargs):
        return [{**v, "requirement_id": uuid.uuid4()} for v in real(*args, **kwargs)]

    monkeypatch.setattr(checklist, "missing_item_values", broken)
    school = make_school(country="Thailand")
    savepoint = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        bulk_import.import_rows(school, _rows(12))
    assert not _in_pipeline()
    savepoint.rollback()
    assert _count(Person, school) == 0
    assert _count(Item, school) == 0


def _states_the_plain_way(school, person_ids):
    out = {}
    for row in db.session.execute(
        sa.select(
            Item.person_id,
            Item.requirement_key,
            Item.country,
            Item.check_status,
            Item.verified_on,
            Item.expires_on,
        ).where(Item.school_id == school.id, Item.person_id.in_(person_ids), Item.kind == ItemKind.CHECK)
    ):
        out.setdefault(row.person_id, {})[(row.requirement_key, row.country)] = tuple(row)[1:]
    return out


def test_the_checks_of_people_on_the_register_are_read_whole_and_only_theirs(make_school, monkeypatch):
    """_check_states (by person id on PostgreSQL) reads what the plain query reads: every check of the people
    asked for, none of another person's or another school's (the same people's ids asked of another school
    give nothing), in batches."""
    monkeypatch.setattr(bulk_import, "READ_BATCH", 4)
    school, other = make_school(country="Thailand"), make_school(country="Thailand")
    bulk_import.import_rows(school, _rows(10))
    bulk_import.import_rows(other, _rows(3, start=50))
    ids = list(
        db.session.execute(sa.select(Person.id).where(Person.school_id == school.id).limit(9)).scalars()
    )
    got = {
        pid: {key: tuple(row)[1:] for key, row in checks.items()}
        for pid, checks in bulk_import._check_states(school, ids).items()
    }
    assert got == _states_the_plain_way(school, ids)
    assert len(got) == 9 and all(got.values())
    assert bulk_import._check_states(other, ids) == {}


def _plan_of(sql, types, values):
    """The plan of `sql` (%b for each parameter) prepared, as psycopg prepares a statement run often, and
    executed with `values` (SQL literals: EXECUTE takes values, not parameters)."""
    conn = db.session.connection()
    for n in range(1, sql.count("%b") + 1):
        sql = sql.replace("%b", f"${n}", 1)
    conn.exec_driver_sql(f"PREPARE planned ({types}) AS {sql}")
    try:
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE planned ({values})").scalar()
    finally:
        conn.exec_driver_sql("DEALLOCATE planned")
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _array(values, kind):
    return f"'{{{','.join(str(v) for v in values)}}}'::{kind}[]"


def _nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _plans(statistics, sql, types, values):
    """{plan cache mode: plan} of `sql` with and without a generic plan, after ANALYZE or not."""
    conn = db.session.connection()
    if statistics:
        conn.exec_driver_sql("ANALYZE items")
    plans = {}
    for mode in ("force_custom_plan", "force_generic_plan"):
        conn.exec_driver_sql(f"SET LOCAL plan_cache_mode = {mode}")
        plans[mode] = _plan_of(sql, types, values)
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = auto")
    return plans


@pytest.mark.parametrize("statistics", [False, True])
def test_the_checks_are_found_through_each_persons_id_with_or_without_statistics(make_school, statistics):
    """PostgreSQL: the query looks up each person's items by ix_items_person_id, never scanning the school's
    checks with every id (what the planner chose without statistics: 1.7 s per 500 people in a school of
    115,000 checks), as a generic plan too."""
    if not _postgresql():
        pytest.skip("PostgreSQL's plan")
    school = make_school(country="Thailand")
    bulk_import.import_rows(school, _rows(30))
    ids = list(db.session.execute(sa.select(Person.id).where(Person.school_id == school.id)).scalars())
    values = f"{_array(ids, 'uuid')}, '{school.id}'::uuid"
    for mode, plan in _plans(statistics, bulk_import._PG_CHECK_STATES, "uuid[], uuid", values).items():
        indexes = {n.get("Index Name") for n in _nodes(plan)} - {None}
        assert indexes == {"ix_items_person_id"}, (mode, plan)
        assert plan["Node Type"] == "Nested Loop", (mode, plan)


@pytest.mark.parametrize("statistics", [False, True])
def test_the_moved_checks_are_found_by_their_ids_with_or_without_statistics(make_school, statistics):
    """PostgreSQL: the UPDATE of moved due dates finds each check by its primary key and updates it where it
    lies, never reading the whole table (what its join with the arrays did once per batch of people), as a
    generic plan too."""
    if not _postgresql():
        pytest.skip("PostgreSQL's plan")
    school = make_school(country="Thailand")
    bulk_import.import_rows(school, _rows(30))
    items = db.session.execute(
        sa.select(Item.id, Item.version, Item.due_on).where(Item.school_id == school.id)
    ).all()
    values = ", ".join(
        [
            "now()::timestamp",
            _array([i.id for i in items], "uuid"),
            _array([i.version for i in items], "integer"),
            _array([i.due_on for i in items], "date"),
            _array(["NULL"] * len(items), "date"),
        ]
    )
    types = "timestamp, uuid[], integer[], date[], date[]"
    for mode, plan in _plans(statistics, due_dates._PG_UPDATE, types, values).items():
        nodes = list(_nodes(plan))
        assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], (mode, plan)
        assert {n.get("Index Name") for n in nodes} - {None} == {"pk_items"}, (mode, plan)
        assert "Tid Scan" in {n["Node Type"] for n in nodes}, (mode, plan)
