"""Making a school's archive in a background thread, its progress committed as it goes (the reports' job
machinery: `reports.jobs._progress_writer`, static/js/report-progress.js); old archives expire."""

import hashlib
import logging
import os
import tempfile
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app

from .. import audit
from ..db import db, utcnow, write_transactions
from ..reports.jobs import _progress_writer
from ..tenancy import School
from . import export
from .models import DONE, EXPIRED, FAILED, RUNNING, ArchiveJob

log = logging.getLogger(__name__)
#: a job not finished after this long stopped with its process (a restart): it is shown as failed
STALE_AFTER = timedelta(hours=6)


def archive_dir(school_id) -> Path:
    return Path(current_app.config["TRACKER_ARCHIVE_DIR"]) / uuid.UUID(str(school_id)).hex


def file_path(row: ArchiveJob) -> Path:
    if not (len(row.stored_name) == 32 and set(row.stored_name) <= set("0123456789abcdef")):
        raise ValueError("not a stored archive name")
    return archive_dir(row.school_id) / f"{row.stored_name}.zip"


def expired(row: ArchiveJob, now=None) -> bool:
    return row.status == EXPIRED or (row.expires_at is not None and row.expires_at <= (now or utcnow()))


def stale(row: ArchiveJob, now=None) -> bool:
    return row.status not in (DONE, FAILED, EXPIRED) and row.created_at <= (now or utcnow()) - STALE_AFTER


def prune(school, now=None) -> int:
    """Remove the ZIPs of the school's expired archives (the rows stay, marked expired); flushes only."""
    now = now or utcnow()
    rows = db.session.execute(
        db.select(ArchiveJob).where(
            ArchiveJob.school_id == school.id, ArchiveJob.status == DONE, ArchiveJob.expires_at <= now
        )
    ).scalars()
    count = 0
    for row in rows:
        try:
            file_path(row).unlink(missing_ok=True)
        except ValueError:
            pass
        row.status, row.stored_name = EXPIRED, ""
        audit.record("archive.expired", school=school, subject=row, actor_email="", after=row.audit_view())
        count += 1
    db.session.flush()
    return count


def run_job(school, row: ArchiveJob, commit=lambda: None) -> None:
    """Write the school's archive to the archive folder and mark the job done (or failed)."""
    progress = _progress_writer(row, commit)
    progress(2, "Starting", status=RUNNING)
    folder = archive_dir(school.id)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stored_name = uuid.uuid4().hex
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".archive-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w+b") as out:
            manifest = export.build(school, out, progress=progress)
            out.flush()
            os.fsync(out.fileno())
            out.seek(0)
            digest, size = hashlib.sha256(), 0
            for chunk in iter(lambda: out.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        os.chmod(temp, 0o600)
        os.replace(temp, folder / f"{stored_name}.zip")
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    commit()
    with write_transactions():
        now = utcnow()
        row.status, row.progress, row.stage = DONE, 100, "Ready"
        row.stored_name, row.size, row.sha256 = stored_name, size, digest.hexdigest()
        row.anchor = manifest["audit_head"]["anchor"]
        row.finished_at = now
        row.expires_at = now + timedelta(days=current_app.config["TRACKER_ARCHIVE_KEEP_DAYS"])
        audit.record("archive.made", school=school, subject=row, actor=row.created_by, after=row.audit_view())
        prune(school, now)  # the school's archives past their time go when a new one is made
        commit()


def work(app, job_id, school_id) -> None:
    """The body of an archive job's thread: its own app context and session."""
    with app.app_context():
        try:
            school = db.session.get(School, school_id)
            row = db.session.get(ArchiveJob, job_id)
            run_job(school, row, commit=db.session.commit)
        except Exception:
            log.exception("archive job %s failed", job_id)
            db.session.rollback()
            with write_transactions():
                row = db.session.get(ArchiveJob, job_id)
                if row is not None:
                    row.status, row.finished_at = FAILED, utcnow()
                    row.error = "The archive could not be made; the error is in the server log."
                    db.session.commit()
        finally:
            db.session.remove()


def start_job(job_id, school_id) -> threading.Thread:
    app = current_app._get_current_object()
    thread = threading.Thread(
        target=work, args=(app, job_id, school_id), name=f"archive-{job_id}", daemon=True
    )
    thread.start()
    return thread
