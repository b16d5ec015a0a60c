"""The school's archive page: make an archive (a background job), watch its progress, download it."""

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles
from ..db import db, get_for_school_or_404, utcnow
from ..forms_common import Form
from ..tenancy import HEAD, LEAD
from ..transactions import DomainError, saving
from . import bp, jobs
from .models import DONE, FAILED, QUEUED, RUNNING, ArchiveJob

MANAGERS = (LEAD, HEAD)
#: archives listed on the page (the newest first)
SHOWN = 10


class ArchiveBusy(DomainError):
    """An archive of the school is already being made."""


class MakeArchiveForm(Form):
    """Make an archive (nothing to fill in: the button and the CSRF token)."""


def _recent(school):
    return (
        db.session.execute(
            db.select(ArchiveJob)
            .where(ArchiveJob.school_id == school.id)
            .order_by(ArchiveJob.created_at.desc())
            .limit(SHOWN)
        )
        .scalars()
        .all()
    )


@bp.route("/")
@school_roles(*MANAGERS)
def index():
    now = utcnow()
    return render_template(
        "archive/index.html",
        form=MakeArchiveForm(),
        archives=_recent(g.school),
        expired=lambda row: jobs.expired(row, now),
        stale=lambda row: jobs.stale(row, now),
        keep_days=current_app.config["TRACKER_ARCHIVE_KEEP_DAYS"],
    )


@bp.route("/", methods=["POST"])
@school_roles(*MANAGERS)
def make():
    form = MakeArchiveForm()
    if not form.validate_on_submit():
        flash("The form expired. Try again.", "error")
        return redirect(url_for(".index"))
    with saving() as tx:
        busy = db.session.execute(
            db.select(ArchiveJob.id).where(
                ArchiveJob.school_id == g.school.id, ArchiveJob.status.in_((QUEUED, RUNNING))
            )
        ).first()
        if busy and not jobs.stale(db.session.get(ArchiveJob, busy[0])):
            raise ArchiveBusy("An archive is already being made: wait for it to finish.")
        jobs.prune(g.school)
        row = ArchiveJob(school_id=g.school.id, created_by_id=current_user.id, stage="Waiting to start")
        db.session.add(row)
        db.session.flush()
        audit.record("archive.requested", school=g.school, subject=row, after=row.audit_view())
        # under the test suite the test runs the job itself (its data is in a transaction no thread can see)
        if current_app.config.get("TRACKER_ARCHIVE_JOBS_THREADED", not current_app.testing):
            tx.after_commit(jobs.start_job, row.id, g.school.id)
    if not tx.ok:
        return redirect(url_for(".index"))
    return redirect(url_for(".job", archive_id=row.id), code=303)


@bp.route("/jobs/<uuid:archive_id>")
@school_roles(*MANAGERS)
def job(archive_id):
    row = get_for_school_or_404(ArchiveJob, archive_id, g.school)
    if jobs.stale(row):
        with saving():
            row.status, row.error = FAILED, "The archive stopped before it finished. Make it again."
    return render_template("archive/job.html", job=row, expired=jobs.expired(row))


@bp.route("/jobs/<uuid:archive_id>/status")
@school_roles(*MANAGERS)
def status(archive_id):
    row = get_for_school_or_404(ArchiveJob, archive_id, g.school)
    ready = row.status == DONE and not jobs.expired(row)
    return jsonify(
        status=row.status,
        progress=row.progress,
        stage=row.stage,
        error=row.error,
        download=url_for(".download", archive_id=row.id) if ready else None,
    )


@bp.route("/jobs/<uuid:archive_id>/archive.zip")
@school_roles(*MANAGERS)
def download(archive_id):
    row = get_for_school_or_404(ArchiveJob, archive_id, g.school)
    if row.status != DONE or jobs.expired(row):
        abort(404)
    path = jobs.file_path(row)
    if not path.is_file():
        abort(404)
    with saving():
        audit.record("archive.downloaded", school=g.school, subject=row, after=row.audit_view())
    response = send_file(
        path, mimetype="application/zip", as_attachment=True, download_name=row.filename, max_age=0
    )
    response.headers["X-Archive-SHA256"] = row.sha256
    return response
