"""Review services: raise a query, reply, close. Each flushes and records an audit event."""

from sqlalchemy.orm import selectinload

from .. import audit
from ..db import db, utcnow
from ..tenancy import ACCREDITOR
from ..transactions import DomainError
from .models import ANSWERED, CLOSED, OPEN, ReviewMessage, ReviewQuery


class ReviewError(DomainError):
    """A change that cannot be made; the message is for the user."""


def raise_query(school, item, *, body: str, user, role: str) -> ReviewQuery:
    if role != ACCREDITOR:
        raise ReviewError("Only an accreditor raises queries.")
    query = ReviewQuery(school_id=school.id, item_id=item.id, state=OPEN, raised_by_id=user.id)
    query.item = item
    db.session.add(query)
    db.session.flush()
    db.session.add(
        ReviewMessage(school_id=school.id, query_id=query.id, author_id=user.id, author_role=role, body=body)
    )
    db.session.flush()
    audit.record("query.raised", school=school, subject=query, after={"item": item.title, "body": body[:500]})
    return query


def reply(school, query: ReviewQuery, *, body: str, user, role: str) -> ReviewMessage:
    """A message in the thread: the school's reply answers the query; the accreditor's re-opens it."""
    if query.state == CLOSED:
        raise ReviewError("This query is closed.")
    before = query.state
    message = ReviewMessage(
        school_id=school.id, query_id=query.id, author_id=user.id, author_role=role, body=body
    )
    db.session.add(message)
    query.state = OPEN if role == ACCREDITOR else ANSWERED
    query.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "query.answered" if role != ACCREDITOR else "query.followed_up",
        school=school,
        subject=query,
        before={"state": before},
        after={"state": query.state, "body": body[:500]},
    )
    return message


def close(school, query: ReviewQuery, *, user) -> None:
    if query.state == CLOSED:
        raise ReviewError("This query is already closed.")
    before = query.state
    query.state, query.updated_at = CLOSED, utcnow()
    db.session.flush()
    audit.record(
        "query.closed", school=school, subject=query, before={"state": before}, after={"state": CLOSED}
    )


def for_item(school, item_id) -> list[ReviewQuery]:
    return (
        db.session.execute(
            db.select(ReviewQuery)
            .where(ReviewQuery.school_id == school.id, ReviewQuery.item_id == item_id)
            .options(selectinload(ReviewQuery.messages))
            .order_by(ReviewQuery.created_at)
        )
        .scalars()
        .unique()
        .all()
    )


def listing(school, state=None) -> list[ReviewQuery]:
    query = db.select(ReviewQuery).where(ReviewQuery.school_id == school.id)
    if state:
        query = query.where(ReviewQuery.state == state)
    return (
        db.session.execute(query.order_by(ReviewQuery.updated_at.desc()).limit(200)).scalars().unique().all()
    )


def counts(school) -> dict:
    rows = db.session.execute(
        db.select(ReviewQuery.state, db.func.count())
        .where(ReviewQuery.school_id == school.id)
        .group_by(ReviewQuery.state)
    ).all()
    return {state: n for state, n in rows}
