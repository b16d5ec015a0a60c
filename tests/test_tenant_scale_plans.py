"""Tenant scale (issue 21): the dashboard's shared-duty counts read the school's own items whatever the
planner's statistics say. With `framework_id IN (...)` in their WHERE, statistics taken while the database
held one school (a framework's items as few as a school's year's) led SQLite to the framework_id index,
which walks that framework's items of every school: 0.3 ms with 1 school, 17 ms with 300
(bench/inprocess.py, page cache off). The framework is now checked in Python; these tests keep both the
plan and the counts."""

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.tracking import services
from tracker.tracking.models import Item
from tracker.tracking.shared import references, shared_counts


@pytest.fixture
def school(make_school):
    return make_school(timezone="Europe/London", year_start_month=8)


@pytest.fixture
def lead(school, make_member):
    return make_member(school, "lead", name="Lena Lead")


def _year(school):
    year = services.start_year(school, 2026)
    db.session.flush()
    return year


def _targets(year):
    refs = references(year)
    assert refs, "the seeded frameworks share duties (same_as): the dashboard counts them in both"
    return refs, {(r.target_framework, r.target_requirement) for r in refs}


def test_the_same_requirement_key_in_a_framework_that_is_not_a_target_is_not_counted(school, lead):
    year = _year(school)
    refs, targets = _targets(year)
    before = sorted(shared_counts(school, year, lead), key=repr)
    assert before, "the shared duties' items are counted"
    target_keys = {fw for fw, _ in targets}
    other = next(
        i
        for i in db.session.execute(db.select(Item).where(Item.year_id == year.id)).scalars()
        if i.framework is not None and i.framework.key not in target_keys
    )
    # an item of a framework nobody refers to, under a requirement key a reference names in another framework
    other.requirement_key = sorted(rk for _, rk in targets)[0]
    db.session.flush()
    assert sorted(shared_counts(school, year, lead), key=repr) == before


def test_the_counts_follow_the_referenced_items(school, lead):
    year = _year(school)
    refs, targets = _targets(year)
    fw_key, req_key = sorted(targets)[0]
    [item] = [
        i
        for i in db.session.execute(
            db.select(Item).where(Item.year_id == year.id, Item.requirement_key == req_key)
        ).scalars()
        if i.framework.key == fw_key
    ]
    counted = sum(count for *_, count in shared_counts(school, year, lead))
    db.session.delete(item)
    db.session.flush()
    referring = sum(1 for r in refs if (r.target_framework, r.target_requirement) == (fw_key, req_key))
    assert sum(count for *_, count in shared_counts(school, year, lead)) == counted - referring


# the items' statistics of bench/inprocess.py's database (one 500-staff school, `flask analyze`), as they
# stand after 299 more schools are added and before the next nightly ANALYZE
ONE_SCHOOL_ITEMS = {
    "ix_items_school_id_owner_id_due_on": "12360 12360 12360 104",
    "ix_items_school_id_person_id": "12360 12360 25",
    "ix_items_school_id_year_id_due_on": "12360 12360 4120 99",
    "ix_items_person_id": "12360 25",
    "ix_items_school_id": "12360 12360",
    "ix_items_school_id_year_id_status": "12360 12360 4120 2060",
    "ix_items_requirement_id": "12360 110",
    "ix_items_school_id_due_on": "12360 12360 104",
    "ix_items_framework_id": "12360 3090",
    "sqlite_autoindex_items_1": "12360 1",
}


def test_the_shared_counts_never_walk_a_frameworks_items_of_every_school(school, lead):
    conn = db.session.connection()
    if conn.dialect.name != "sqlite":
        pytest.skip("SQLite's planner and its sqlite_stat1 (PostgreSQL's ratio was 1.05)")
    year = _year(school)
    conn.exec_driver_sql("ANALYZE")  # rolled back with the test, as test_planner_statistics.py's
    indexes = {
        name
        for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'"
        )
    }
    assert "ix_items_framework_id" in indexes, "the index this test keeps the query away from"
    conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'items'")
    for name, stat in ONE_SCHOOL_ITEMS.items():
        if name in indexes:
            conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('items', ?, ?)", (name, stat))
    conn.exec_driver_sql("ANALYZE sqlite_master")  # load the statistics just written

    seen = []

    def listen(conn_, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT items.framework_id, items.requirement_key"):
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert shared_counts(school, year, lead)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    [(statement, parameters)] = seen
    plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    searches = [step for step in plan if step.startswith(("SEARCH items", "SCAN items"))]
    assert searches and all("(school_id=?" in step for step in searches), plan
    assert not any("ix_items_framework_id" in step for step in plan), plan
