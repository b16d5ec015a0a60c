"""Report services: draft PDFs cached by the hash of their data, background jobs, and freezing at sign-off.

Services take the school first, only flush, and record audit events in the same transaction.
"""

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template

from .. import audit
from ..db import db, utcnow, write_transactions
from ..frameworks.models import Framework
from ..people.models import Person
from ..signals import year_signed_off
from ..tenancy import School
from ..tracking.models import SchoolYear
from ..tracking.services import TrackingError
from ..transactions import DomainError
from . import data as gather
from .models import (
    ACCREDITATION,
    DONE,
    FAILED,
    FRAMEWORK,
    KIND_LABELS,
    QUEUED,
    REGISTER,
    RUNNING,
    TRAINING_RECORD,
    Report,
)
from .render import RenderError, render_pdf

log = logging.getLogger(__name__)
TEMPLATES = {
    ACCREDITATION: "reports/pdf/accreditation.html",
    FRAMEWORK: "reports/pdf/framework.html",
    REGISTER: "reports/pdf/register.html",
    TRAINING_RECORD: "reports/pdf/training_record.html",
}
#: drafts kept per report (older ones are pruned when a newer one is stored)
KEEP_DRAFTS = 2


class ReportError(DomainError):
    """A report that cannot be made; the message is for the user."""


@dataclass
class Request:
    """What to report on: a kind, the year, and a framework or person where the kind needs one."""

    kind: str
    year: object = None
    framework: object = None
    person: object = None

    @property
    def subject(self):
        if self.framework is not None:
            return self.framework.key
        if self.person is not None:
            return str(self.person.id)
        return ""


def collect(school, req: Request) -> dict:
    """The data the report shows (a fixed number of queries)."""
    if req.kind == ACCREDITATION:
        return gather.accreditation(school, req.year)
    if req.kind == FRAMEWORK:
        return gather.framework(school, req.year, req.framework)
    if req.kind == REGISTER:
        return gather.recruitment_register(school, req.year)
    if req.kind == TRAINING_RECORD:
        return gather.training_record(school, req.person)
    raise ValueError(req.kind)


def html_for(data: dict, digest: str, generated_at=None) -> str:
    generated_at = generated_at or utcnow()
    return render_template(
        TEMPLATES[data["kind"]],
        d=data,
        data_hash=digest,
        kind_label=KIND_LABELS[data["kind"]],
        generated_at=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        anchor=audit.chain_anchor(data["school"]["id"]),
    )  # printed on every page


def background_rows() -> int:
    """Reports showing more rows than this are made in the background (TRACKER_REPORT_BACKGROUND_ROWS)."""
    return int(current_app.config["TRACKER_REPORT_BACKGROUND_ROWS"])


def _timeout():
    return int(current_app.config["TRACKER_REPORT_TIMEOUT"])


def _draft_query(school, req: Request, digest=None):
    query = db.select(Report).where(
        Report.school_id == school.id,
        Report.kind == req.kind,
        Report.subject == req.subject,
        Report.frozen.is_(False),
    )
    if req.year is not None:
        query = query.where(Report.year_id == req.year.id)
    if digest is not None:
        query = query.where(Report.data_hash == digest)
    return query


def cached(school, req: Request, digest: str) -> Report | None:
    """A draft already made from exactly this data (done), or one being made (queued/running)."""
    rows = (
        db.session.execute(
            _draft_query(school, req, digest)
            .where(Report.status.in_((DONE, QUEUED, RUNNING)))
            .order_by(Report.created_at.desc())
        )
        .scalars()
        .all()
    )
    for row in rows:
        if row.status == DONE or not _stale(row):
            return row
    return None


def _stale(row):
    """A job that has not finished long after its time limit died with its process."""
    return row.status in (QUEUED, RUNNING) and row.created_at < utcnow() - timedelta(
        seconds=2 * _timeout() + 60
    )


def _store(row: Report, rendered):
    row.pdf, row.pages = rendered.pdf, rendered.pages
    row.pdf_sha256, row.size = hashlib.sha256(rendered.pdf).hexdigest(), len(rendered.pdf)
    row.status, row.progress, row.stage, row.finished_at = DONE, 100, "Ready", utcnow()


def _new_row(school, req, data, digest, user, *, frozen=False, status=QUEUED):
    row = Report(
        school_id=school.id,
        kind=req.kind,
        year_id=req.year.id if req.year is not None else None,
        subject=req.subject,
        title=data["title"],
        data_hash=digest,
        frozen=frozen,
        status=status,
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(row)
    return row


def _prune(school, req, keep: Report):
    """Drop older drafts of the same report; frozen reports are never touched."""
    older = (
        db.session.execute(
            _draft_query(school, req)
            .where(Report.id != keep.id, Report.status == DONE)
            .order_by(Report.created_at.desc())
        )
        .scalars()
        .all()
    )
    for row in older[KEEP_DRAFTS - 1 :]:
        db.session.delete(row)


def draft(school, req: Request, user, *, background_rows=None) -> tuple[Report, bool]:
    """Return (report, made_now) for the current data: the cached draft when nothing changed, else a new one.

    Reports whose data is larger than `background_rows` come back queued: the caller commits and then calls
    start_job(). Smaller ones are rendered here.
    """
    stamp = change_stamp(school, req)
    fresh = (
        db.session.execute(
            _draft_query(school, req)
            .where(Report.status == DONE, Report.change_stamp == stamp)
            .order_by(Report.created_at.desc())
        )
        .scalars()
        .first()
    )
    if fresh is not None:  # nothing in the school has changed since this draft was checked: skip gathering
        return fresh, False
    data = collect(school, req)
    digest = gather.data_hash(data)
    existing = cached(school, req, digest)
    if existing is not None:
        if existing.status == DONE:
            existing.change_stamp = stamp
        return existing, False
    row = _new_row(school, req, data, digest, user)
    db.session.flush()
    if background_rows is not None and data["size"] > background_rows:
        row.stage = "Waiting to start"
        return row, True
    try:
        rendered = render_pdf(
            html_for(data, digest), title=f"{data['title']} · {school.name}", timeout=_timeout()
        )
    except RenderError as exc:
        raise ReportError(str(exc)) from exc
    _store(row, rendered)
    _prune(school, req, row)
    db.session.flush()
    audit.record("report.generated", school=school, subject=row, after=row.audit_view())
    row.change_stamp = change_stamp(school, req)  # after our own audit event, which moved the head
    return row, True


def change_stamp(school, req: Request) -> str:
    """A fingerprint of 'nothing has changed': every change to a school's data writes an audit event, so the
    head of its audit chain, with today's date (overdue states follow it) and what is asked for, moves
    whenever a report's content could. One primary-key read instead of gathering the whole report."""
    parts = [
        str(gather.LAYOUT_VERSION),
        req.kind,
        req.subject,
        str(req.year.id) if req.year is not None else "",
        school.today().isoformat(),
        audit.school_stamp(school),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


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
