"""Fault runs: SMTP down for part of a run, the scheduler killed mid-send, PostgreSQL restarted under load.

    .venv/bin/python bench/bench_faults.py [--schools 30] [--members 10] [--load-seconds 20]
    TRACKER_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/tracker_faults_bench \\
        .venv/bin/python bench/bench_faults.py

Run from anywhere; it uses the test suite's SMTP server (tests/smtp_server.py) and scratch filler
(tests/reminders_scratch.py). The database is TRACKER_BENCH_DATABASE_URL (a PostgreSQL database whose name
contains "bench": it is emptied before each run) or SQLite files in bench/out/. The reminder runs start the
real scheduler process (`flask scheduler run --send-every 1`) and count what the SMTP server received by
Message-ID. The restart run needs a local PostgreSQL cluster and root (pg_ctlcluster); it restarts the whole
server, so every other database on it sees its connections cut; --no-restart leaves it out. Logs go to
bench/out/faults-*.
Prints a markdown section; figures are reported, never asserted. Takes about three minutes.
"""

import argparse
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import database_url, serve, sign_in, target  # noqa: E402

from tests.smtp_server import Recorder, SMTPServer, free_port  # noqa: E402
from tracker.errors import NOT_LOADED  # noqa: E402

#: what the app's 503 page says to a GET (the load is on the dashboard): the app's own text, so that a change
#: of wording cannot make every clean 503 count as unclean (the hardening round's new wording did, unseen till
#: the next PostgreSQL run)
MESSAGE = NOT_LOADED
STALE_SECONDS = 3  # TRACKER_OUTBOX_STALE_SECONDS for the kill run (default 900)


# --- databases and processes --------------------------------------------------------------------------------


def reminder_env(url, smtp_port, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=url,
        TRACKER_SECRET_KEY="bench-secret",
        TRACKER_SMTP_HOST="127.0.0.1",
        TRACKER_SMTP_PORT=str(smtp_port),
        TRACKER_SMTP_TLS="none",
        TRACKER_SMTP_FROM="tracker@example.org",
        TRACKER_SCHEDULER_LOCK=str(OUT / "faults-scheduler.lock"),
        **extra,
    )
    return env


def fill_outbox(url, schools, members, env):
    """N schools x M members, each member with one digest due now (built by the scheduler when it starts)."""
    subprocess.run(
        [sys.executable, "-m", "tests.reminders_scratch", url, str(schools), str(members)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_scheduler(env, log_name):
    log = open(OUT / log_name, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tracker", "scheduler", "run", "--send-every", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def outbox(url):
    """{status: count} of the outbox, with how many messages needed more than one attempt and the most any
    did."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = dict(
                conn.execute(sa.text("SELECT status, count(*) FROM outbox_messages GROUP BY status")).all()
            )
            retried, most = conn.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE attempts > 1), "
                    "coalesce(max(attempts), 0) FROM outbox_messages"
                )
            ).one()
    finally:
        engine.dispose()
    return {**rows, "retried": retried, "max_attempts": most}


def wait_until(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def tally(recorder, expected):
    ids = Counter(recorder.message_ids())
    return {
        "expected": expected,
        "delivered": len(ids),
        "lost": expected - len(ids),
        "duplicated": sum(ids.values()) - len(ids),
    }


def all_sent(url, expected):
    return lambda: outbox(url).get("sent") == expected


# --- a. SMTP down for part of the run -----------------------------------------------------------------------


def smtp_down_run(schools, members, first_outage=6.0, second_outage=4.0, timeout=150):
    """SMTP unreachable at the start, then up, then down again partway through the sending, then up for
    good."""
    expected = schools * members
    url = database_url("faults-smtp.sqlite3")
    port = free_port()
    env = reminder_env(url, port)
    fill_outbox(url, schools, members, env)
    recorder = Recorder(delay=0.02)  # about 50 messages a second: slow enough to cut the sending partway
    scheduler = start_scheduler(env, "faults-smtp-scheduler.log")
    try:
        time.sleep(first_outage)
        with SMTPServer(recorder, port=port):
            up = time.monotonic()
            wait_until(lambda: len(recorder.message_ids()) >= expected // 3, 60, step=0.02)
        at_cut = len(recorder.message_ids())
        time.sleep(second_outage)
        with SMTPServer(recorder, port=port):
            back = time.monotonic()
            drained = wait_until(all_sent(url, expected), timeout)
            drain = time.monotonic() - back
            time.sleep(2)  # a duplicate would arrive now
        states = outbox(url)
    finally:
        stop(scheduler)
    return {
        **tally(recorder, expected),
        "drained": drained,
        "drain": drain,
        "since_first_up": back - up + drain,
        "at_cut": at_cut,
        "states": states,
        "first_outage": first_outage,
        "second_outage": second_outage,
    }


# --- b. scheduler killed mid-send ---------------------------------------------------------------------------


def kill_run(schools, members, timeout=90):
    """SIGKILL the scheduler while the SMTP server holds a message half-way (no reply yet), then start
    another."""
    expected = schools * members
    hold_at = expected // 2
    url = database_url("faults-kill.sqlite3")
    port = free_port()
    env = reminder_env(url, port, TRACKER_OUTBOX_STALE_SECONDS=str(STALE_SECONDS))
    fill_outbox(url, schools, members, env)
    recorder = Recorder(delay=0.005)
    recorder.hold_at = hold_at
    with SMTPServer(recorder, port=port):
        first = start_scheduler(env, "faults-kill-scheduler.log")
        try:
            reached = recorder.reached.wait(120)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            stop(first)
        at_kill, states_at_kill = len(recorder.message_ids()), outbox(url)
        recorder.release.set()
        second = start_scheduler(env, "faults-kill-scheduler.log")
        restarted = time.monotonic()
        try:
            drained = wait_until(all_sent(url, expected), timeout)
            drain = time.monotonic() - restarted
            time.sleep(2)
            states = outbox(url)
        finally:
            stop(second)
    return {
        **tally(recorder, expected),
        "reached": reached,
        "hold_at": hold_at,
        "at_kill": at_kill,
        "sending_at_kill": states_at_kill.get("sending", 0),
        "drained": drained,
        "drain": drain,
        "states": states,
    }


# --- c. PostgreSQL restarted under load ---------------------------------------------------------------------


def local_cluster(url):
    return sa.engine.make_url(url).host in (None, "", "127.0.0.1", "localhost") and os.path.isdir(
        "/etc/postgresql"
    )


def cluster():
    versions = sorted(os.listdir("/etc/postgresql"))
    return versions[0], "main"


def postgres_ready():
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0


def restart_postgres():
    version, name = cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", "-m", "fast", version, name, "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def ensure_postgres_running():
    """Whatever happened, leave the server up for everyone else on this machine."""
    if wait_until(postgres_ready, 20, step=0.5):
        return
    version, name = cluster()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"], timeout=120)
    if not wait_until(postgres_ready, 60, step=0.5):
        sys.stderr.write("PostgreSQL is NOT running after the restart run: start it by hand\n")


def hammer(port, path, cookie, seconds, clients, during):
    """Load `path` from `clients` threads for `seconds`; call during() from this thread meanwhile. Returns one
    (start, end, outcome) per request: outcome is the status, 503 only with the app's message, or an
    exception."""
    records, lock, stop_at = [], threading.Lock(), time.monotonic() + seconds

    def client():
        conn, mine = http.client.HTTPConnection("127.0.0.1", port, timeout=10), []
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read().decode("utf-8", "replace")
                outcome = response.status
                if outcome == 503 and not (MESSAGE in body and response.getheader("Retry-After")):
                    outcome = "503 without the page"
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((started, time.monotonic(), outcome))
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    marks = during()
    for t in threads:
        t.join()
    return sorted(records), marks


def restart_run(url, seconds, clients, restart_after=6.0):
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SECRET_KEY": "bench-secret",
        "TRACKER_ENV": "development",
        "TRACKER_EVIDENCE_DIR": str(OUT / "evidence"),
        "TRACKER_LOGIN_LIMIT_ADDRESS": "10000 per minute",
        "GUNICORN_CMD_ARGS": f"--error-logfile {OUT / 'faults-gunicorn.log'}",
    }
    for args in (
        ["db", "upgrade"],
        ["seed"],
        ["bench", "generate", "--schools", "1", "--staff", "50", "--prefix", "large"],
    ):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "tracker", *args],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    (OUT / "faults-gunicorn.log").unlink(missing_ok=True)
    proc, port = serve(env)
    try:
        cookie = sign_in(port, "lead@large-1.bench", "bench-password-123")

        def during():
            time.sleep(restart_after)
            issued = time.monotonic()
            try:
                restart_postgres()
            finally:
                returned = time.monotonic()
                ensure_postgres_running()
            return issued, returned

        records, (issued, returned) = hammer(port, "/s/large-1/", cookie, seconds, clients, during)
    finally:
        proc.terminate()
        proc.wait()
        ensure_postgres_running()
    return summarise_restart(records, issued, returned)


def summarise_restart(records, issued, returned):
    """Requests before the restart command, overlapping it, and started after it returned."""
    before = [r for r in records if r[1] < issued]
    window = [r for r in records if r[1] >= issued and r[0] <= returned]
    after = [r for r in records if r[0] > returned]
    first_ok = min((r[1] for r in after if r[2] == 200), default=None)
    return {
        "requests": len(records),
        "ok": sum(r[2] == 200 for r in records),
        "window": len(window),
        "clean": sum(r[2] == 503 for r in window),
        "unclean": Counter(str(r[2]) for r in window if r[2] not in (200, 503)),
        "failed_after": Counter(str(r[2]) for r in after if r[2] != 200),
        "before": Counter(str(r[2]) for r in before if r[2] != 200),
        "restart_seconds": returned - issued,
        "first_ok": None if first_ok is None else first_ok - returned,
        "log": log_counts(),
    }


def log_counts():
    """How the app logged the outage (gunicorn's error log holds the app's log lines)."""
    try:
        text = (OUT / "faults-gunicorn.log").read_text(errors="replace")
    except OSError:
        return {}
    return {
        "503 for a connection cut mid-request": text.count("Database connection lost on"),
        "503 for a failed connect": text.count("Database unreachable on"),
        "connection cut after the answer was made": text.count("while ending a request"),
        "unhandled errors (500)": text.count("Unhandled error") + text.count("Error handling request"),
        "worker timeouts": text.count("WORKER TIMEOUT"),
    }


# --- the report ---------------------------------------------------------------------------------------------


def fmt(counter):
    return ", ".join(f"{n} {what}" for what, n in counter.most_common()) or "0"


def smtp_row(r):
    happened = (
        f"no SMTP server for the first {r['first_outage']:g} s; then up; stopped again after "
        f"{r['at_cut']} deliveries for {r['second_outage']:g} s; then up for good"
    )
    drained = (
        f"drained {r['drain']:.0f} s after SMTP came back for good ({r['since_first_up']:.0f} s after it "
        f"first came up)"
        if r["drained"]
        else f"**not drained** after {r['drain']:.0f} s: outbox {r['states']}"
    )
    notes = (
        f"{drained}; {r['states'].get('retried')} messages needed more than one attempt, at most "
        f"{r['states'].get('max_attempts')}. Messages tried while the server was down "
        f"wait out their backoff (1 min after a first failure, 2 after a second: fixed in "
        f"tracker/reminders/outbox.py, no setting), so the drain time is the backoff, not the sending. "
        f"Nothing set beyond SMTP host/port/TLS off"
    )
    return row("SMTP down for part of the run", happened, r, failed_note(r), notes)


def kill_row(r):
    happened = (
        f"scheduler SIGKILLed while message {r['hold_at']} was in flight (DATA sent, no reply); "
        f"{r['at_kill']} delivered and {r['sending_at_kill']} claimed (sending) at the kill; restarted"
    )
    if not r["reached"]:
        happened = "**the scheduler never reached the held message**"
    drained = (
        f"all sent {r['drain']:.0f} s after the restart"
        if r["drained"]
        else f"**not drained** after {r['drain']:.0f} s: outbox {r['states']}"
    )
    notes = (
        f"{drained}. TRACKER_OUTBOX_STALE_SECONDS={STALE_SECONDS} (default 900): claims of the killed "
        f"process go back to pending after that long, so with the default the rest of its batch waits "
        f"15 min. A kill after the server's 250 reply but before the outcome is committed would send that "
        f"message twice (SMTP delivery is at-least-once); this run kills before the reply"
    )
    return row("Scheduler killed and restarted", happened, r, failed_note(r), notes)


def failed_note(r):
    failed = r["states"].get("failed", 0)
    return f"none (no user in the loop); {failed} messages marked failed in the outbox"


def row(fault, happened, r, errors, notes):
    lost = f"**{r['lost']}**" if r["lost"] else "0"
    dup = f"**{r['duplicated']}**" if r["duplicated"] else "0"
    return (
        f"| {fault} | {happened} | {r['expected']} | {r['delivered']} | {lost} | {dup} | {errors} | {notes} |"
    )


def restart_row(r, seconds, clients):
    first = "never" if r["first_ok"] is None else f"{r['first_ok']:.2f} s"
    happened = (
        f"`pg_ctlcluster ... restart` (fast: connections terminated) after 6 s of {seconds:g} s of load "
        f"on the dashboard from {clients} threads; the command took {r['restart_seconds']:.1f} s"
    )
    errors = (
        f"{r['requests']} requests, {r['ok']} answered 200; {r['window']} overlapped the restart: "
        f"**{r['clean']} failed cleanly** (503 with the page and Retry-After), "
        f"{'**' + fmt(r['unclean']) + '**' if r['unclean'] else '0'} uncleanly; failures after the database "
        f"was back: {'**' + fmt(r['failed_after']) + '**' if r['failed_after'] else '0'}; "
        f"failures before the restart: {fmt(r['before'])}"
    )
    notes = (
        f"first successful request {first} after the restart command returned. App log: "
        + ", ".join(f"{what} {n}" for what, n in r["log"].items())
        + ". gunicorn 2 sync workers, pool_pre_ping"
    )
    return f"| PostgreSQL restarted under load | {happened} | – | – | – | – | {errors} | {notes} |"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--load-seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-restart", action="store_true", help="leave out the PostgreSQL restart run")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for log in OUT.glob("faults-*.log"):
        log.unlink()

    postgres = bool(os.environ.get("TRACKER_BENCH_DATABASE_URL"))
    smtp, kill = smtp_down_run(args.schools, args.members), kill_run(args.schools, args.members)
    rows = [smtp_row(smtp), kill_row(kill)]
    targets = [
        target(
            f"{what}: messages lost / duplicated",
            "0 / 0",
            f"{r['lost']} / {r['duplicated']}",
            not r["lost"] and not r["duplicated"],
        )
        for what, r in (("SMTP down for part of the run", smtp), ("scheduler killed and restarted", kill))
    ]
    if not postgres:
        rows.append(
            "| PostgreSQL restarted under load | does not apply: SQLite is in-process, there is no server "
            "to restart | – | – | – | – | – | run with TRACKER_BENCH_DATABASE_URL |"
        )
    elif args.no_restart or not local_cluster(os.environ["TRACKER_BENCH_DATABASE_URL"]):
        why = "--no-restart" if args.no_restart else "the database is not on a local cluster this can restart"
        rows.append(f"| PostgreSQL restarted under load | left out ({why}) | – | – | – | – | – | |")
    else:
        url = database_url("unused")
        restart = restart_run(url, args.load_seconds, args.clients)
        rows.append(restart_row(restart, args.load_seconds, args.clients))
        targets.append(
            target(
                "PostgreSQL restarted under load: unclean failures / failures once it was back",
                "0 / 0 (in-flight requests fail cleanly, counted)",
                f"{sum(restart['unclean'].values())} / {sum(restart['failed_after'].values())} "
                f"({restart['clean']} clean 503s)",
                not restart["unclean"] and not restart["failed_after"],
            )
        )

    print(
        "\n".join(
            [
                f"## Fault runs ({'PostgreSQL' if postgres else 'SQLite'})",
                "",
                f"Reminder runs: {args.schools} schools x {args.members} members, one digest each, sent by "
                "`flask scheduler run --send-every 1` to a local aiosmtpd server; delivered, lost and "
                "duplicated are counted by Message-ID at the server. Logs in bench/out/faults-*.log.",
                "",
                "| fault | what happened | messages expected | delivered | lost | duplicated "
                "| user-facing errors | notes |",
                "|---|---|---|---|---|---|---|---|",
                *rows,
            ]
        )
    )
    print("\n".join(targets))


if __name__ == "__main__":
    main()
