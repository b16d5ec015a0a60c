"""Report services: a year's report frozen at sign-off, and the frozen reports; drafts.py's drafts and
jobs.py's background jobs are re-exported here.

Services take the school first, only flush, and record audit events in the same transaction.
"""

from .. import audit
from ..db import db
from ..signals import year_signed_off
from ..tracking.errors import TrackingError
from . import data as gather
from .drafts import (
    KEEP_DRAFTS,
    TEMPLATES,
    ReportError,
    Request,
    _new_row,
    _stale,
    _store,
    _timeout,
    background_rows,
    cached,
    change_stamp,
    collect,
    draft,
    html_for,
)
from .jobs import job_args, run_job, start_job
from .models import ACCREDITATION, Report
from .render import RenderError, render_pdf

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
    "freeze",
    "freeze_on_sign_off",
    "frozen_report",
    "gather",
    "html_for",
    "job_args",
    "render_pdf",
    "run_job",
    "signed_reports",
    "start_job",
]


def freeze(school, year, user) -> Report:
    """Render and store the accreditation report of a year just signed off; it never changes afterwards."""
    if year.signed_off_at is None:
        raise ReportError("Only a signed-off year has a frozen report.")
    req = Request(ACCREDITATION, year=year)
    data = collect(school, req)
    digest = gather.data_hash(data)
    try:
        rendered = render_pdf(
            html_for(data, digest), title=f"{data['title']} · {school.name}", timeout=_timeout()
        )
    except RenderError as exc:
        raise ReportError(
            f"The year could not be signed off because its report could not be made: {exc}"
        ) from exc
    row = _new_row(school, req, data, digest, user, frozen=True)
    _store(row, rendered)
    db.session.flush()
    audit.record("report.frozen", school=school, subject=row, after=row.audit_view())
    return row


@year_signed_off.connect
def freeze_on_sign_off(school, *, year, user) -> None:
    """A year signed off (tracking) has its report frozen as it stands now, in the same transaction: if the
    report cannot be made, the sign-off fails with the reason and nothing of either is saved."""
    try:
        freeze(school, year, user)
    except ReportError as exc:
        raise TrackingError(str(exc)) from exc


def frozen_report(school, year) -> Report | None:
    return (
        db.session.execute(
            db.select(Report)
            .where(Report.school_id == school.id, Report.year_id == year.id, Report.frozen.is_(True))
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
            .where(Report.school_id == school.id, Report.frozen.is_(True))
            .order_by(Report.created_at)
        )
        .scalars()
        .all()
    )
    return {r.year_id: r for r in rows}
