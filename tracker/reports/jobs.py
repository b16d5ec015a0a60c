"""Report jobs: large reports, and the frozen report of a year being signed off, made in a background thread,
their progress committed as they go."""

import logging
import threading

from flask import current_app

from .. import audit
from ..db import db, utcnow, write_transactions
from ..frameworks.models import Framework
from ..people.models import Person
from ..tenancy import School
from ..tracking import sign_off as signing
from ..tracking.errors import TrackingError
from ..tracking.models import SchoolYear
from . import data as gather
from .drafts import Request, _prune, _store, _timeout, collect, html_for
from .models import ACCREDITATION, FAILED, RUNNING, Report
from .render import RenderError, render_pdf

log = logging.getLogger(__name__)


def _progress_writer(row: Report, commit):
    """progress(percent, stage): the job's progress, each in a short transaction of its own. The reading
    transaction is ended first: on SQLite a transaction that has read cannot start writing once another
    connection has written (a page's request, meanwhile), it fails at once instead of waiting its turn."""

    def progress(percent, stage, status=None):
        commit()
        with write_transactions():
            if status is not None:
                row.status = status
            row.progress, row.stage = percent, stage
            commit()

    return progress


def run_job(school, row: Report, req: Request, commit=lambda: None) -> None:
    """Make a queued report: gather, lay out, write; progress is committed as it goes (`commit`)."""

    progress = _progress_writer(row, commit)
    progress(5, "Gathering the data", status=RUNNING)
    data = collect(school, req)
    digest = gather.data_hash(data)
    progress(20, "Laying out the pages")
    try:
        rendered = render_pdf(
            html_for(data, digest),
            title=f"{data['title']} · {school.name}",
            timeout=_timeout(),
            on_progress=progress,
        )
    except RenderError as exc:
        row.status, row.error, row.finished_at = FAILED, str(exc), utcnow()
        commit()
        return
    commit()  # end the reading transaction: on SQLite the last step must queue for the write lock, not fail
    with write_transactions():
        row.data_hash = digest  # the data may have moved on since the job was queued: the PDF shows this data
        _store(row, rendered)
        _prune(school, req, row)
        audit.record(
            "report.generated", school=school, subject=row, actor=row.created_by, after=row.audit_view()
        )
        commit()


def start_job(report_id, school_id, req_args: dict) -> threading.Thread:
    """Run a queued report in a thread with its own app context and database session."""
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                school = db.session.get(School, school_id)
                row = db.session.get(Report, report_id)

                def get(model, key):
                    return db.session.get(model, req_args[key]) if req_args.get(key) else None

                req = Request(
                    kind=req_args["kind"],
                    year=get(SchoolYear, "year_id"),
                    framework=get(Framework, "framework_id"),
                    person=get(Person, "person_id"),
                )
                run_job(school, row, req, commit=db.session.commit)
            except Exception:
                log.exception("report job %s failed", report_id)
                db.session.rollback()
                with write_transactions():
                    row = db.session.get(Report, report_id)
                    if row is not None:
                        row.status, row.error = (
                            FAILED,
                            "The report could not be made; the error is in the server log.",
                        )
                        db.session.commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"report-{report_id}", daemon=True)
    thread.start()
    return thread


def job_args(req: Request) -> dict:
    return {
        "kind": req.kind,
        "year_id": req.year.id if req.year is not None else None,
        "framework_id": req.framework.id if req.framework is not None else None,
        "person_id": req.person.id if req.person is not None else None,
    }


# --- the frozen report of a year being signed off ----------------------------------------------------------

SIGN_OFF_FAILED = "The year could not be signed off because its report could not be made"


def run_sign_off(school, row: Report, year, commit=lambda: None) -> bool:
    """Make the frozen report of `year` (SIGNING) and, in the transaction that stores it, sign the year off;
    if it cannot be made the year goes back to not signed off, with the reason. Progress is committed as it
    goes (`commit`). Returns whether the year was signed off."""

    progress = _progress_writer(row, commit)
    progress(5, "Gathering the data", status=RUNNING)
    data = collect(school, Request(ACCREDITATION, year=year))
    digest = gather.data_hash(data)
    row.title, row.data_hash = data["title"], digest
    progress(20, "Laying out the pages")
    try:
        rendered = render_pdf(
            html_for(data, digest),
            title=f"{data['title']} · {school.name}",
            timeout=_timeout(),
            on_progress=progress,
        )
    except RenderError as exc:
        fail_sign_off(school, row, year, f"{SIGN_OFF_FAILED}: {exc}", commit)
        return False
    commit()  # end the reading transaction: on SQLite the last step must queue for the write lock, not fail
    with write_transactions():
        try:
            _store(row, rendered)
            audit.record(
                "report.frozen", school=school, subject=row, actor=row.created_by, after=row.audit_view()
            )
            signing.complete_sign_off(school, year, report_id=row.id, pdf_sha256=row.pdf_sha256)
        except TrackingError as exc:  # the year stopped waiting for this report (a job that was given up on)
            db.session.rollback()
            row, year = db.session.get(Report, row.id), db.session.get(SchoolYear, year.id)
            row.status, row.error, row.finished_at = FAILED, str(exc), utcnow()
            commit()
            return False
        commit()
    return True


def fail_sign_off(school, row: Report, year, message: str, commit) -> None:
    """The job failed: the report row says why and the year is not signed off (one transaction)."""
    with write_transactions():
        row.status, row.error, row.finished_at = FAILED, message, utcnow()
        signing.fail_sign_off(school, year, message)
        commit()


def sign_off_work(app, report_id, school_id, year_id) -> None:
    """The body of a sign-off job's thread: its own app context and session; whatever goes wrong, the year
    does not stay "signing"."""
    with app.app_context():
        try:
            school = db.session.get(School, school_id)
            row = db.session.get(Report, report_id)
            year = db.session.get(SchoolYear, year_id)
            run_sign_off(school, row, year, commit=db.session.commit)
        except Exception:
            log.exception("sign-off job %s failed", report_id)
            db.session.rollback()
            school = db.session.get(School, school_id)
            row = db.session.get(Report, report_id)
            year = db.session.get(SchoolYear, year_id)
            if row is not None and year is not None:
                fail_sign_off(
                    school,
                    row,
                    year,
                    f"{SIGN_OFF_FAILED}; the error is in the server log.",
                    db.session.commit,
                )
        finally:
            db.session.remove()


def start_sign_off_job(report_id, school_id, year_id) -> threading.Thread:
    """Run the frozen report of a year being signed off in a thread (`sign_off_work`)."""
    app = current_app._get_current_object()
    thread = threading.Thread(
        target=sign_off_work,
        args=(app, report_id, school_id, year_id),
        name=f"sign-off-{year_id}",
        daemon=True,
    )
    thread.start()
    return thread
