"""Training services and coverage: who in each activity's audience is current, expiring, overdue or never
trained; recording, changing and deleting sessions. Date arithmetic goes through tracker/validation.py, so a session
stored with an impossible date (before the date policy) cannot break a page."""

from dataclasses import dataclass, field
from datetime import date

from flask import current_app

from .. import audit
from ..dates import add_days, add_months, add_years
from ..db import db
from ..evidence.checks import check_upload
from ..evidence.storage import EvidenceStore
from ..frameworks.models import AUDIENCE_LABELS, SCHOOL_YEAR, Requirement
from ..frameworks.services import latest_versions
from ..people.models import Person
from ..signals import person_page
from .models import TrainingAttendance, TrainingSession

EXPIRING_DAYS = 30


def expiry(completed_on: date, repeat: str) -> date | None:
    """When training done on `completed_on` stops counting, by the activity's repeat rule (None: never)."""
    if repeat == "yearly":
        return add_years(completed_on, 1)
    if repeat == "every_two_years":
        return add_years(completed_on, 2)
    if repeat == "termly":
        return add_months(completed_on, 4)
    return None  # at induction, once


def _new_staff(p, today):
    return p.category in ("teaching", "support") and p.start_on >= add_days(today, -365)


#: who on the register belongs to each training audience (parents and students are not on it)
AUDIENCE_RULES = {
    "all_staff": lambda p, today: p.category in ("teaching", "support"),
    "new_staff": _new_staff,
    "response_team": lambda p, today: "response_team" in (p.groups or []),
    "leadership": lambda p, today: "leadership" in (p.groups or []),
    "board": lambda p, today: p.category == "board",
    "support_staff": lambda p, today: p.category == "support",
    "volunteers": lambda p, today: p.category == "volunteer",
    "contractors": lambda p, today: p.category == "contractor",
}


def in_audience(person, audience, today) -> bool:
    return any(AUDIENCE_RULES[a](person, today) for a in audience if a in AUDIENCE_RULES)


def activities() -> list[Requirement]:
    """Training activities whose audience includes people on the register."""
    plan = next((f for f in latest_versions() if f.scope == SCHOOL_YEAR and f.key == "training-plan"), None)
    if plan is None:
        return []
    return [
        r for r in plan.requirements if r.answer_type == "training" and set(r.audience) & set(AUDIENCE_RULES)
    ]


@dataclass
class Coverage:
    activity: Requirement
    current: list = field(default_factory=list)
    expiring: list = field(default_factory=list)
    overdue: list = field(default_factory=list)
    never: list = field(default_factory=list)

    @property
    def audience_label(self):
        return ", ".join(AUDIENCE_LABELS[a] for a in self.activity.audience)

    @property
    def total(self):
        return len(self.current) + len(self.expiring) + len(self.overdue) + len(self.never)

    @property
    def percent_current(self):
        return round(100 * (len(self.current) + len(self.expiring)) / self.total) if self.total else 100


def latest_completions(school, person_ids=None) -> dict:
    """{(person_id, requirement_key): latest date attended}, in one query."""
    query = (
        db.select(
            TrainingAttendance.person_id,
            TrainingSession.requirement_key,
            db.func.max(TrainingSession.held_on),
        )
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(TrainingAttendance.school_id == school.id)
        .group_by(TrainingAttendance.person_id, TrainingSession.requirement_key)
    )
    if person_ids is not None:
        query = query.where(TrainingAttendance.person_id.in_(person_ids))
    return {(pid, key): held for pid, key, held in db.session.execute(query).all()}


def state(completed_on, repeat, today) -> tuple[str, date | None]:
    if completed_on is None:
        return "never", None
    expires = expiry(completed_on, repeat)
    if expires is None or expires > add_days(today, EXPIRING_DAYS):
        return "current", expires
    if expires >= today:
        return "expiring", expires
    return "overdue", expires


#: what coverage reads of each person: plain rows, not Person objects (a large school has hundreds)
COVERAGE_COLUMNS = (Person.id, Person.full_name, Person.category, Person.groups, Person.start_on)


def coverage(school, only=None) -> list[Coverage]:
    """Coverage of every activity (or of the `only` one) over the people who have not left, three queries in
    all. Each bucket lists (person row, expiry date): a row has the id, name, category, groups and start."""
    today = school.today()
    people = db.session.execute(
        db.select(*COVERAGE_COLUMNS)
        .where(Person.school_id == school.id, (Person.leave_on.is_(None)) | (Person.leave_on >= today))
        .order_by(Person.full_name, Person.id)
    ).all()
    done = latest_completions(school)
    audiences = {}  # many activities share an audience: work out who is in each one once
    out = []
    for activity in activities():
        if only is not None and activity.key != only:
            continue
        audience = tuple(activity.audience)
        if audience not in audiences:
            audiences[audience] = [p for p in people if in_audience(p, audience, today)]
        cov = Coverage(activity)
        buckets = {
            "current": cov.current,
            "expiring": cov.expiring,
            "overdue": cov.overdue,
            "never": cov.never,
        }
        for person in audiences[audience]:
            status, expires = state(done.get((person.id, activity.key)), activity.repeat, today)
            buckets[status].append((person, expires))
        out.append(cov)
    return out


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
    """The sessions a person attended, latest first."""
    return (
        db.session.execute(
            db.select(TrainingSession)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(
                TrainingAttendance.school_id == school.id,
                TrainingAttendance.person_id == person.id,
                TrainingSession.school_id == school.id,
            )
            .order_by(TrainingSession.held_on.desc())
        )
        .scalars()
        .all()
    )


def person_record(school, person) -> list[dict]:
    """Each activity the person's audience calls for, with their latest completion, expiry and state."""
    today = school.today()
    done = latest_completions(school, [person.id])
    rows = []
    for activity in activities():
        if not in_audience(person, activity.audience, today):
            continue
        completed = done.get((person.id, activity.key))
        status, expires = state(completed, activity.repeat, today)
        rows.append({"activity": activity, "completed_on": completed, "expires_on": expires, "state": status})
    return rows


@person_page.connect
def person_training(person, *, school, own) -> dict:
    """A person's page shows their training record and the sessions they attended; a member's own page, the
    record only."""
    if own:
        return {"training": person_record(school, person)}
    return {"training": person_record(school, person), "sessions": person_sessions(school, person)}
