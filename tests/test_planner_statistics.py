"""The query planner's statistics, refreshed every night by the scheduler (and by `flask analyze`): SQLite
without them read a member's own items through the due-date index, walking every item of the school due before
the date."""

import sqlalchemy as sa

from tracker.db import refresh_planner_statistics
from tracker.extensions import db


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
