"""Staff self-service: a member submits their own training certificate, HR or the lead verifies or rejects it;
and the "To verify" list (these certificates and the evidence staff added to their own items).

A submitted certificate is a training session of one attendee, pending until verified: coverage, the person's
record and the reports count only verified sessions (coverage.latest_completions). Verifying and rejecting go
through tracker/evidence/verification.py, audited. The `person_page` receiver shows a member their own
submissions and their outcome; the `waiting_for` receiver tells the lead and HR how many uploads wait.
"""

from datetime import date

from flask import current_app
from sqlalchemy.orm import selectinload

from .. import audit
from ..db import db
from ..evidence import verification
from ..evidence.checks import check_upload
from ..evidence.models import PENDING, VERIFIED, Evidence
from ..evidence.storage import EvidenceStore
from ..frameworks.models import Requirement
from ..people.models import Person
from ..signals import person_page, waiting_for
from ..tenancy import HEAD, HR, LEAD
from ..tracking.models import Item
from ..transactions import DomainError
from ..waiting import WaitingLine, per_batch, per_school, prepared, school_in
from .coverage import activities, in_audience
from .models import TrainingAttendance, TrainingSession

#: who verifies what: certificates HR and the lead; evidence on items the lead and head (they see every item)
CERTIFICATE_VERIFIERS = (LEAD, HR)
EVIDENCE_VERIFIERS = (LEAD, HEAD)
#: whose "Waiting for you" shows the uploads to verify
NOTIFIED = (LEAD, HR)


class SubmissionRefused(DomainError):
    """A member's own certificate cannot be accepted (no register entry, no file, an activity not theirs)."""


def activities_for(person, today) -> list[Requirement]:
    """The training activities whose audience includes `person`."""
    return [a for a in activities() if in_audience(person, a.audience, today)]


def submit_certificate(school, person, *, activity, held_on: date, provider: str, certificate, user):
    """Record `person`'s own certificate as a pending session of one. `certificate` is (filename, bytes)."""
    if person is None:
        raise SubmissionRefused(
            "You are not on the staff register yet, so there is no record to add a certificate to. "
            "Ask HR to add you with the e-mail address you sign in with."
        )
    if certificate is None:
        raise SubmissionRefused("Choose the certificate file to upload.", field="certificate")
    limit = current_app.config["TRACKER_MAX_FILE_MB"] * 1024 * 1024
    checked = check_upload(certificate[0], certificate[1], limit)  # UploadRejected: a DomainError
    session = TrainingSession(
        school_id=school.id,
        requirement_key=activity.key,
        requirement_id=activity.id,
        held_on=held_on,
        provider=provider,
        notes="",
        recorded_by_id=user.id,
        verification=PENDING,
    )
    session.certificate_stored = EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"]).save(
        school.id, checked
    )
    session.certificate_name, session.certificate_sha256 = checked.name, checked.sha256
    session.certificate_type = checked.content_type
    db.session.add(session)
    db.session.flush()
    db.session.add(TrainingAttendance(school_id=school.id, session_id=session.id, person_id=person.id))
    db.session.flush()
    audit.record(
        "training.submitted",
        school=school,
        subject=session,
        after={**_view(session, person), "verification": PENDING},
    )
    return session


def _view(session, person=None) -> dict:
    if person is None:
        person = session.attendances[0].person if session.attendances else None
    return {
        "activity": session.requirement_key,
        "held_on": session.held_on.isoformat(),
        "person": person.full_name if person else None,
        "certificate": session.certificate_name or None,
        "certificate_sha256": session.certificate_sha256 or None,
    }


def verify_certificate(school, session, *, user) -> None:
    verification.verify(
        school,
        session,
        subject=session,
        submitted_by_id=session.recorded_by_id,
        user=user,
        action="training.verified",
        view=_view(session),
    )


def reject_certificate(school, session, *, user, reason) -> None:
    verification.reject(
        school,
        session,
        subject=session,
        submitted_by_id=session.recorded_by_id,
        user=user,
        reason=reason,
        action="training.rejected",
        view=_view(session),
    )


# --- queries ------------------------------------------------------------------------------------------------


def pending_certificates(school) -> list[TrainingSession]:
    """Certificates waiting for verification, oldest first, with their attendee and requirement."""
    return (
        db.session.execute(
            db.select(TrainingSession)
            .where(TrainingSession.school_id == school.id, TrainingSession.verification == PENDING)
            .options(
                selectinload(TrainingSession.attendances).selectinload(TrainingAttendance.person),
                selectinload(TrainingSession.requirement),
                selectinload(TrainingSession.recorded_by),
            )
            .order_by(TrainingSession.created_at, TrainingSession.id)
        )
        .scalars()
        .all()
    )


def pending_evidence(school) -> list[tuple[Evidence, Item]]:
    """Evidence staff added to their own items, waiting for verification, oldest first, with its item."""
    return db.session.execute(
        db.select(Evidence, Item)
        .join(Item, Item.id == Evidence.item_id)
        .where(Evidence.school_id == school.id, Item.school_id == school.id, Evidence.verification == PENDING)
        .order_by(Evidence.uploaded_at, Evidence.id)
    ).all()


def pending_counts(school) -> dict:
    """{"certificates": n, "evidence": n}: how many uploads wait, two counts in one query."""
    certificates = (
        db.select(db.func.count())
        .select_from(TrainingSession)
        .where(TrainingSession.school_id == school.id, TrainingSession.verification == PENDING)
        .scalar_subquery()
    )
    evidence = (
        db.select(db.func.count())
        .select_from(Evidence)
        .where(Evidence.school_id == school.id, Evidence.verification == PENDING)
        .scalar_subquery()
    )
    row = db.session.execute(db.select(certificates, evidence)).one()
    return {"certificates": row[0], "evidence": row[1]}


def waiting_for_role(school, role) -> int:
    """How many uploads wait for a member of `role` (the certificates or evidence that role verifies)."""
    counts = per_school(school, "training.pending_counts", lambda: pending_counts(school))
    return (counts["certificates"] if role in CERTIFICATE_VERIFIERS else 0) + (
        counts["evidence"] if role in EVIDENCE_VERIFIERS else 0
    )


def my_submissions(school, person, limit=20) -> list[TrainingSession]:
    """The certificates `person` submitted themselves (or had verified or rejected), newest first."""
    return (
        db.session.execute(
            db.select(TrainingSession)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(
                TrainingSession.school_id == school.id,
                TrainingAttendance.person_id == person.id,
                (TrainingSession.verification != VERIFIED) | TrainingSession.reviewed_by_id.is_not(None),
            )
            .options(selectinload(TrainingSession.requirement))
            .order_by(TrainingSession.created_at.desc(), TrainingSession.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


# --- receivers ----------------------------------------------------------------------------------------------


@person_page.connect
def own_certificates(person: Person, *, school, own) -> dict:
    """A member's own page lists the certificates they submitted, each pending, verified or rejected."""
    if not own:
        return {}
    return {"my_certificates": my_submissions(school, person)}


def _relative_url(endpoint, **values) -> str:
    """A site-relative URL without needing a request (the digest builds its lines outside one)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def _pending_by_school(school_ids, today) -> dict:
    """{school id: {"certificates": n, "evidence": n}} of the schools with uploads waiting: one query for a
    batch of schools (the digest job, through `waiting.per_batch`), built once per process
    (`waiting.prepared`)."""
    out = {}
    for school_id, kind, count in prepared("training.pending", _pending_statement, school_ids, today):
        out.setdefault(school_id, {"certificates": 0, "evidence": 0})[kind] = count
    return out


def _pending_statement(shape, _today):
    certificates = (
        db.select(TrainingSession.school_id, db.literal_column("'certificates'"), db.func.count())
        .where(school_in(TrainingSession.school_id, shape), TrainingSession.verification == PENDING)
        .group_by(TrainingSession.school_id)
    )
    evidence = (
        db.select(Evidence.school_id, db.literal_column("'evidence'"), db.func.count())
        .where(school_in(Evidence.school_id, shape), Evidence.verification == PENDING)
        .group_by(Evidence.school_id)
    )
    return db.union_all(certificates, evidence)


@waiting_for.connect
def uploads_to_verify(school, *, member, today) -> list[WaitingLine]:
    """HR and the lead: "N uploads to verify" (certificates for both, item evidence for the lead)."""
    if member.role not in NOTIFIED:
        return []
    counts = per_batch(
        school, "training.pending_counts", today, _pending_by_school, {"certificates": 0, "evidence": 0}
    )
    count = (counts["certificates"] if member.role in CERTIFICATE_VERIFIERS else 0) + (
        counts["evidence"] if member.role in EVIDENCE_VERIFIERS else 0
    )
    if not count:
        return []
    return [
        WaitingLine(
            kind="uploads_to_verify",
            text=f"{count} upload{'' if count == 1 else 's'} to verify",
            url=_relative_url("training.to_verify", school=school.slug),
            count=count,
        )
    ]
