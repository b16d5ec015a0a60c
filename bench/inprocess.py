"""Pages through the whole app in this process: CPU milliseconds per request, SQL statements, a profile.

    python bench/inprocess.py --db sqlite:///bench/out/inprocess.sqlite3 /s/large-1/ /s/large-1/people/
    python bench/inprocess.py --db ... --profile /s/large-1/   # cProfile of five more requests

The database is built on first use (migrations, the library, one 500-staff school "large-1" as in
bench_pages.py, planner statistics) and kept for the next run; --rebuild starts over. CPU time
(`time.process_time`) rather than wall time, so that a busy machine changes the figures little: this is the
tool for finding and checking a fix, while bench_pages.py (gunicorn and wrk) gives the figures of record.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, flask  # noqa: E402


def build(url, staff):
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_PAGE_CACHE": "0"}
    flask(env, "db", "upgrade")
    flask(env, "seed")
    flask(env, "bench", "generate", "--schools", "1", "--staff", str(staff), "--prefix", "large")
    flask(env, "analyze")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+")
    parser.add_argument(
        "--db", required=True, help="sqlite:///FILE or a PostgreSQL URL with 'bench' in its name"
    )
    parser.add_argument("--user", default="lead@large-1.bench")
    parser.add_argument("-n", type=int, default=30, help="requests per page after one warm-up")
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--page-cache", action="store_true", help="keep the page cache on (off by default)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 40 of 5 more requests")
    args = parser.parse_args()

    import sqlalchemy as sa

    url = args.db
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            build(url, args.staff)
    else:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            present = conn.exec_driver_sql("SELECT to_regclass('public.schools')").scalar()
        engine.dispose()
        if args.rebuild or present is None:
            if "bench" not in sa.engine.make_url(url).database:
                sys.exit("a PostgreSQL database for this tool must have 'bench' in its name (it is emptied)")
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
            engine.dispose()
            build(url, args.staff)

    os.environ["TRACKER_DATABASE_URL"] = url
    os.environ["TRACKER_PAGE_CACHE"] = "1" if args.page_cache else "0"
    os.chdir(ROOT)
    from tracker import create_app
    from tracker.auth.models import LoginSession
    from tracker.db import db
    from tracker.models import User

    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == args.user)).scalar_one()
        token = LoginSession.open(user)
        db.session.commit()
        engine = db.engine
    with client.session_transaction() as sess:
        sess["_user_id"] = token
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    print("| page | status | CPU ms mean | CPU ms p50 | wall ms p50 | SQL statements |")
    print("|---|---|---|---|---|---|")
    for path in args.paths:
        response = client.get(path)  # warm-up: per-process caches are not counted
        cpu, wall = [], []
        for _ in range(args.n):
            statements.clear()
            c0, w0 = time.process_time(), time.perf_counter()
            response = client.get(path)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        print(
            f"| {path} | {response.status_code} | {statistics.mean(cpu):.1f} | {statistics.median(cpu):.1f} "
            f"| {statistics.median(wall):.1f} | {len(statements)} |"
        )
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                client.get(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
