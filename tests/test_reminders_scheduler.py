"""The scheduler's jobs and the guards that keep a second one from starting."""

import subprocess
import sys
import time
from types import SimpleNamespace

from apscheduler.schedulers.background import BackgroundScheduler

from tracker.reminders import scheduler as sched


def _app(testing=False, env="development", debug=False, embedded=True):
    return SimpleNamespace(
        testing=testing, debug=debug, config={"TRACKER_ENV": env, "TRACKER_EMBEDDED_SCHEDULER": embedded}
    )


def test_the_embedded_scheduler_starts_only_when_switched_on_outside_tests_and_production(monkeypatch):
    assert sched.embedded_allowed(_app(embedded=False))[0] is False
    assert sched.embedded_allowed(_app())[0] is True
    assert sched.embedded_allowed(_app(testing=True))[0] is False
    assert sched.embedded_allowed(_app(env="production"))[0] is False
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert sched.embedded_allowed(_app(debug=True))[0] is False, "the reloader's watcher process"
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    assert sched.embedded_allowed(_app(debug=True))[0] is True


def test_the_test_app_has_no_scheduler_running(app):
    assert "reminders_scheduler" not in app.extensions


def test_a_second_process_cannot_take_the_scheduler_lock(app, tmp_path, monkeypatch):
    lock = tmp_path / "scheduler.lock"
    monkeypatch.setitem(app.config, "TRACKER_SCHEDULER_LOCK", str(lock))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, sys, time\n"
                f"h = open({str(lock)!r}, 'a+'); fcntl.flock(h, fcntl.LOCK_EX); "
                "print('locked', flush=True); time.sleep(30)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(sched, "_lock_handle", None)
        assert sched.acquire_lock(app) is False
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    try:
        assert sched.acquire_lock(app) is True, "free again once the holder is gone"
    finally:
        sched._lock_handle.close()
        monkeypatch.setattr(sched, "_lock_handle", None)


def test_the_jobs_have_fixed_ids_coalesce_one_instance_and_hours_of_misfire_grace(app):
    scheduler = BackgroundScheduler(timezone="UTC")
    sched.add_jobs(scheduler, app)
    sched.add_jobs(scheduler, app)  # adding again replaces, never doubles
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "reminders.build_digests",
        "reminders.send_outbox",
        "auth.prune_sessions",
        "db.planner_statistics",
        "retention.apply_rules",  # added by tracker/retention through the `scheduler_jobs` signal
    }
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time >= 3600
    assert str(jobs["reminders.build_digests"].trigger) == "cron[minute='0,15,30,45']"
