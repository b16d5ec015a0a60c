"""Register import pages: upload and preview a file, confirm it (small imports at once, large ones as a
background job started only once the job is saved) and follow the job's progress."""

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from ..access import school_roles
from ..db import get_for_school_or_404
from ..transactions import saving
from . import bp, bulk_import, jobs
from .forms import ConfirmImportForm, ImportForm
from .importing import MAX_ROWS, ImportFileError, check_rows, read_register
from .models import CATEGORY_LABELS, IMPORT_DONE, ImportJob
from .views import EDITORS


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"people-import:{g.school.id}")


#: the keys of a checked row in the confirmation payload (importing.check_rows)
ROW_KEYS = {"full_name", "email", "category", "start_on", "leave_on", "countries", "groups", "checks"}


def _payload_limit():
    """The largest payload the confirmation form can carry (the form memory limit, less room for the rest)."""
    return current_app.config.get("MAX_FORM_MEMORY_SIZE", 1024 * 1024) - 16 * 1024


@bp.route("/import", methods=["GET", "POST"])
@school_roles(*EDITORS)
def import_people():
    form = ImportForm()
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        if not upload or not upload.filename:
            form.file.errors.append("Choose a .csv or .xlsx file.")
        else:
            try:  # the preview only reads: nothing is written until the import is confirmed
                rows = check_rows(read_register(upload.filename, upload.read()), today=g.school.today())
            except ImportFileError as exc:
                form.file.errors.append(str(exc))
            else:
                bad = sum(1 for r in rows if not r.ok)
                payload = _serializer().dumps({"rows": [r.values for r in rows if r.ok], "bad": bad})
                if len(payload) > _payload_limit():
                    form.file.errors.append(
                        "This file holds too much to import in one go. Split it into two "
                        "files and import them one after the other."
                    )
                else:
                    confirm = ConfirmImportForm()
                    confirm.payload.data = payload  # a POST: forms take no values but the request's otherwise
                    return render_template(
                        "people/import.html",
                        form=form,
                        rows=rows,
                        confirm=confirm,
                        bad=bad,
                        categories=CATEGORY_LABELS,
                        background=len(rows) - bad > jobs.background_rows(),
                    )
    return render_template("people/import.html", form=form, rows=None), 400 if form.errors else 200


def _checked_payload(raw):
    """(rows, bad) from the confirmation payload; anything not made by the preview of this school is a 400."""
    again = "Upload the file again."
    if len(raw or "") > _payload_limit():
        abort(400, f"The import is larger than this installation accepts. {again}")
    try:
        checked = _serializer().loads(raw)
        rows, bad = checked["rows"], int(checked["bad"])
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(400, f"The import could not be verified. {again}")
    if isinstance(rows, list) and len(rows) > MAX_ROWS:
        abort(400, f"The import has more than {MAX_ROWS:,} rows. Split the file and upload each part.")
    if (
        not isinstance(rows, list)
        or bad < 0
        or not all(isinstance(r, dict) and set(r) == ROW_KEYS for r in rows)
    ):
        abort(400, f"The import was prepared by an earlier version of the tracker. {again}")
    return rows, bad


@bp.route("/import/confirm", methods=["POST"])
@school_roles(*EDITORS)
def confirm_import():
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, "The import form had expired. Upload the file again.")
    rows, bad = _checked_payload(form.payload.data)
    if bad and form.skip_bad.data != "yes":
        abort(
            400, f"{bad} row(s) have errors. Fix the file and upload it again, or choose to skip those rows."
        )
    if len(rows) > jobs.background_rows():
        with saving():
            job = jobs.create(g.school, rows, skipped=bad, user=current_user)
        if current_app.config.get("TRACKER_IMPORT_JOBS_THREADED", True):
            jobs.start(job.id)  # only now that the job is saved: the thread reads it from its own session
        return redirect(url_for(".import_job", job_id=job.id), code=303)
    try:
        with saving():
            report = bulk_import.import_rows(g.school, rows, skipped=bad)
    except IntegrityError:
        abort(409, jobs.CLASH)
    flash(
        f"Import done: {report.added} added, {report.changed} updated, {report.unchanged} unchanged"
        + (f", {report.skipped} row(s) with errors skipped" if report.skipped else "")
        + ".",
        "success",
    )
    return redirect(url_for(".index"))


def _import_job(job_id):
    job = get_for_school_or_404(ImportJob, job_id, g.school)
    with saving():
        jobs.expire_if_dead(job)  # marks a job whose thread died as failed; otherwise the commit is empty
    return job


@bp.route("/import/jobs/<uuid:job_id>")
@school_roles(*EDITORS)
def import_job(job_id):
    job = _import_job(job_id)
    return render_template("people/import_job.html", job=job, state=jobs.state(job))


@bp.route("/import/jobs/<uuid:job_id>/status")
@school_roles(*EDITORS)
def import_job_status(job_id):
    job = _import_job(job_id)
    return jsonify(**jobs.state(job), download=url_for(".index") if job.status == IMPORT_DONE else None)
