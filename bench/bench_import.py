"""Benchmark: a staff-register import of 5,000 rows, confirmed (the background job's whole run), then the same
file imported again (nothing to change), then a file with every start date moved.

Prints a markdown section; figures are reported, never asserted.
Run: .venv/bin/python bench/bench_import.py   (TRACKER_BENCH_DATABASE_URL, emptied, or SQLite in bench/out/)
"""

import logging
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, target  # noqa: E402

ROWS = 5000
TARGET_SECONDS = 5


def _raw(n, month=1):
    categories = ["Teaching staff", "Support staff", "Volunteer", "Contractor"]
    return [
        (
            i + 2,
            {
                "full_name": f"Person {i:05d}",
                "email": f"p{i}@bench.example" if i % 4 else "",
                "category": categories[i % len(categories)],
                "start_date": f"2026-{month + i % 9:02d}-01",
                "countries": "Kenya; France" if i % 3 else "",
                "groups": "",
            },
        )
        for i in range(n)
    ]


def _server_cpu() -> dict | None:
    """{pid: CPU seconds so far} of the PostgreSQL server processes serving this database (the server runs on
    this machine: /proc), or None on SQLite or when they cannot be read."""
    from tracker.db import db

    if db.engine.dialect.name != "postgresql":
        return None
    with db.engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars()
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return out


def _confirm(school, rows, user):
    """What "Confirm import" does for a large file: queue the job, commit, run it (timed), return (wall
    seconds, this process's CPU seconds, the database server's CPU seconds or None, the job)."""
    from tracker.db import db
    from tracker.people import jobs

    server = _server_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    job = jobs.create(school, rows, skipped=0, user=user)
    db.session.commit()
    job = jobs.run(job.id)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = _server_cpu()
    server = sum(t - server.get(pid, 0) for pid, t in after.items()) if server and after else None
    return wall, cpu, server, job


def main():
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["TRACKER_DATABASE_URL"] = url = database_url("import.sqlite3")
    from tracker import create_app
    from tracker.db import db

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(
        {"INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench", "TRACKER_EVIDENCE_DIR": str(tmp / "ev")}
    )
    with app.app_context():
        from flask_migrate import upgrade

        from tracker.auth.models import User
        from tracker.people.importing import check_rows
        from tracker.schools.services import create_school
        from tracker.seeding import seed_all

        upgrade()
        seed_all(app.config["TRACKER_SEEDS_DIR"])
        school = create_school(
            slug="import", name="Import School", country="Thailand", require_two_factor=False
        )
        user = User(email="hr@import.bench", name="Bench HR")
        db.session.add(user)
        db.session.commit()
        today = date(2026, 11, 23)
        checked = check_rows(_raw(ROWS), today=today)
        assert all(r.ok for r in checked), [r.errors for r in checked if not r.ok][:3]
        rows = [r.values for r in checked]
        first, first_cpu, first_server, job = _confirm(school, rows, user)
        assert job.status == "done", (job.status, job.error)
        added = job.added
        again, again_cpu, again_server, job = _confirm(school, rows, user)
        unchanged = job.unchanged
        moved = [r.values for r in check_rows(_raw(ROWS, month=2), today=today)]
        third, third_cpu, third_server, job = _confirm(school, moved, user)
        # people without an e-mail are matched by name and start date: with another start date, they are new
        moved_counts = f"{job.added} / {job.changed} / {job.unchanged}"
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"

    def server(seconds):
        return f" {seconds:.1f} |" if seconds is not None else " – |"

    print(
        "\n".join(
            [
                f"## Staff import ({database})",
                "",
                f"A register file of {ROWS:,} people (four categories, two thirds with two countries), "
                "confirmed: the job's whole run (every person, every check of their checklist, one audit "
                "event). Seconds are wall time; CPU seconds are this process's, and on PostgreSQL the "
                "server's too (its processes serving the database, read from /proc). Every start date moved: "
                "the people without an e-mail are matched by name and start date, so they are added again.",
                "",
                "| import | seconds | CPU seconds | server CPU seconds | people added / changed / unchanged "
                "|",
                "|---|---|---|---|---|",
                f"| first import of {ROWS:,} rows | {first:.1f} | {first_cpu:.1f} |{server(first_server)} "
                f"{added} / 0 / 0 |",
                f"| the same file again (nothing to change) | {again:.1f} | {again_cpu:.1f} "
                f"|{server(again_server)} 0 / 0 / {unchanged} |",
                f"| every start date moved a month | {third:.1f} | {third_cpu:.1f} |{server(third_server)} "
                f"{moved_counts} |",
            ]
        )
    )
    print(
        target(
            f"staff import confirm, {ROWS:,} rows",
            f"under {TARGET_SECONDS} s",
            f"{first:.1f} s",
            first < TARGET_SECONDS,
        )
    )


if __name__ == "__main__":
    main()
