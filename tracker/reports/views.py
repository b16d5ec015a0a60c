"""Report pages: the list, draft downloads (cached, or a background job), job progress, signed reports."""

import io
import uuid

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from .. import audit
from ..access import school_roles
from ..db import get_for_school_or_404
from ..people.models import Person
from ..review import services as review
from ..tenancy import ACCREDITOR, HEAD, LEAD
from ..tracking import queries as tracking_queries
from ..tracking import services as tracking
from ..tracking.models import SchoolYear
from ..transactions import saving
from . import bp, queries, services
from .models import ACCREDITATION, DONE, FAILED, FRAMEWORK, REGISTER, TRAINING_RECORD, Report

MANAGERS = (LEAD, HEAD)


def _year(year_id=None):
    if year_id is not None:
        return get_for_school_or_404(SchoolYear, year_id, g.school)
    return tracking.current_year(g.school)


@bp.route("/")
@school_roles(LEAD, HEAD, ACCREDITOR)
def index():
    raw = request.args.get("year")
    try:
        year = _year(uuid.UUID(raw) if raw else None)
    except ValueError:
        abort(404)
    people = accreditors = []
    if g.membership.role in MANAGERS:
        people = queries.current_people(g.school, g.school.today())
        accreditors = queries.accreditors(g.school)
    return render_template(
        "reports/index.html",
        year=year,
        years=tracking_queries.years(g.school),
        signed=services.signed_reports(g.school),
        people=people,
        accreditors=accreditors,
        query_counts=review.counts(g.school),
        today=g.school.today(),
    )


def _send(row: Report):
    if row.status != DONE or row.pdf is None:
        abort(404)
    response = send_file(
        io.BytesIO(row.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=row.filename,
        max_age=0,
    )
    response.headers["X-Report-SHA256"] = row.pdf_sha256
    return response


def _serve(req: services.Request):
    """The draft for the current data: sent at once when cached or small, else made by a background job."""
    year_id = req.year.id if req.year is not None else None
    with saving() as tx:
        row, made = services.draft(g.school, req, current_user, background_rows=services.background_rows())
        if made and row.status != DONE and current_app.config.get("TRACKER_REPORT_JOBS_THREADED", True):
            tx.after_commit(services.start_job, row.id, g.school.id, services.job_args(req))
    if not tx.ok:
        return redirect(url_for(".index", year=year_id))
    if row.status == DONE:
        return _send(row)
    return redirect(url_for(".job", report_id=row.id), code=303)


@bp.route("/years/<uuid:year_id>/accreditation.pdf")
@school_roles(*MANAGERS)
def accreditation(year_id):
    return _serve(services.Request(ACCREDITATION, year=_year(year_id)))


@bp.route("/years/<uuid:year_id>/frameworks/<framework_key>.pdf")
@school_roles(*MANAGERS)
def framework(year_id, framework_key):
    year = _year(year_id)
    fw = next((f for f in year.frameworks if f.key == framework_key), None)
    if fw is None:
        abort(404)
    return _serve(services.Request(FRAMEWORK, year=year, framework=fw))


@bp.route("/years/<uuid:year_id>/register.pdf")
@school_roles(*MANAGERS)
def register(year_id):
    return _serve(services.Request(REGISTER, year=_year(year_id)))


@bp.route("/training-record.pdf")
@school_roles(*MANAGERS)
def training_record():
    try:
        person_id = uuid.UUID(request.args.get("person", ""))
    except ValueError:
        flash("Choose a person.", "error")
        return redirect(url_for(".index"))
    person = get_for_school_or_404(Person, person_id, g.school)
    return _serve(services.Request(TRAINING_RECORD, person=person))


@bp.route("/files/<uuid:report_id>")
@school_roles(LEAD, HEAD, ACCREDITOR)
def download(report_id):
    row = get_for_school_or_404(Report, report_id, g.school)
    if g.membership.role == ACCREDITOR:
        if not row.frozen:
            abort(404)  # accreditors see signed reports only
        with saving():
            audit.record("report.downloaded", school=g.school, subject=row, after=row.audit_view())
    return _send(row)


@bp.route("/jobs/<uuid:report_id>")
@school_roles(*MANAGERS)
def job(report_id):
    row = get_for_school_or_404(Report, report_id, g.school)
    if services._stale(row):
        with saving():
            row.status, row.error = FAILED, "The report stopped before it finished. Try again."
    return render_template("reports/job.html", report=row)


@bp.route("/jobs/<uuid:report_id>/status")
@school_roles(*MANAGERS)
def status(report_id):
    row = get_for_school_or_404(Report, report_id, g.school)
    return jsonify(
        status=row.status,
        progress=row.progress,
        stage=row.stage,
        error=row.error,
        download=url_for(".download", report_id=row.id) if row.status == DONE else None,
    )
