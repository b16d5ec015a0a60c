"""Pages under load, tenant scale and query budgets, measured side by side in one run.

    python bench/bench_pages.py [--duration 8] [--connections 8] [--fillers 999]

Uses TRACKER_BENCH_DATABASE_URL (a PostgreSQL database whose name contains "bench": it is emptied) or an
SQLite file in bench/out/. Builds a large school (500 staff) and a small one (10 staff), serves the app
with gunicorn (2 workers) and loads each page from this process for a fixed time at N connections.
Prints a markdown section; figures are reported, never asserted.
"""
import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PAGES = [("health (ceiling)", "/healthz"), ("dashboard", "/s/{slug}/"), ("item list", "/s/{slug}/items"),
         ("recruitment register", "/s/{slug}/people/"), ("training coverage", "/s/{slug}/training/")]


def database_url():
    url = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if url:
        import sqlalchemy as sa

        if "bench" not in sa.engine.make_url(url).database:
            sys.exit("TRACKER_BENCH_DATABASE_URL must name a database with 'bench' in its name: it is emptied.")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        return url
    OUT.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OUT / 'pages.sqlite3'}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{OUT / 'pages.sqlite3'}"


def flask(env, *args):
    subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(port, email, password):
    """Sign in over HTTP (CSRF token and all) and return the session cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"csrf_token={token}&email={email}&password={password}"
    conn.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                      "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"sign-in failed: {response.status}"
    return response.getheader("Set-Cookie").split(";")[0]


def load(port, path, cookie, duration, connections):
    """Requests per second and latencies (ms) of `path` at `connections` concurrent keep-alive clients."""
    latencies, errors, stop = [], [0], time.monotonic() + duration
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except OSError:
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"rps": len(latencies) / duration, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "n": len(latencies),
            "errors": errors[0]}


def serve(env):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("gunicorn did not start")


def query_budgets(env, slugs):
    """SQL statements per page for each school, counted in-process."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from tracker import create_app
    from tracker.auth.models import LoginSession, User
    from tracker.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False, "SERVER_NAME": "bench.test"})
    counts = {}
    statements = []

    def listener(*args):
        statements.append(1)

    for slug in slugs:
        client = app.test_client()
        with app.app_context():  # requests below get their own app context, as in production
            user = db.session.execute(sa.select(User).where(User.email == f"lead@{slug}.bench")).scalar_one()
            token = LoginSession.open(user)
            db.session.commit()
            engine = db.engine
        with client.session_transaction() as sess:
            sess["_user_id"] = token
        for label, path in PAGES[1:]:
            url = path.format(slug=slug)
            client.get(url)  # warm-up: per-process caches are not counted
            statements.clear()
            sa.event.listen(engine, "before_cursor_execute", listener)
            response = client.get(url)
            sa.event.remove(engine, "before_cursor_execute", listener)
            assert response.status_code == 200, (url, response.status_code)
            counts[(label, slug)] = len(statements)
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--fillers", type=int, default=999, help="extra schools for the tenant-scale run")
    args = parser.parse_args()

    url = database_url()
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_SECRET_KEY": "bench-secret",
           "TRACKER_ENV": "development", "TRACKER_EVIDENCE_DIR": str(OUT / "evidence"),
           "TRACKER_LOGIN_LIMIT_ADDRESS": "10000 per minute"}
    t0 = time.perf_counter()
    flask(env, "db", "upgrade")
    flask(env, "seed")
    flask(env, "bench", "generate", "--schools", "1", "--staff", "500", "--prefix", "large")
    flask(env, "bench", "generate", "--schools", "1", "--staff", "10", "--prefix", "small")
    setup = time.perf_counter() - t0

    budgets = query_budgets(env, ["small-1", "large-1"])

    proc, port = serve(env)
    try:
        cookie = sign_in(port, "lead@large-1.bench", "bench-password-123")
        results = {}
        for label, path in PAGES:
            results[label] = load(port, path.format(slug="large-1"), cookie, args.duration, args.connections)
    finally:
        proc.terminate()
        proc.wait()

    t1 = time.perf_counter()
    flask(env, "bench", "generate", "--schools", str(args.fillers), "--staff", "5", "--prefix", "fill")
    fill_time = time.perf_counter() - t1
    proc, port = serve(env)
    try:
        cookie = sign_in(port, "lead@large-1.bench", "bench-password-123")
        many = load(port, "/s/large-1/", cookie, args.duration, args.connections)
    finally:
        proc.terminate()
        proc.wait()

    db_kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    health = results["health (ceiling)"]
    lines = [f"## Pages under load ({db_kind}, gunicorn 2 workers, {args.connections} connections, "
             f"{args.duration:g} s each)", "",
             f"Large school: 500 staff, two years of every framework. Setup took {setup:.0f} s.", "",
             "| page | req/s | share of health req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    for label, r in results.items():
        lines.append(f"| {label} | {r['rps']:.0f} | {r['rps'] / health['rps']:.1%} | {r['p50']:.1f} | "
                     f"{r['p99']:.1f} | {r['errors']} |")
    one = results["dashboard"]
    lines += ["", "Targets: dashboard at least 10% of the health endpoint's throughput, p99 under 150 ms.", "",
              f"## Tenant scale ({db_kind})", "",
              "| schools in the database | dashboard p50 ms | p99 ms | req/s |", "|---|---|---|---|",
              f"| 2 | {one['p50']:.1f} | {one['p99']:.1f} | {one['rps']:.0f} |",
              f"| {2 + args.fillers} | {many['p50']:.1f} | {many['p99']:.1f} | {many['rps']:.0f} |", "",
              f"p50 ratio ({2 + args.fillers} schools / 2): **{many['p50'] / one['p50']:.2f}** (target within 1.2). "
              f"Building {args.fillers} schools took {fill_time:.0f} s.", "",
              f"## Query budgets ({db_kind})", "",
              "| page | small school (10 staff) | large school (500 staff) | equal |", "|---|---|---|---|"]
    for label, _ in PAGES[1:]:
        small, large = budgets[(label, "small-1")], budgets[(label, "large-1")]
        lines.append(f"| {label} | {small} | {large} | {'yes' if small == large else '**no**'} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
