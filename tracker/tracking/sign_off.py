"""Signing off a school year: what is still open, the head's sign-off, and its end once the report is stored.

A year's `sign_off_state` goes OPEN -> SIGNING (`sign_off`: the head confirmed with a comment; the year's
items are locked; reports queues the job that freezes the report, through the `year_signed_off` signal)
-> SIGNED (`complete_sign_off`, called by that job in the transaction that stores the report) or back to
OPEN (`fail_sign_off`, with the reason). Each step locks the year's row and records an audit event.

What is still open comes from `open_work`: this package's own items (overdue and open, per framework) and the
lines every later feature returns to the `year_open_work` signal (queries, recruitment records, training).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import chain

from sqlalchemy import case, event, func
from sqlalchemy.orm import Session

from .. import audit
from ..db import db, utcnow
from ..signals import year_open_work, year_signed_off
from .errors import TrackingError
from .models import OPEN_STATUSES, AnswerVersion, Comment, Item, SchoolYear

OPEN, SIGNING, SIGNED = "open", "signing", "signed"

#: the longest comment the head may add to the signed report
COMMENT_MAX = 4000


@dataclass(frozen=True)
class OpenLine:
    """One thing still open in a year: `kind` a short stable key ("overdue", "open", "queries", "recruitment",
    "training"), `text` what it is ("4 overdue items in Safeguarding action plan"), `count` how many, and the
    page that lists them as an endpoint with its values (the template builds the link, so services and jobs
    need no request)."""

    kind: str
    text: str
    count: int
    endpoint: str
    params: dict = field(default_factory=dict)


def _plural(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


def item_lines(school, year, today) -> list[OpenLine]:
    """Overdue and open items of the year, per framework (one query)."""
    overdue = func.sum(case((Item.due_on < today, 1), else_=0))
    rows = db.session.execute(
        db.select(Item.framework_id, func.count(), overdue)
        .where(Item.school_id == school.id, Item.year_id == year.id, Item.status.in_(OPEN_STATUSES))
        .group_by(Item.framework_id)
    ).all()
    by_id = {f.id: f for f in year.frameworks}
    lines = []
    for framework_id, total, late in sorted(
        rows, key=lambda r: (r[0] is None, by_id[r[0]].title if r[0] in by_id else "")
    ):
        fw = by_id.get(framework_id)
        key, title = (fw.key, fw.title) if fw is not None else ("own", "the school's own items")
        base = {"year": str(year.id), "framework": key}
        if late:
            lines.append(
                OpenLine(
                    "overdue",
                    f"{_plural(late, 'overdue item')} in {title}",
                    int(late),
                    "tracking.items",
                    {**base, "overdue": "1"},
                )
            )
        lines.append(
            OpenLine("open", f"{_plural(total, 'open item')} in {title}", int(total), "tracking.items", base)
        )
    return lines


def open_work(school, year, today=None) -> list[OpenLine]:
    """Everything still open in `year`: its items, then every later feature's lines."""
    today = today or school.today()
    lines = item_lines(school, year, today)
    for _receiver, returned in year_open_work.send(school, year=year, today=today):
        lines.extend(returned or [])
    return lines


def open_counts(lines) -> dict:
    """{kind: total count} of the lines (what the sign-off's audit event records)."""
    counts = {}
    for line in lines:
        counts[line.kind] = counts.get(line.kind, 0) + line.count
    return counts


def _locked(year_id) -> SchoolYear:
    # the year's row is locked and read again (PostgreSQL), so of two sign-offs at the same moment the second
    # waits for the first and is told it is under way; SQLite's write lock serializes them already
    return db.session.execute(
        db.select(SchoolYear)
        .where(SchoolYear.id == year_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def sign_off(school, year: SchoolYear, user, *, comment="", reviewed=False) -> list:
    """The head signs off `year` (their identity is checked by the view): it becomes SIGNING and reports
    queues the job that freezes its report. `reviewed` must be true when anything is still open. Returns the
    functions to call once this transaction has committed (they start the job)."""
    year = _locked(year.id)
    if year.sign_off_state == SIGNED or year.signed_off_at is not None:
        raise TrackingError(f"{year.label} was already signed off.")
    if year.sign_off_state == SIGNING:
        raise TrackingError(f"{year.label} is being signed off already: its report is being made.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise TrackingError(f"Keep the comment under {COMMENT_MAX} characters.", field="comment")
    lines = open_work(school, year)
    if lines and not reviewed:
        raise TrackingError(
            "Tick “I have reviewed what is still open” to sign off a year with open work.", field="reviewed"
        )
    year.sign_off_state, year.sign_off_comment, year.sign_off_error = SIGNING, comment, ""
    year.sign_off_requested_at, year.signed_off_by_id = utcnow(), user.id
    year.signed_off_by = user
    audit.record(
        "year.sign_off_requested",
        school=school,
        subject=year,
        after={"signed_off_by": user.email, "comment": comment, "open": open_counts(lines)},
    )
    # reports queues the job that freezes the report (it raises TrackingError if it cannot; then nothing is
    # saved); see tracker/signals.py
    return [start for _receiver, start in year_signed_off.send(school, year=year, user=user) if start]


def complete_sign_off(school, year: SchoolYear, *, report_id, pdf_sha256) -> SchoolYear:
    """The year's frozen report `report_id` is stored (in this transaction): the year is signed off, at the
    moment the head confirmed. Raises TrackingError if the year is no longer waiting for that report."""
    year = _locked(year.id)
    if year.sign_off_state != SIGNING or year.sign_off_job_id != report_id:
        raise TrackingError(f"{year.label} is no longer waiting for this report.")
    year.sign_off_state, year.signed_off_at = SIGNED, year.sign_off_requested_at or utcnow()
    audit.record(
        "year.signed_off",
        school=school,
        subject=year,
        actor=year.signed_off_by,
        after={
            "signed_off_by": year.signed_off_by.email if year.signed_off_by else None,
            "report_id": str(report_id),
            "pdf_sha256": pdf_sha256,
        },
    )
    return year


def fail_sign_off(school, year: SchoolYear, error: str) -> None:
    """The frozen report could not be made: the year is not signed off (OPEN again), and says why."""
    year = _locked(year.id)
    if year.sign_off_state != SIGNING:
        return
    actor = year.signed_off_by
    year.sign_off_state, year.sign_off_error = OPEN, error
    year.signed_off_by_id, year.signed_off_by, year.signed_off_at = None, None, None
    audit.record(
        "year.sign_off_failed",
        school=school,
        subject=year,
        actor=actor,
        after={"error": error, "report_id": str(year.sign_off_job_id) if year.sign_off_job_id else None},
    )


def give_up_if_stalled(school, year: SchoolYear, timeout_seconds: int) -> bool:
    """A year still "signing" long after its report's time limit lost its job with its process: it goes back
    to not signed off, with the reason. Returns whether it did."""
    if year.sign_off_state != SIGNING or year.sign_off_requested_at is None:
        return False
    if year.sign_off_requested_at >= utcnow() - timedelta(seconds=2 * timeout_seconds + 60):
        return False
    fail_sign_off(school, year, "The report job stopped before it finished. Sign off again.")
    return True


# --- a year being signed off is locked ------------------------------------------------------------------


def _item_ids_and_years(session):
    years, item_ids = set(), set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Item):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if obj.year_id is not None:
                years.add(obj.year_id)
        elif isinstance(obj, (Comment, AnswerVersion)) or type(obj).__name__ == "Evidence":
            if getattr(obj, "item_id", None) is not None:
                item_ids.add(obj.item_id)
    return years, item_ids


@event.listens_for(Session, "before_flush")
def _signing_years_are_locked(session, _flush_context, _instances):
    """Nobody changes the items (or their comments, answers and evidence) of a year that is being signed off:
    the report being frozen must show the year as the head signed it."""
    years, item_ids = _item_ids_and_years(session)
    if not years and not item_ids:
        return
    with session.no_autoflush:
        query = db.select(SchoolYear.label).where(SchoolYear.sign_off_state == SIGNING)
        where = []
        if years:
            where.append(SchoolYear.id.in_(years))
        if item_ids:
            where.append(SchoolYear.id.in_(db.select(Item.year_id).where(Item.id.in_(item_ids))))
        label = session.execute(query.where(db.or_(*where)).limit(1)).scalar()
    if label is not None:
        raise TrackingError(
            f"{label} is being signed off: its items cannot be changed until its report is stored."
        )
