"""The background jobs (digests, then the mail later features add through `digests_queued`; the outbox; the
hourly removal of expired sign-in sessions) and the two ways to run them.

Production: `flask --app tracker scheduler run`, one BlockingScheduler process. Development (`make run`): an
embedded BackgroundScheduler, started only when TRACKER_EMBEDDED_SCHEDULER=1, never under TESTING or in
production, never in the reloader's watcher process, and only by the one process that holds the lock file.
The jobs themselves are safe to run twice at once: both are driven by database state (the day claim and the
outbox claim), so the guards prevent wasted work, not duplicate e-mails.
"""

import fcntl
import logging
import os
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from werkzeug.serving import is_running_from_reloader

from ..auth import services as auth_services
from ..db import db, refresh_planner_statistics
from ..signals import digests_queued, scheduler_jobs
from . import digest, outbox
from .outbox import with_write_retries

log = logging.getLogger(__name__)

MISFIRE_GRACE = 6 * 3600
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE}
_lock_handle = None


def build_digests_job(app):
    with app.app_context():
        try:
            report = digest.run_daily_digests()
            if report.schools:
                log.info("digests: %s messages queued for %s schools", report.messages, report.schools)
            # then the mail of later features: the weekly audit-anchor e-mail (tracker/anchors.py)
            others = sum(count or 0 for _receiver, count in digests_queued.send(app))
            if report.messages or others:
                _send_soon(app)
        finally:
            db.session.remove()


def _send_soon(app):
    """Wake the outbox job now rather than at its next turn, so new digests go out at once."""
    scheduler = app.extensions.get("reminders_scheduler")
    job = scheduler.get_job("reminders.send_outbox") if scheduler is not None else None
    if job is not None:
        job.modify(next_run_time=datetime.now(UTC))


def send_outbox_job(app):
    with app.app_context():
        try:
            report = outbox.send_pending()
            if report.sent or report.retrying or report.failed:
                log.info(
                    "outbox: %s sent, %s to retry, %s failed", report.sent, report.retrying, report.failed
                )
        finally:
            db.session.remove()


def prune_sessions_job(app):
    """Delete expired sign-in sessions (they are refused anyway; this keeps the table small)."""
    with app.app_context():
        try:
            count = auth_services.prune_sessions()
            db.session.commit()
            if count:
                log.info("sessions: %s expired sign-in sessions removed", count)
        finally:
            db.session.remove()


def planner_statistics_job(app):
    """Fresh statistics for the query planner once a day (tracker/db.py refresh_planner_statistics)."""
    with app.app_context():
        try:
            with_write_retries(refresh_planner_statistics)
        finally:
            db.session.remove()


def add_jobs(scheduler, app, send_every_seconds=60):
    """The jobs, with fixed ids. Digests are checked every quarter hour, which meets 07:00 in every timezone
    (all UTC offsets are whole quarter hours); each school is built once a day, when its morning has come."""
    now = datetime.now(UTC)
    scheduler.add_job(
        build_digests_job,
        CronTrigger(minute="0,15,30,45", timezone="UTC"),
        args=[app],
        id="reminders.build_digests",
        name="Build today's digests",
        replace_existing=True,
        next_run_time=now,
        **JOB_DEFAULTS,
    )
    scheduler.add_job(
        send_outbox_job,
        IntervalTrigger(seconds=send_every_seconds),
        args=[app],
        id="reminders.send_outbox",
        name="Send the outbox",
        replace_existing=True,
        next_run_time=now,
        **JOB_DEFAULTS,
    )
    scheduler.add_job(
        prune_sessions_job,
        IntervalTrigger(hours=1),
        args=[app],
        id="auth.prune_sessions",
        name="Remove expired sign-in sessions",
        replace_existing=True,
        **JOB_DEFAULTS,
    )
    scheduler.add_job(
        planner_statistics_job,
        CronTrigger(hour=2, minute=20, timezone="UTC"),
        args=[app],
        id="db.planner_statistics",
        name="Refresh the query planner's statistics",
        replace_existing=True,
        **JOB_DEFAULTS,
    )
    # the jobs of features above this one (the daily retention run)
    scheduler_jobs.send(scheduler, app=app)


def acquire_lock(app) -> bool:
    """Hold an exclusive lock on instance/scheduler.lock (or TRACKER_SCHEDULER_LOCK) for the life of the
    process; False if another process holds it."""
    global _lock_handle
    if _lock_handle is not None:
        return True
    path = app.config.get("TRACKER_SCHEDULER_LOCK") or os.path.join(app.instance_path, "scheduler.lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _lock_handle = handle
    return True


def embedded_allowed(app) -> tuple[bool, str]:
    if not app.config.get("TRACKER_EMBEDDED_SCHEDULER"):
        return False, "TRACKER_EMBEDDED_SCHEDULER is not 1"
    if app.testing:
        return False, "testing"
    if app.config.get("TRACKER_ENV") == "production":
        return False, "production runs `flask scheduler run` as its own service"
    if app.debug and not is_running_from_reloader():
        return False, "the reloader's watcher process"
    return True, ""


def maybe_start_embedded(app):
    """Start the background scheduler for `make run`, once per installation; returns it, or None."""
    allowed, why = embedded_allowed(app)
    if not allowed:
        return None
    if not acquire_lock(app):
        app.logger.info("Embedded scheduler not started: another process holds the scheduler lock")
        return None
    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["reminders_scheduler"] = scheduler
    app.logger.info("Embedded scheduler started: digests at 07:00 school time, outbox every minute")
    return scheduler
