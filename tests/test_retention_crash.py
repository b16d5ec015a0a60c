"""A removal killed midway leaves nothing half-removed, and the next run finishes it: the rows, the audit
event and the list of files to delete commit together; the files go only after the commit."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from .databases import drop_postgres, fresh_postgres

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_url(tmp_path):
    base = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    scratch = fresh_postgres(base, "_retention")
    yield scratch
    drop_postgres(scratch)


def _phase(url, instance, phase):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return subprocess.run(
        [sys.executable, "-m", "tests.retention_crash", url, str(instance), phase],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _state(url, person_id, files):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            name = conn.execute(
                sa.text("SELECT full_name FROM people WHERE id = :id"),
                {"id": person_id.hex if url.startswith("sqlite") else person_id},
            ).scalar()
            count = lambda sql: conn.execute(sa.text(sql)).scalar()  # noqa: E731
            return {
                "name": name,
                "pending": count("SELECT count(*) FROM pending_file_deletions"),
                "evidence": count("SELECT count(*) FROM evidence"),
                "tombstones": count("SELECT count(*) FROM retention_tombstones"),
                "events": count("SELECT count(*) FROM audit_events WHERE action = 'retention.pseudonymised'"),
                "files": sorted(p.name for p in files.rglob("*") if p.is_file()),
            }
    finally:
        engine.dispose()


def test_a_removal_killed_before_or_after_its_commit_is_never_half_done(scratch_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    # set up, then killed inside the removal's transaction
    setup = _phase(scratch_url, instance, "setup")
    assert setup.returncode == -signal.SIGKILL, setup.stderr[-2000:]
    person_id = uuid.UUID(setup.stdout.strip().splitlines()[-1])
    files = instance / "evidence"
    start = _state(scratch_url, person_id, files)
    assert start["name"] == "Casey Crash", "a transaction killed before its commit left a trace"
    assert start["evidence"] == 1 and len(start["files"]) == 1
    assert start["pending"] == start["tombstones"] == start["events"] == 0

    killed = _phase(scratch_url, instance, "kill-after-commit")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    middle = _state(scratch_url, person_id, files)
    assert middle["name"].startswith("Former staff member #") and middle["evidence"] == 0
    assert middle["pending"] == 1 and middle["files"] == start["files"], "the file waits, listed for deletion"
    assert middle["tombstones"] == 1 and middle["events"] == 1

    rerun = _phase(scratch_url, instance, "rerun")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-2000:]
    end = _state(scratch_url, person_id, files)
    assert end["files"] == [] and end["pending"] == 0
    assert end["tombstones"] == 1 and end["events"] == 1, "the re-run removed nothing twice"
