"""What accreditor queries ask of a member, for "Waiting for you" (tracker/waiting.py): queries waiting for
the school's answer (leads and heads), answers waiting for the accreditor to read."""

from flask import url_for
from sqlalchemy import func

from ..db import db
from ..signals import waiting_for
from ..tenancy import ACCREDITOR, HEAD, LEAD
from ..waiting import WaitingLine, per_school
from .models import ANSWERED, OPEN, ReviewQuery

#: who answers a query for the school (the review pages let them reply)
ANSWERERS = (LEAD, HEAD)


def _waiting(school, state):
    """(how many of the school's queries are in `state`, the id of the oldest): one query."""
    row = db.session.execute(
        db.select(ReviewQuery.id, func.count().over())
        .where(ReviewQuery.school_id == school.id, ReviewQuery.state == state)
        .order_by(ReviewQuery.updated_at, ReviewQuery.id)
        .limit(1)
    ).first()
    return (row[1], row[0]) if row else (0, None)


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
        count, first = per_school(school, ("review", OPEN), lambda: _waiting(school, OPEN))
        if count:
            text = f"{count} accreditor {'query' if count == 1 else 'queries'} to answer"
            return [_line(school, "queries", count, first, text, OPEN)]
    elif member.role == ACCREDITOR:
        count, first = per_school(school, ("review", ANSWERED), lambda: _waiting(school, ANSWERED))
        if count:
            text = f"{count} {'query' if count == 1 else 'queries'} answered by the school, to read or close"
            return [_line(school, "queries_answered", count, first, text, ANSWERED)]
    return []
