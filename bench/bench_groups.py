"""Benchmark: the group dashboard of a group of 60 schools, read by its group lead, in process.

Builds 60 schools (each with every framework's current year and 20 people on its register) in one group,
then requests /g/<group>/ through the whole app (session, group role, queries, template) and reports p50/p99
of wall and CPU time per request and the SQL statements per request, beside a group of 3 schools.
Prints a markdown section; figures are reported, never asserted.
Run: .venv/bin/python bench/bench_groups.py   (TRACKER_BENCH_DATABASE_URL, emptied, or SQLite in bench/out/)
  --db URL: build into URL once, reuse it on later runs (a SQLite file, or a PostgreSQL database "*bench*")
  --profile: also print cProfile's top functions over the 60-school requests (CPU, sorted by own time)
"""

import argparse
import cProfile
import itertools
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, target  # noqa: E402

SCHOOLS, STAFF, REQUESTS = 60, 20, 60


def _group(db, slug, schools):
    from tracker.auth.models import User
    from tracker.group_access import GroupMembership, SchoolGroup

    group = SchoolGroup(slug=slug, name=f"Trust {slug}")
    db.session.add(group)
    db.session.flush()
    for school in schools:
        school.group_id = group.id
    lead = User(email=f"lead@{slug}.bench", name="Group lead")
    db.session.add(lead)
    db.session.flush()
    db.session.add(GroupMembership(group_id=group.id, user_id=lead.id, role="group_lead"))
    db.session.commit()
    return lead.id


def _toucher(app, db, slug):
    """A change to one school of the group (an audit event, as every change writes), the next school each
    call: the kept rows of the other schools serve, that school is counted again."""
    from tracker import audit
    from tracker.group_access import SchoolGroup
    from tracker.tenancy import School

    with app.app_context():
        ids = (
            db.session.execute(
                sa.select(School.id)
                .join(SchoolGroup, SchoolGroup.id == School.group_id)
                .where(SchoolGroup.slug == slug)
            )
            .scalars()
            .all()
        )
    turn = itertools.count()

    def touch():
        with app.app_context():
            school = db.session.get(School, ids[next(turn) % len(ids)])
            audit.record("bench.touched", school=school, subject=school)
            db.session.commit()

    return touch


def _measure(app, db, slug, user_id, profile=False, touch=None):
    from tracker.auth.models import LoginSession, User

    client = app.test_client()
    with app.app_context():
        token = LoginSession.open(db.session.get(User, user_id))
        db.session.commit()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
    path = f"/g/{slug}/"
    assert client.get(path).status_code == 200
    touch = touch or (lambda: None)
    statements = []
    touch()
    with app.app_context():
        listener = lambda *a: statements.append(1)  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        client.get(path)
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    wall, cpu = [], []
    for _ in range(REQUESTS):
        touch()
        t, c = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        assert response.status_code == 200
    wall.sort()
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            client.get(path)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return {
        "p50": statistics.median(wall),
        "p99": wall[int(len(wall) * 0.99) - 1],
        "cpu": statistics.median(cpu),
        "queries": len(statements),
    }


def _built(url):
    """The lead ids of trust-3 and trust-60 when URL already holds them (an earlier --db run), else None."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT g.slug, m.user_id FROM school_groups g JOIN group_memberships m ON m.group_id = g.id"
                " WHERE g.slug IN ('trust-3', 'trust-60')"
            ).all()
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()
    found = {slug: uuid.UUID(str(user_id)) for slug, user_id in rows}
    return (found["trust-3"], found["trust-60"]) if len(found) == 2 else None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="a database to build once and reuse (PostgreSQL: its name has 'bench')")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-groups-"))
    reused = _built(args.db) if args.db else None
    if reused is not None:
        url = args.db
    elif args.db and args.db.startswith("postgresql"):
        os.environ["TRACKER_BENCH_DATABASE_URL"] = args.db  # emptied by database_url (which checks the name)
        url = database_url()
    elif args.db:
        url = args.db
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sa.engine.make_url(url).database}{suffix}").unlink(missing_ok=True)
    else:
        url = database_url("groups.sqlite3")
    os.environ["TRACKER_DATABASE_URL"] = url
    from tracker import create_app
    from tracker.db import db

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(
        {"INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench", "TRACKER_EVIDENCE_DIR": str(tmp / "ev")}
    )
    if reused is not None:
        small, big = reused
        built = 0.0
    else:
        with app.app_context():
            from flask_migrate import upgrade

            from tracker.devtools.benchdata import generate_school
            from tracker.seeding import seed_all

            upgrade()
            seed_all(app.config["TRACKER_SEEDS_DIR"])
            db.session.commit()
            started = time.perf_counter()
            schools = []
            for n in range(1, SCHOOLS + 1):
                schools.append(generate_school(f"member-{n}", staff=STAFF, seed=n))
                db.session.commit()
            built = time.perf_counter() - started
            big = _group(db, "trust-60", schools)
            small = _group(
                db, "trust-3", [generate_school(f"small-{n}", staff=STAFF, seed=n) for n in (1, 2, 3)]
            )
            db.session.commit()
            from tracker.db import refresh_planner_statistics

            refresh_planner_statistics()
            db.session.commit()
    few = _measure(app, db, "trust-3", small)
    many = _measure(app, db, "trust-60", big, profile=args.profile)
    one = _measure(app, db, "trust-60", big, touch=_toucher(app, db, "trust-60"))
    cache = app.config["TRACKER_PAGE_CACHE"]
    app.config["TRACKER_PAGE_CACHE"] = False
    counted = _measure(app, db, "trust-60", big)
    app.config["TRACKER_PAGE_CACHE"] = cache
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        "\n".join(
            [
                f"## Group dashboard ({database}, in process, {REQUESTS} requests each)",
                "",
                f"Each school: every framework's current year and {STAFF} people on its register (60 schools "
                f"built in {built:.0f} s). The group lead's /g/<group>/ through the whole app.",
                "",
                "| group | p50 ms | p99 ms | CPU ms (p50) | SQL statements per request |",
                "|---|---|---|---|---|",
                f"| 3 schools | {few['p50']:.1f} | {few['p99']:.1f} | {few['cpu']:.1f} | {few['queries']} |",
                f"| {SCHOOLS} schools | {many['p50']:.1f} | {many['p99']:.1f} | {many['cpu']:.1f} | "
                f"{many['queries']} |",
                f"| {SCHOOLS} schools, one changed before each request | {one['p50']:.1f} | {one['p99']:.1f} "
                f"| {one['cpu']:.1f} | {one['queries']} |",
                f"| {SCHOOLS} schools, page cache off (every school counted) | {counted['p50']:.1f} "
                f"| {counted['p99']:.1f} | {counted['cpu']:.1f} | {counted['queries']} |",
                "",
                f"Page cache {'on' if cache else 'off'} (TRACKER_PAGE_CACHE) but in the last row: a school's "
                "row is kept until its audit head moves.",
            ]
        )
    )
    print(
        target(
            f"group dashboard, {SCHOOLS} schools, p50",
            "under 100 ms",
            f"{many['p50']:.0f} ms",
            many["p50"] < 100,
        )
    )
    print(
        target(
            "group dashboard SQL statements, 3 / 60 schools",
            "equal",
            f"{few['queries']} / {many['queries']}",
            few["queries"] == many["queries"],
        )
    )


if __name__ == "__main__":
    main()
