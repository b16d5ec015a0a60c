"""Report drafts: what to report on, gathering and laying out, and drafts cached by the hash of their data.

Services take the school first, only flush, and record audit events in the same transaction.
"""

import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template

from .. import audit
from ..db import db, utcnow
from ..transactions import DomainError
from . import data as gather
from .models import (
    ACCREDITATION,
    DONE,
    FRAMEWORK,
    KIND_LABELS,
    QUEUED,
    REGISTER,
    RUNNING,
    TRAINING_RECORD,
    Report,
)
from .render import RenderError, render_pdf

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


@contextmanager
def gc_paused():
    """No cyclic garbage collection while a report is gathered or laid out (reference counting still frees
    what it can; collection resumes at the end, unless it was off already). The tens of thousands of rows and
    dicts a large report allocates set off full collections that scan the whole heap (the app, the session's
    objects) again and again: 40% of the CPU of gathering and templating the 500-staff accreditation report
    (bench/bench_reports.py). Collection is per process: other threads' collections wait for the same short
    while."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def collect(school, req: Request) -> dict:
    """The data the report shows (a fixed number of queries)."""
    with gc_paused():
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
    with gc_paused():
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
