"""Report services: the frozen reports of signed-off years; drafts.py's drafts, jobs.py's background jobs
and sign_off.py's part of a sign-off (the summary's open work, the job freezing the report) are
re-exported here.

Services take the school first, only flush, and record audit events in the same transaction.
"""

from ..db import db
from . import data as gather
from .drafts import (
    KEEP_DRAFTS,
    TEMPLATES,
    ReportError,
    Request,
    _stale,
    background_rows,
    cached,
    change_stamp,
    collect,
    draft,
    html_for,
)
from .jobs import job_args, run_job, run_sign_off, start_job, start_sign_off_job
from .models import DONE, Report
from .render import render_pdf
from .sign_off import finish_now, frozen_job, open_elsewhere, queue_frozen_report

__all__ = [
    "KEEP_DRAFTS",
    "TEMPLATES",
    "ReportError",
    "Request",
    "_stale",
    "background_rows",
    "cached",
    "change_stamp",
    "collect",
    "draft",
    "finish_now",
    "frozen_job",
    "frozen_report",
    "gather",
    "html_for",
    "job_args",
    "open_elsewhere",
    "queue_frozen_report",
    "render_pdf",
    "run_job",
    "run_sign_off",
    "signed_reports",
    "start_job",
    "start_sign_off_job",
]


def frozen_report(school, year) -> Report | None:
    return (
        db.session.execute(
            db.select(Report)
            .where(
                Report.school_id == school.id,
                Report.year_id == year.id,
                Report.frozen.is_(True),
                Report.status == DONE,
            )
            .order_by(Report.created_at.desc())
        )
        .scalars()
        .first()
    )


def signed_reports(school) -> dict:
    """{year id: frozen report} for the school, in one query."""
    rows = (
        db.session.execute(
            db.select(Report)
            .where(Report.school_id == school.id, Report.frozen.is_(True), Report.status == DONE)
            .order_by(Report.created_at)
        )
        .scalars()
        .all()
    )
    return {r.year_id: r for r in rows}
