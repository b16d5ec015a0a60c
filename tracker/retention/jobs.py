"""The daily retention run (scheduled through `scheduler_jobs`, and `flask retention run`): for every school,
finish the file deletions a crash left, remove each due and unprotected record in its own transaction, then
delete the files those removals recorded."""

import logging
from dataclasses import dataclass, field
from datetime import date

from apscheduler.triggers.cron import CronTrigger

from ..db import db
from ..reminders.scheduler import JOB_DEFAULTS
from ..signals import scheduler_jobs
from ..tenancy import School
from . import services

log = logging.getLogger(__name__)
JOB_ID = "retention.apply_rules"


@dataclass
class RunReport:
    #: (school slug, Due) of every record removed (or, on a dry run, that would be)
    removed: list = field(default_factory=list)
    #: (school slug, Due) due but protected (hold, open query)
    protected: list = field(default_factory=list)
    failed: int = 0
    files_deleted: int = 0


def run(*, dry_run=False, school=None, today: date | None = None) -> RunReport:
    """Apply every school's rules (or `school`'s); each record in its own transaction, safe to run twice."""
    report = RunReport()
    schools = [school] if school is not None else db.session.execute(db.select(School)).scalars().all()
    for s in schools:
        if not dry_run:
            report.files_deleted += services.purge_files(s.id)
        day = today or s.today()
        for item in services.due(s, until=day):
            if item.protected:
                report.protected.append((s.slug, item))
                continue
            if dry_run:
                report.removed.append((s.slug, item))
                continue
            try:
                counts = services.REMOVERS[item.kind](s, item.record_id, today=day)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("retention: removing %s %s of %s failed", item.kind, item.record_id, s.slug)
                report.failed += 1
                continue
            if counts is not None:
                report.removed.append((s.slug, item))
        if not dry_run:
            report.files_deleted += services.purge_files(s.id)
    return report


def retention_job(app):
    with app.app_context():
        try:
            report = run()
            if report.removed or report.failed:
                log.info("retention: %s records removed, %s failed", len(report.removed), report.failed)
        finally:
            db.session.remove()


@scheduler_jobs.connect
def add_retention_job(scheduler, app=None, **_):
    """Once a day, at night in most of the world (the rules count in months; the hour does not matter)."""
    scheduler.add_job(
        retention_job,
        CronTrigger(hour=2, minute=40, timezone="UTC"),
        args=[app],
        id=JOB_ID,
        name="Apply the retention rules",
        replace_existing=True,
        **JOB_DEFAULTS,
    )
