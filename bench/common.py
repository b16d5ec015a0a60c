"""What the benchmarks share: an emptied database, the flask CLI, gunicorn, and signing in over HTTP."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def target(measure, goal, value, met) -> str:
    """A line bench/run.py gathers into the targets table at the top of results.md (and leaves out of the
    section): the measure, its target, the figure and whether the target is met."""
    return f"TARGET\t{measure}\t{goal}\t{value}\t{'yes' if met else '**no**'}"


def database_url(name="pages.sqlite3"):
    """An empty database: TRACKER_BENCH_DATABASE_URL (PostgreSQL; its name must contain "bench", because it is
    emptied), else a fresh SQLite file bench/out/NAME. Stored evidence files from an earlier run go too."""
    url = os.environ.get("TRACKER_BENCH_DATABASE_URL")
    if url:
        import sqlalchemy as sa

        if "bench" not in sa.engine.make_url(url).database:
            sys.exit(
                "TRACKER_BENCH_DATABASE_URL must name a database with 'bench' in its name: it is emptied."
            )
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        return url
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "evidence", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OUT / name}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{OUT / name}"


def flask(env, *args):
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tracker", *args],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


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
    conn.request(
        "POST",
        "/login",
        body=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"sign-in failed: {response.status}"
    return response.getheader("Set-Cookie").split(";")[0]


def serve(env):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("gunicorn did not start")
