"""Training services: recording, changing and deleting sessions, and a person's training on their page.

Coverage (coverage.py: audiences, expiry, who is current, expiring, overdue or never trained) is re-exported
here.
"""

from datetime import date

from flask import current_app

from .. import audit
from ..db import db
from ..evidence.checks import check_upload
from ..evidence.models import VERIFIED
from ..evidence.storage import EvidenceStore
from ..frameworks.models import Requirement
from ..signals import person_page
from .coverage import (
    AUDIENCE_RULES,
    COVERAGE_COLUMNS,
    EXPIRING_DAYS,
    Coverage,
    activities,
    coverage,
    expiry,
    in_audience,
    latest_completions,
    person_record,
    state,
)
from .models import TrainingAttendance, TrainingSession

__all__ = [
    "AUDIENCE_RULES",
    "COVERAGE_COLUMNS",
    "EXPIRING_DAYS",
    "Coverage",
    "activities",
    "coverage",
    "delete_file",
    "delete_session",
    "expiry",
    "in_audience",
    "latest_completions",
    "person_record",
    "person_sessions",
    "person_training",
    "record_session",
    "session_view",
    "state",
    "update_session",
]


def record_session(
    school,
    *,
    activity: Requirement,
    held_on: date,
    provider: str,
    notes: str,
    people: list,
    certificate=None,
    user,
) -> TrainingSession:
    """One session attended by many, recorded once. `certificate` is (filename, bytes) or None."""
    session = TrainingSession(
        school_id=school.id,
        requirement_key=activity.key,
        requirement_id=activity.id,
        held_on=held_on,
        provider=provider,
        notes=notes,
        recorded_by_id=user.id,
    )
    if certificate is not None:
        checked = check_upload(
            certificate[0], certificate[1], current_app.config["TRACKER_MAX_FILE_MB"] * 1024 * 1024
        )
        session.certificate_stored = EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"]).save(
            school.id, checked
        )
        session.certificate_name, session.certificate_sha256 = checked.name, checked.sha256
        session.certificate_type = checked.content_type
    db.session.add(session)
    db.session.flush()
    for person in people:
        db.session.add(TrainingAttendance(school_id=school.id, session_id=session.id, person_id=person.id))
    db.session.flush()
    audit.record(
        "training.recorded",
        school=school,
        subject=session,
        after={
            "activity": activity.key,
            "held_on": held_on.isoformat(),
            "provider": provider,
            "people": [p.full_name for p in people],
            "certificate_sha256": session.certificate_sha256 or None,
        },
    )
    return session


def session_view(session) -> dict:
    """What the audit trail keeps of a session."""
    return {
        "activity": session.requirement_key,
        "held_on": session.held_on.isoformat(),
        "provider": session.provider,
        "notes": session.notes,
        "people": sorted(a.person.full_name for a in session.attendances),
        "certificate_sha256": session.certificate_sha256 or None,
    }


def _store():
    return EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"])


def update_session(
    school,
    session,
    *,
    activity: Requirement | None,
    held_on: date,
    provider: str,
    notes: str,
    people: list,
    certificate=None,
    user,
) -> str | None:
    """Change a recorded session (audited). `activity` None keeps the session's own. `certificate` (filename,
    bytes) replaces the stored one. Returns the stored name of a replaced certificate, for the caller to
    delete once the change is committed (see `delete_file`)."""
    before = session_view(session)
    if activity is not None:
        session.requirement_key, session.requirement_id = activity.key, activity.id
    session.held_on, session.provider, session.notes = held_on, provider, notes
    replaced = None
    if certificate is not None:
        limit = current_app.config["TRACKER_MAX_FILE_MB"] * 1024 * 1024
        checked = check_upload(certificate[0], certificate[1], limit)
        replaced = session.certificate_stored
        session.certificate_stored = _store().save(school.id, checked)
        session.certificate_name, session.certificate_sha256 = checked.name, checked.sha256
        session.certificate_type = checked.content_type
    wanted = {p.id: p for p in people}
    for attendance in list(session.attendances):
        if attendance.person_id not in wanted:
            session.attendances.remove(attendance)
    present = {a.person_id for a in session.attendances}
    for person in people:
        if person.id not in present:
            session.attendances.append(
                TrainingAttendance(school_id=school.id, person_id=person.id, person=person)
            )
    db.session.flush()
    changed_before, changed_after = audit.changes(before, session_view(session))
    if changed_after:
        audit.record(
            "training.changed",
            school=school,
            subject=session,
            before=changed_before,
            after=changed_after,
            actor=user,
        )
    return replaced


def delete_session(school, session, *, user) -> str | None:
    """Delete a recorded session and its attendance (audited). Returns the stored certificate name, for the
    caller to delete once the deletion is committed."""
    audit.record("training.deleted", school=school, subject=session, before=session_view(session), actor=user)
    stored = session.certificate_stored
    db.session.delete(session)
    db.session.flush()
    return stored


def delete_file(school, stored_name) -> None:
    """Remove a certificate file no committed row refers to any more."""
    if stored_name:
        _store().delete(school.id, stored_name)


def person_sessions(school, person) -> list:
    """The verified sessions a person attended, latest first."""
    return (
        db.session.execute(
            db.select(TrainingSession)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(
                TrainingAttendance.school_id == school.id,
                TrainingAttendance.person_id == person.id,
                TrainingSession.school_id == school.id,
                TrainingSession.verification == VERIFIED,
            )
            .order_by(TrainingSession.held_on.desc())
        )
        .scalars()
        .all()
    )


@person_page.connect
def person_training(person, *, school, own) -> dict:
    """A person's page shows their training record and the sessions they attended; a member's own page, the
    record only."""
    if own:
        return {"training": person_record(school, person)}
    return {"training": person_record(school, person), "sessions": person_sessions(school, person)}
