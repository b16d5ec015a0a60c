"""Real processes on their own database: two senders at once, and a scheduler killed mid-run and restarted.

These run `flask` in subprocesses against a scratch database (a SQLite file, or a scratch PostgreSQL database
when TRACKER_TEST_DATABASE_URL is set), never the test session's rolled-back transaction.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from .databases import drop_postgres, fresh_postgres
from .smtp_server import Recorder, SMTPServer, free_port

pytestmark = pytest.mark.smtp
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_url(tmp_path):
    base = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    scratch = fresh_postgres(base, "_scratch")
    yield scratch
    drop_postgres(scratch)


def _env(url, port, tmp_path, stale_seconds=3):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=url,
        TRACKER_SECRET_KEY="scratch",
        TRACKER_SMTP_HOST="127.0.0.1",
        TRACKER_SMTP_PORT=str(port),
        TRACKER_SMTP_TLS="none",
        TRACKER_SMTP_FROM="tracker@example.org",
        TRACKER_SCHEDULER_LOCK=str(tmp_path / "scheduler.lock"),
        TRACKER_OUTBOX_STALE_SECONDS=str(stale_seconds),
    )
    return env


def _setup(url, schools, members, env):
    subprocess.run(
        [sys.executable, "-m", "tests.reminders_scratch", url, str(schools), str(members)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )


def _flask(*args, env):
    return [sys.executable, "-m", "flask", "--app", "tracker", *args]


def _statuses(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM outbox_messages GROUP BY status")).all()
        )
    engine.dispose()
    return rows


def test_two_builders_and_two_senders_at_once_deliver_each_message_exactly_once(scratch_url, tmp_path):
    port = free_port()
    # no sender dies here: a claim is never stale. With 3 s (the killed scheduler's test), a sender that took
    # longer than that over its batch of 20 on a busy machine had its last messages taken over and sent again
    # by the other (at-least-once, as designed), which is not what this test is about
    env = _env(scratch_url, port, tmp_path, stale_seconds=600)
    _setup(scratch_url, schools=4, members=10, env=env)
    builders = [
        subprocess.Popen(
            _flask("reminders", "build", env=env),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in builders]
    built = [out for out, _ in results]
    assert all(p.returncode == 0 for p in builders), results
    assert sum(int(out.split(" digest")[0]) for out in built) == 40, built  # two builders at once: 40 in all
    assert _statuses(scratch_url) == {"pending": 40}
    with SMTPServer(Recorder(delay=0.05), port=port) as server:
        senders = [
            subprocess.Popen(
                _flask("reminders", "send", env=env),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in senders]
    assert all(p.returncode == 0 for p in senders), outputs
    sent_by = [int(out.split(" sent")[0].strip().splitlines()[-1]) for out, _ in outputs]
    ids = server.recorder.message_ids()
    print(f"two senders: {sent_by} sent; {len(ids)} received, {len(set(ids))} distinct")
    assert sum(sent_by) == 40 and len(ids) == 40 and len(set(ids)) == 40
    assert _statuses(scratch_url) == {"sent": 40}


def test_a_scheduler_killed_mid_run_and_restarted_loses_and_duplicates_nothing(scratch_url, tmp_path):
    port = free_port()
    env = _env(scratch_url, port, tmp_path)
    _setup(scratch_url, schools=5, members=12, env=env)
    total = 60
    recorder = Recorder(delay=0.01)
    recorder.hold_at = 25  # the 25th message is in flight (no reply yet) when the process is killed
    command = _flask("scheduler", "run", "--send-every", "1", env=env)
    with SMTPServer(recorder, port=port):
        first = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert recorder.reached.wait(60), "the scheduler never got to the 25th message"
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        at_kill = Counter(recorder.message_ids())
        states_at_kill = _statuses(scratch_url)
        recorder.release.set()

        second = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert recorder.wait_for(total, timeout=90), f"only {len(recorder.message_ids())} delivered"
            deadline = time.monotonic() + 30
            while _statuses(scratch_url) != {"sent": total} and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)  # any duplicate would arrive now
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(10)
            except subprocess.TimeoutExpired:
                second.kill()
    delivered = Counter(recorder.message_ids())
    duplicates = {mid: n for mid, n in delivered.items() if n > 1}
    print(
        f"killed after {sum(at_kill.values())} deliveries (outbox then: {states_at_kill}); after restart: "
        f"{sum(delivered.values())} deliveries of {len(delivered)} distinct messages, "
        f"{len(duplicates)} duplicated, {total - len(delivered)} lost"
    )
    assert sum(at_kill.values()) == 24 and states_at_kill.get("sending", 0) >= 1
    assert len(delivered) == total and duplicates == {}
    assert _statuses(scratch_url) == {"sent": total}
