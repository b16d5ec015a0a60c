"""Background register imports: a confirmed import of more than TRACKER_IMPORT_BACKGROUND_ROWS rows.

The mechanism is the one large reports use (tracker/reports/jobs.py): a job row, a thread with its own app
context and database session, and a status endpoint that the job's page polls (static/js/report-progress.js).

All or nothing: the people, their checklists, their audit events and the job's "done" are written in one
transaction; when anything fails, that transaction is rolled back and the job is marked failed (audited) in a
new one, so nothing of the import is left behind.

Progress inside that one transaction cannot be committed (on SQLite it would wait for the import's own
write lock), so the process running the job keeps it in memory (`_live`) and, on PostgreSQL, also writes it
to the job row on a connection of its own, for pages served by other processes.

Restart-safe: a job queued or running for longer than TRACKER_IMPORT_TIMEOUT seconds that no thread of this
process is working on died with its process; it is shown and stored as failed, and the import's own
transaction refuses to finish a job that has been declared failed.
"""

import logging
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..db import db, utcnow
from ..tenancy import School
from .bulk_import import ImportReport, import_rows
from .models import IMPORT_DONE, IMPORT_FAILED, IMPORT_QUEUED, IMPORT_RUNNING, ImportJob

log = logging.getLogger(__name__)

#: job id -> (percent, stage) of the jobs this process is running
_live: dict = {}
_live_lock = threading.Lock()

STOPPED = (
    "The import stopped before it finished (the server was restarted or it took too long). "
    "Nothing was imported: upload the file again."
)
FAILED_MESSAGE = (
    "The import could not be finished, so nothing was imported. The error is in the server "
    "log; upload the file again, and tell your administrator if it fails again."
)
CLASH = (
    "Someone else added some of these people while the import ran, so nothing was imported. Upload "
    "the file again: people already on the register are then matched by e-mail."
)


class JobStopped(RuntimeError):
    """The job was declared failed while it ran."""


def background_rows() -> int:
    """Imports of more rows than this run as a background job (TRACKER_IMPORT_BACKGROUND_ROWS)."""
    return int(current_app.config["TRACKER_IMPORT_BACKGROUND_ROWS"])


def create(school, rows: list[dict], *, skipped: int, user) -> ImportJob:
    """A queued job for checked rows; the caller commits, then calls start()."""
    job = ImportJob(
        school_id=school.id,
        rows=rows,
        total=len(rows),
        skipped=skipped,
        status=IMPORT_QUEUED,
        stage="Waiting to start",
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(job)
    db.session.flush()
    audit.record("people.import_queued", school=school, subject=job, actor=user, after=job.audit_view())
    return job


def start(job_id) -> threading.Thread:
    """Run a committed, queued job in a thread with its own app context and database session."""
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                run(job_id, share_progress=True)
            except Exception:  # noqa: BLE001  run() records its own failures; this is the last resort
                log.exception("import job %s failed", job_id)
            finally:
                with _live_lock:
                    _live.pop(job_id, None)  # a job that never ran is then failed by its page in time
                db.session.remove()

    with _live_lock:
        _live[job_id] = (0, "Waiting to start")
    thread = threading.Thread(target=work, name=f"people-import-{job_id}", daemon=True)
    thread.start()
    return thread


def run(job_id, *, share_progress=False) -> ImportJob | None:
    """Import a queued job's rows in one transaction and mark it done, or roll back and mark it failed.

    `share_progress` also writes progress to the job row on a separate connection (PostgreSQL only); tests run
    jobs in their own transaction, which that connection cannot see."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != IMPORT_QUEUED:
        return job
    school = db.session.get(School, job.school_id)
    job.status, job.started_at, job.progress, job.stage = IMPORT_RUNNING, utcnow(), 2, "Importing"
    db.session.commit()  # the page shows it running; the import itself is one transaction from here
    _publish(job_id, 2, "Importing", share_progress)
    try:
        report = import_rows(
            school,
            list(job.rows),
            skipped=job.skipped,
            actor=job.created_by,
            progress=lambda done, total: _publish(
                job_id, 2 + 96 * done // max(total, 1), f"Imported {done:,} of {total:,} rows", share_progress
            ),
        )
        _finish(school, job, report)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001  whatever failed, the import is rolled back and the job says so
        db.session.rollback()
        if isinstance(exc, JobStopped):
            message = STOPPED
        elif isinstance(exc, IntegrityError):
            message = CLASH
        else:
            log.exception("import job %s failed", job_id)
            message = FAILED_MESSAGE
        job = db.session.get(ImportJob, job_id)
        _fail(school, job, message)
        db.session.commit()
    finally:
        with _live_lock:
            _live.pop(job_id, None)
    return job


def _finish(school, job, report: ImportReport):
    status = db.session.execute(
        db.select(ImportJob.status).where(ImportJob.id == job.id).with_for_update()
    ).scalar_one()
    if status != IMPORT_RUNNING:  # declared dead by a page while this ran: its "failed" stands
        raise JobStopped(job.id)
    job.status, job.progress, job.stage, job.finished_at = IMPORT_DONE, 100, "Done", utcnow()
    job.added, job.changed, job.unchanged, job.rows = report.added, report.changed, report.unchanged, []


def _fail(school, job, message):
    if job is None or job.status not in (IMPORT_QUEUED, IMPORT_RUNNING):
        return
    job.status, job.error, job.stage, job.finished_at = IMPORT_FAILED, message, "Failed", utcnow()
    job.rows = []
    audit.record(
        "people.import_failed",
        school=school,
        subject=job,
        actor=job.created_by,
        after={**job.audit_view(), "error": message},
    )


def _publish(job_id, percent, stage, share):
    with _live_lock:
        _live[job_id] = (percent, stage)
    if not share or db.engine.dialect.name == "sqlite":
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(
                db.update(ImportJob)
                .where(ImportJob.id == job_id, ImportJob.status == IMPORT_RUNNING)
                .values(progress=percent, stage=stage)
            )
    except Exception:  # noqa: BLE001  progress is a courtesy: the import goes on
        log.warning("progress of import job %s not written", job_id, exc_info=True)


def expire_if_dead(job: ImportJob) -> bool:
    """Mark a job failed if it died with its process (see the module docstring). True if it was; the caller
    commits."""
    if job.status not in (IMPORT_QUEUED, IMPORT_RUNNING) or job.id in _live:
        return False
    since = job.started_at or job.created_at
    if since >= utcnow() - timedelta(seconds=int(current_app.config["TRACKER_IMPORT_TIMEOUT"])):
        return False
    _fail(db.session.get(School, job.school_id), job, STOPPED)
    return True


def state(job: ImportJob) -> dict:
    """What the job's page shows: status, progress (live from this process when it runs the job), stage."""
    live = _live.get(job.id) if job.status in (IMPORT_QUEUED, IMPORT_RUNNING) else None
    progress, stage = live if live is not None else (job.progress, job.stage)
    return {
        "status": job.status,
        "progress": progress,
        "stage": stage,
        "error": job.error or None,
        "added": job.added,
        "changed": job.changed,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
        "total": job.total,
    }
