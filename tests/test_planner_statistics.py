"""The query planner's statistics, refreshed every night by the scheduler (and by `flask analyze`): SQLite
without them read a member's own items through the due-date index, walking every item of the school due before
the date."""

import pytest
import sqlalchemy as sa

from tracker.db import refresh_planner_statistics
from tracker.extensions import db


@pytest.fixture(autouse=True)
def _forget_statistics(app):
    """PostgreSQL writes a table's row count (pg_class.reltuples) in place when it analyses it, outside the
    transaction the test rolls back: the worker's database would keep "0 rows" for every table, and the
    planner of every later test in it would plan for empty tables (nested loops over seq scans: a join of
    seconds by the end of the POST fuzz test, whose worlds pile up in one transaction). Put back "never
    analysed"."""
    yield
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    "UPDATE pg_class SET reltuples = -1 "
                    "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')"
                )


def _statistics_of(table) -> int:
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        if not conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
            return 0
        return conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?", (table,)).scalar()
    return conn.execute(sa.text("SELECT count(*) FROM pg_stats WHERE tablename = :t"), {"t": table}).scalar()


def test_refreshing_gives_the_planner_statistics_of_the_tables(make_school, make_member):
    school = make_school()
    make_member(school, "lead")
    conn = db.session.connection()
    if conn.dialect.name == "sqlite" and _statistics_of("memberships"):
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")
    assert _statistics_of("memberships") == 0 or conn.dialect.name != "sqlite"
    refresh_planner_statistics()
    assert _statistics_of("memberships") > 0
    assert _statistics_of("schools") > 0


def test_flask_analyze_refreshes_them(app):
    result = app.test_cli_runner().invoke(args=["analyze"])
    assert result.exit_code == 0, result.output
    assert "Statistics refreshed." in result.output


def test_what_the_tests_above_analysed_leaves_no_row_counts_for_later_tests():
    """Runs after the two above (same file, same worker): no statistics of theirs survive into the database
    the worker's later tests share (SQLite rolls sqlite_stat1 back; PostgreSQL's in-place row counts are put
    back by `_forget_statistics`)."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        assert _statistics_of("memberships") == 0
    else:
        analysed = conn.exec_driver_sql(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r' AND reltuples >= 0"
        ).all()
        assert analysed == []
