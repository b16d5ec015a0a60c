"""Read-side queries of the training pages: recent sessions with their attendance, the people a session form
offers."""

from sqlalchemy.orm import selectinload

from ..db import db
from ..evidence.models import VERIFIED
from ..people.models import Person
from .models import TrainingAttendance, TrainingSession


def recent_sessions(school, limit=20) -> list:
    """(session, number attending) for the school's latest `limit` verified sessions, newest first
    (certificates waiting for verification are on the "To verify" list instead)."""
    attended = (
        db.select(db.func.count())
        .where(TrainingAttendance.session_id == TrainingSession.id)
        .correlate(TrainingSession)
        .scalar_subquery()
    )
    return db.session.execute(
        db.select(TrainingSession, attended)
        .where(TrainingSession.school_id == school.id, TrainingSession.verification == VERIFIED)
        .options(selectinload(TrainingSession.requirement))
        .order_by(TrainingSession.held_on.desc())
        .limit(limit)
    ).all()


def people_to_offer(school, today, session=None) -> list:
    """People who have not left by `today` (and, for an existing session, its attendees even if they have
    left), by name."""
    current = (Person.leave_on.is_(None)) | (Person.leave_on >= today)
    if session is not None:
        attended = db.select(TrainingAttendance.person_id).where(TrainingAttendance.session_id == session.id)
        current = current | Person.id.in_(attended)
    return (
        db.session.execute(
            db.select(Person).where(Person.school_id == school.id, current).order_by(Person.full_name)
        )
        .scalars()
        .all()
    )
