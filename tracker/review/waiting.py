"""What accreditor queries ask of a member, for "Waiting for you" (tracker/waiting.py): queries waiting for
the school's answer (leads and heads), answers waiting for the accreditor to read."""

from flask import url_for
from sqlalchemy import bindparam, func

from ..db import db
from ..signals import waiting_for
from ..tenancy import ACCREDITOR, HEAD, LEAD
from ..waiting import WaitingLine, per_batch, prepared, school_in
from .models import ANSWERED, OPEN, ReviewQuery

#: who answers a query for the school (the review pages let them reply)
ANSWERERS = (LEAD, HEAD)


def _waiting(school_ids, state):
    """{school id: (how many of the school's queries are in `state`, the id of the oldest)}, for the schools
    that have any: one query, built once per process (`waiting.prepared`)."""
    rows = prepared("review.waiting", _waiting_statement, school_ids, None, state=state)
    return {school_id: (n, first) for school_id, n, first in rows}


def _waiting_statement(shape, _today):
    ranked = (
        db.select(
            ReviewQuery.school_id.label("school_id"),
            ReviewQuery.id.label("id"),
            func.count().over(partition_by=ReviewQuery.school_id).label("n"),
            func.row_number()
            .over(partition_by=ReviewQuery.school_id, order_by=(ReviewQuery.updated_at, ReviewQuery.id))
            .label("rank"),
        )
        .where(school_in(ReviewQuery.school_id, shape), ReviewQuery.state == bindparam("state"))
        .subquery()
    )
    return db.select(ranked.c.school_id, ranked.c.n, ranked.c.id).where(ranked.c.rank == 1)


def _waiting_in(state):
    """`_waiting` for `waiting.per_batch` (which gives the schools and their date)."""
    return lambda school_ids, _today: _waiting(school_ids, state)


def _line(school, kind, count, first_id, text, state):
    if count == 1:
        url = url_for("review.thread", school=school.slug, query_id=first_id)
    else:
        url = url_for("review.index", school=school.slug, state=state)
    return WaitingLine(kind=kind, text=text, url=url, count=count)


@waiting_for.connect
def query_lines(school, member, today, **_):
    """Leads and heads: the queries to answer; an accreditor: the answers to read."""
    if member.role in ANSWERERS:
        count, first = per_batch(school, ("review", OPEN), today, _waiting_in(OPEN), (0, None))
        if count:
            text = f"{count} accreditor {'query' if count == 1 else 'queries'} to answer"
            return [_line(school, "queries", count, first, text, OPEN)]
    elif member.role == ACCREDITOR:
        count, first = per_batch(school, ("review", ANSWERED), today, _waiting_in(ANSWERED), (0, None))
        if count:
            text = f"{count} {'query' if count == 1 else 'queries'} answered by the school, to read or close"
            return [_line(school, "queries_answered", count, first, text, ANSWERED)]
    return []
