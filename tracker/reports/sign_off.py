"""Reports' part of a year's sign-off (tracker/tracking/sign_off.py): the open work of the features above
tracking (accreditor queries, recruitment records, training) for the sign-off summary, and the job that
freezes the year's report once the head has confirmed.

Reports sits above every feature, so it answers the `year_open_work` signal for all of them; tracking's own
items it counts itself.
"""

from functools import partial

from flask import current_app

from ..db import db, utcnow
from ..people import register
from ..people.models import Person
from ..review.models import OPEN as QUERY_OPEN
from ..review.models import ReviewQuery
from ..signals import year_open_work, year_signed_off
from ..tracking.models import Item
from ..tracking.sign_off import OpenLine
from ..training import coverage as training
from .drafts import Request, _new_row
from .jobs import run_sign_off, start_sign_off_job
from .models import ACCREDITATION, Report


def _plural(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


@year_open_work.connect
def open_elsewhere(school, *, year, today) -> list[OpenLine]:
    """Open accreditor queries on the year's items, people with open checks, training gaps (five queries)."""
    lines = []
    queries = db.session.execute(
        db.select(db.func.count())
        .select_from(ReviewQuery)
        .join(Item, Item.id == ReviewQuery.item_id)
        .where(ReviewQuery.school_id == school.id, ReviewQuery.state == QUERY_OPEN, Item.year_id == year.id)
    ).scalar()
    if queries:
        lines.append(
            OpenLine(
                "queries",
                f"{_plural(queries, 'open accreditor query', 'open accreditor queries')}",
                queries,
                "review.index",
                {"state": QUERY_OPEN},
            )
        )
    # the register's incomplete people, read from their items (the (school, person) index): the count of its
    # "incomplete" filter as a semi-join was a nested loop over every open item per person on PostgreSQL
    # without planner statistics (6 s for bench/bench_reports.py's 500 staff)
    current = register._people_query(school, "").with_only_columns(Person.id).order_by(None)
    incomplete = len(register._incomplete_people(school, current))
    if incomplete:
        lines.append(
            OpenLine(
                "recruitment",
                f"{_plural(incomplete, 'person', 'people')} with open or overdue recruitment checks",
                incomplete,
                "people.index",
                {"filter": "incomplete"},
            )
        )
    for cov in training.coverage(school):
        for bucket, label in (("overdue", "overdue for"), ("never", "never trained in")):
            n = len(getattr(cov, bucket))
            if n:
                lines.append(
                    OpenLine(
                        "training",
                        f"{_plural(n, 'person', 'people')} {label} {cov.activity.title}",
                        n,
                        "training.who",
                        {"activity_key": cov.activity.key, "bucket": bucket},
                    )
                )
    return lines


@year_signed_off.connect
def queue_frozen_report(school, *, year, user):
    """Queue the job that freezes the report of a year the head just signed off (in the sender's
    transaction); returns what starts it once that transaction has committed."""
    req = Request(ACCREDITATION, year=year)
    row = _new_row(school, req, {"title": f"Accreditation report {year.label}"}, "", user, frozen=True)
    row.stage, row.created_at = "Waiting to start", utcnow()
    db.session.flush()
    year.sign_off_job_id = row.id
    if current_app.config.get("TRACKER_REPORT_JOBS_THREADED", True):
        return partial(start_sign_off_job, row.id, school.id, year.id)
    return partial(finish_now, school, year, commit=db.session.commit)


def finish_now(school, year, commit=lambda: None) -> bool:
    """Make the frozen report of a year being signed off here and now, not in a thread (the demo data; tests
    that turn threaded jobs off); returns whether the year was signed off."""
    return run_sign_off(school, frozen_job(school, year), year, commit=commit)


def frozen_job(school, year) -> Report | None:
    """The report job of the year's sign-off (running, done or failed), if any."""
    if year.sign_off_job_id is None:
        return None
    row = db.session.get(Report, year.sign_off_job_id)
    return row if row is not None and row.school_id == school.id else None
