"""Report jobs: large reports made in a background thread, their progress committed as they go."""

import logging
import threading

from flask import current_app

from .. import audit
from ..db import db, utcnow, write_transactions
from ..frameworks.models import Framework
from ..people.models import Person
from ..tenancy import School
from ..tracking.models import SchoolYear
from . import data as gather
from .drafts import Request, _prune, _store, _timeout, collect, html_for
from .models import FAILED, RUNNING, Report
from .render import RenderError, render_pdf

log = logging.getLogger(__name__)


def run_job(school, row: Report, req: Request, commit=lambda: None) -> None:
    """Make a queued report: gather, lay out, write; progress is committed as it goes (`commit`)."""

    def progress(percent, stage):
        row.progress, row.stage = percent, stage
        commit()

    row.status = RUNNING
    progress(5, "Gathering the data")
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
