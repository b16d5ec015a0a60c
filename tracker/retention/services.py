"""Applying the retention rules: what is due (and what protects it), holds, and the removals themselves.

Each removal runs in one transaction: the rows change, the evidence files to delete are recorded in
`pending_file_deletions`, a tombstone and an audit event (kinds, counts and ids, never content) are written,
and only after the commit are the files deleted (`purge_files`). A crash between the two leaves committed
rows and recorded files; the next run deletes those files first. Removing a record twice does nothing.

Never removed: a record under a hold, a record with an accreditor query still open (open or answered) on one
of its items, and a signed report's frozen PDF (programme removal keeps the year and its frozen report).
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from .. import audit
from ..dates import add_whole_months
from ..db import db, utcnow
from ..evidence.models import Evidence
from ..evidence.services import store
from ..people import models as people_models
from ..people.models import Person
from ..policies.models import PolicyAcknowledgement
from ..reports.models import Report
from ..review.models import CLOSED, ReviewQuery
from ..tracking.models import Item, SchoolYear
from ..training.models import TrainingAttendance, TrainingSession
from ..transactions import DomainError
from .models import (
    CERTIFICATES_REMOVED,
    CHECK,
    ERASED,
    PERSON,
    PROGRAMME_REMOVED,
    PSEUDONYMISED,
    RECORD_TYPES,
    YEAR,
    PendingFileDeletion,
    RetentionHold,
    RetentionRule,
    Tombstone,
)
from .rules import KINDS, LEAVERS, POLICE_CERTIFICATES, PROGRAMME, limits, periods

UPCOMING_DAYS = 30
MAX_REASON = 500
#: requirement keys of the recruitment framework's police checks (seeds/frameworks/recruitment.yaml)
POLICE_CHECK_PREFIX = "police-check"


class RetentionError(DomainError):
    """A retention change the service refuses (shown to the user, 400)."""


@dataclass
class Due:
    """A record a rule removes on `due_on`, and what (if anything) protects it."""

    kind: str
    record_type: str
    record_id: uuid.UUID
    label: str
    due_on: date
    files: int = 0
    hold: RetentionHold | None = None
    open_query: bool = False
    protected_by: list[str] = field(default_factory=list)

    @property
    def protected(self) -> bool:
        return bool(self.protected_by)

    @property
    def kind_title(self) -> str:
        return KINDS[self.kind].title


def pseudonym(person_id) -> str:
    return f"Former staff member #{uuid.UUID(str(person_id)).hex[:8]}"


# --- rules -----------------------------------------------------------------------------------------------


def set_periods(school, values: dict, *, user) -> None:
    """Store the school's months for each kind; refused (nothing saved) when one is outside the limits."""
    before = periods(school)
    for key, months in values.items():
        if key not in KINDS:
            raise RetentionError("Unknown kind of record.")
        low, high = limits(key)
        if months is None or not (low <= months <= high):
            raise RetentionError(
                f"{KINDS[key].title}: choose between {low} and {high} months (this installation's limits).",
                field=key,
            )
    rows = {
        r.kind: r
        for r in db.session.execute(db.select(RetentionRule).where(RetentionRule.school_id == school.id))
        .scalars()
        .all()
    }
    for key, months in values.items():
        row = rows.get(key) or RetentionRule(school_id=school.id, kind=key, months=months)
        row.months, row.updated_by_id, row.updated_at = months, user.id, utcnow()
        db.session.add(row)
    db.session.flush()
    old, new = audit.changes(before, periods(school))
    if new:
        audit.record("retention.rules_changed", school=school, subject=school, before=old, after=new)


# --- holds -----------------------------------------------------------------------------------------------


def active_holds(school) -> list[RetentionHold]:
    return (
        db.session.execute(
            db.select(RetentionHold)
            .where(RetentionHold.school_id == school.id, RetentionHold.lifted_at.is_(None))
            .order_by(RetentionHold.placed_at)
        )
        .scalars()
        .all()
    )


def _record(school, record_type, record_id):
    model = {PERSON: Person, CHECK: Item, YEAR: SchoolYear}.get(record_type)
    if model is None:
        raise RetentionError("Choose what to hold: a person, a check or a school year.")
    row = db.session.execute(
        db.select(model).where(model.id == record_id, model.school_id == school.id)
    ).scalar_one_or_none()
    if row is None or (record_type == CHECK and row.person_id is None):
        raise RetentionError("That record is not in this school (it may have been removed already).")
    return row


def place_hold(school, *, record_type, record_id, reason, user) -> RetentionHold:
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError(
            "Give the reason for the hold (for example, the inquiry it is kept for).", "reason"
        )
    if len(reason) > MAX_REASON:
        raise RetentionError(f"Keep the reason under {MAX_REASON} characters.", "reason")
    _record(school, record_type, record_id)
    hold = RetentionHold(
        school_id=school.id, record_type=record_type, record_id=record_id, reason=reason, placed_by_id=user.id
    )
    db.session.add(hold)
    db.session.flush()
    audit.record("retention.hold_placed", school=school, subject=hold, after=hold.audit_view())
    return hold


def lift_hold(school, hold: RetentionHold, *, user) -> None:
    if hold.lifted_at is not None:
        raise RetentionError("This hold was already lifted.")
    hold.lifted_at, hold.lifted_by_id = utcnow(), user.id
    db.session.flush()
    audit.record("retention.hold_lifted", school=school, subject=hold, before=hold.audit_view())


def hold_labels(school, holds) -> dict:
    """{hold id: what the hold is on, as the pages name it}."""
    ids = {t: [h.record_id for h in holds if h.record_type == t] for t in RECORD_TYPES}
    names = {}
    if ids[PERSON]:
        names.update(
            db.session.execute(
                db.select(Person.id, Person.full_name).where(
                    Person.school_id == school.id, Person.id.in_(ids[PERSON])
                )
            ).all()
        )
    if ids[CHECK]:
        names.update(
            (i.id, f"{i.title} ({i.person.full_name})" if i.person else i.title)
            for i in db.session.execute(
                db.select(Item).where(Item.school_id == school.id, Item.id.in_(ids[CHECK]))
            ).scalars()
        )
    if ids[YEAR]:
        names.update(
            (y.id, f"School year {y.label}")
            for y in db.session.execute(
                db.select(SchoolYear).where(SchoolYear.school_id == school.id, SchoolYear.id.in_(ids[YEAR]))
            ).scalars()
        )
    return {h.id: names.get(h.record_id, "A record no longer on file") for h in holds}


# --- what is due -----------------------------------------------------------------------------------------


def _held_ids(school) -> dict:
    return {h.record_id: h for h in active_holds(school)}


def _queried(school):
    """(item ids, person ids, year ids) with an accreditor query not yet closed."""
    rows = db.session.execute(
        db.select(Item.id, Item.person_id, Item.year_id)
        .join(ReviewQuery, ReviewQuery.item_id == Item.id)
        .where(ReviewQuery.school_id == school.id, ReviewQuery.state != CLOSED)
    ).all()
    return {r[0] for r in rows}, {r[1] for r in rows if r[1]}, {r[2] for r in rows if r[2]}


def _removed(school, record_type, actions) -> set:
    return set(
        db.session.execute(
            db.select(Tombstone.record_id).where(
                Tombstone.school_id == school.id,
                Tombstone.record_type == record_type,
                Tombstone.action.in_(actions),
            )
        ).scalars()
    )


def _file_counts(school, item_filter) -> dict:
    rows = db.session.execute(
        db.select(Evidence.item_id, db.func.count())
        .join(Item, Item.id == Evidence.item_id)
        .where(Evidence.school_id == school.id, Evidence.stored_name.is_not(None), item_filter)
        .group_by(Evidence.item_id)
    ).all()
    return dict(rows)


def due(school, *, until: date) -> list[Due]:
    """Every record a rule removes on or before `until` (overdue ones included), protected ones marked."""
    months = periods(school)
    holds = _held_ids(school)
    q_items, q_people, q_years = _queried(school)
    out = []

    gone = _removed(school, PERSON, (PSEUDONYMISED, ERASED))
    for p in db.session.execute(
        db.select(Person).where(Person.school_id == school.id, Person.leave_on.is_not(None))
    ).scalars():
        when = add_whole_months(p.leave_on, months[LEAVERS])
        if p.id in gone or when > until:
            continue
        out.append(
            Due(LEAVERS, PERSON, p.id, p.full_name, when, hold=holds.get(p.id), open_query=p.id in q_people)
        )

    police = Item.requirement_key.like(f"{POLICE_CHECK_PREFIX}%")
    files = _file_counts(school, police & Item.verified_on.is_not(None))
    if files:
        for item in db.session.execute(
            db.select(Item).where(Item.school_id == school.id, Item.id.in_(list(files)))
        ).scalars():
            when = add_whole_months(item.verified_on, months[POLICE_CERTIFICATES])
            if when > until:
                continue
            label = f"{item.title} ({item.person.full_name})" if item.person else item.title
            out.append(
                Due(
                    POLICE_CERTIFICATES,
                    CHECK,
                    item.id,
                    label,
                    when,
                    files=files[item.id],
                    hold=holds.get(item.id) or holds.get(item.person_id),
                    open_query=item.id in q_items,
                )
            )

    done = _removed(school, YEAR, (PROGRAMME_REMOVED,))
    for year in db.session.execute(db.select(SchoolYear).where(SchoolYear.school_id == school.id)).scalars():
        when = add_whole_months(year.ends_on, months[PROGRAMME])
        if year.id in done or when > until:
            continue
        out.append(
            Due(
                PROGRAMME,
                YEAR,
                year.id,
                year.label,
                when,
                hold=holds.get(year.id),
                open_query=year.id in q_years,
            )
        )

    for d in out:
        if d.hold is not None:
            d.protected_by.append(f"On hold: {d.hold.reason}")
        if d.open_query:
            d.protected_by.append("An accreditor query about it is still open")
    return sorted(out, key=lambda d: (d.due_on, d.kind, d.label))


def upcoming(school, today: date) -> list[Due]:
    return due(school, until=today + timedelta(days=UPCOMING_DAYS))


# --- removals --------------------------------------------------------------------------------------------


def _protection(school, record_type, record_id, items_where) -> str | None:
    hold = db.session.execute(
        db.select(RetentionHold.reason).where(
            RetentionHold.school_id == school.id,
            RetentionHold.record_id.in_(record_id if isinstance(record_id, list) else [record_id]),
            RetentionHold.lifted_at.is_(None),
        )
    ).first()
    if hold is not None:
        return f"it is on hold ({hold[0]})"
    query = db.session.execute(
        db.select(ReviewQuery.id)
        .join(Item, Item.id == ReviewQuery.item_id)
        .where(ReviewQuery.school_id == school.id, ReviewQuery.state != CLOSED, items_where)
        .limit(1)
    ).first()
    if query is not None:
        return "an accreditor query about it is still open"
    return None


def _queue_files(school, evidence_rows) -> list[str]:
    """Record the files of `evidence_rows` for deletion after the commit; return the evidence ids."""
    for row in evidence_rows:
        if row.stored_name:
            db.session.add(PendingFileDeletion(school_id=school.id, stored_name=row.stored_name))
    return [str(row.id) for row in evidence_rows]


def _evidence_of(school, items_where) -> list[Evidence]:
    return (
        db.session.execute(
            db.select(Evidence)
            .join(Item, Item.id == Evidence.item_id)
            .where(Evidence.school_id == school.id, items_where)
        )
        .scalars()
        .all()
    )


def _lock_person(school, person_id) -> Person | None:
    return db.session.execute(
        db.select(Person)
        .where(Person.id == person_id, Person.school_id == school.id)
        .with_for_update(of=Person)
    ).scalar_one_or_none()


def _clear_person(school, person: Person) -> dict:
    """Pseudonymise the person and queue their evidence files; the checks' stages and dates stay."""
    of_person = Item.person_id == person.id
    evidence = _evidence_of(school, of_person)
    evidence_ids = _queue_files(school, evidence)
    for row in evidence:
        db.session.delete(row)
    # certificates a member sent for themselves: a session of theirs alone
    own_sessions = (
        db.session.execute(
            db.select(TrainingSession)
            .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
            .where(
                TrainingSession.school_id == school.id,
                TrainingAttendance.person_id == person.id,
                TrainingSession.certificate_stored.is_not(None),
            )
        )
        .scalars()
        .all()
    )
    certificates = []
    for s in own_sessions:
        if len(s.attendances) == 1:
            db.session.add(PendingFileDeletion(school_id=school.id, stored_name=s.certificate_stored))
            certificates.append(str(s.id))
            s.certificate_stored, s.certificate_name, s.certificate_sha256 = None, "", ""
    name = pseudonym(person.id)
    person.full_name, person.email, person.countries, person.user_id = name, None, [], None
    if hasattr(person, "leave_note"):  # the leaver form's words
        person.leave_note = ""
    records = getattr(people_models, "CheckRecord", None)  # a document's reference (a passport number ...)
    if records is not None:
        db.session.execute(
            db.update(records)
            .where(
                records.school_id == school.id,
                records.item_id.in_(db.select(Item.id).where(Item.school_id == school.id, of_person)),
            )
            .values(document_reference="")
            .execution_options(synchronize_session=False)
        )
    items = db.session.execute(db.select(Item).where(Item.school_id == school.id, of_person)).scalars().all()
    for item in items:
        if item.notes:
            item.notes = ""
    acks = db.session.execute(
        db.update(PolicyAcknowledgement)
        .where(PolicyAcknowledgement.school_id == school.id, PolicyAcknowledgement.person_id == person.id)
        .values(name=name)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return {
        "evidence": len(evidence),
        "evidence_ids": evidence_ids,
        "certificates": len(certificates),
        "certificate_session_ids": certificates,
        "acknowledgements_renamed": acks,
    }


def _tombstone(school, record_type, record_id, action, counts, *, reason="", user=None):
    db.session.add(
        Tombstone(
            school_id=school.id,
            record_type=record_type,
            record_id=record_id,
            action=action,
            reason=reason,
            by_id=user.id if user is not None else None,
            counts={k: v for k, v in counts.items() if not k.endswith("_ids")},
        )
    )


def pseudonymise_leaver(school, person_id, *, today) -> dict | None:
    """The leaver rule for one person; None when there is nothing to do (already done, protected, not due)."""
    person = _lock_person(school, person_id)
    if person is None or person.leave_on is None:
        return None
    if _removed(school, PERSON, (PSEUDONYMISED, ERASED)) & {person.id}:
        return None
    if add_whole_months(person.leave_on, periods(school)[LEAVERS]) > today:
        return None
    if _protection(school, PERSON, person.id, Item.person_id == person.id):
        return None
    counts = _clear_person(school, person)
    _tombstone(school, PERSON, person.id, PSEUDONYMISED, counts)
    audit.record(
        "retention.pseudonymised",
        school=school,
        subject_type="people",
        subject_id=str(person.id),
        after=counts,
    )
    return counts


def remove_certificates(school, item_id, *, today) -> dict | None:
    item = db.session.execute(
        db.select(Item).where(Item.id == item_id, Item.school_id == school.id).with_for_update(of=Item)
    ).scalar_one_or_none()
    if (
        item is None
        or item.verified_on is None
        or not (item.requirement_key or "").startswith(POLICE_CHECK_PREFIX)
    ):
        return None
    if add_whole_months(item.verified_on, periods(school)[POLICE_CERTIFICATES]) > today:
        return None
    if _protection(school, CHECK, [item.id, item.person_id], Item.id == item.id):
        return None
    files = [e for e in _evidence_of(school, Item.id == item.id) if e.stored_name]
    if not files:
        return None
    counts = {"evidence": len(files), "evidence_ids": _queue_files(school, files)}
    for row in files:
        db.session.delete(row)
    db.session.flush()
    audit.record(f"retention.{CERTIFICATES_REMOVED}", school=school, subject=item, after=counts)
    return counts


def remove_programme(school, year_id, *, today) -> dict | None:
    """A year's items, answers, comments and evidence; the year and its frozen report stay."""
    year = db.session.execute(
        db.select(SchoolYear)
        .where(SchoolYear.id == year_id, SchoolYear.school_id == school.id)
        .with_for_update(of=SchoolYear)
    ).scalar_one_or_none()
    if year is None or year.sign_off_state == "signing":
        return None
    if _removed(school, YEAR, (PROGRAMME_REMOVED,)) & {year.id}:
        return None
    if add_whole_months(year.ends_on, periods(school)[PROGRAMME]) > today:
        return None
    of_year = Item.year_id == year.id
    if _protection(school, YEAR, year.id, of_year):
        return None
    evidence = _evidence_of(school, of_year)
    counts = {"evidence": len(evidence), "evidence_ids": _queue_files(school, evidence)}
    # bulk deletes: the database cascades to answers, comments, evidence rows and closed queries
    counts["items"] = db.session.execute(
        db.delete(Item)
        .where(Item.school_id == school.id, of_year)
        .execution_options(synchronize_session=False)
    ).rowcount
    counts["draft_reports"] = db.session.execute(
        db.delete(Report)
        .where(Report.school_id == school.id, Report.year_id == year.id, Report.frozen.is_(False))
        .execution_options(synchronize_session=False)
    ).rowcount
    _tombstone(school, YEAR, year.id, PROGRAMME_REMOVED, counts)
    audit.record(f"retention.{PROGRAMME_REMOVED}", school=school, subject=year, after=counts)
    db.session.expire_all()
    return counts


REMOVERS = {
    LEAVERS: pseudonymise_leaver,
    POLICE_CERTIFICATES: remove_certificates,
    PROGRAMME: remove_programme,
}


def purge_files(school_id=None) -> int:
    """Delete the files that committed removals recorded, one commit each; return how many went."""
    query = db.select(PendingFileDeletion).order_by(PendingFileDeletion.created_at)
    if school_id is not None:
        query = query.where(PendingFileDeletion.school_id == school_id)
    count = 0
    for row in db.session.execute(query).scalars().all():
        store().delete(row.school_id, row.stored_name)
        db.session.delete(row)
        db.session.commit()
        count += 1
    return count


# --- erasure ---------------------------------------------------------------------------------------------


def erase_person(school, person: Person, *, reason, confirm_name, user, today) -> dict:
    """Erase a person who has left: their row, checks and evidence; an audited tombstone stays."""
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError(
            "Give the reason for the erasure (for example, the request it answers).", "reason"
        )
    if len(reason) > MAX_REASON:
        raise RetentionError(f"Keep the reason under {MAX_REASON} characters.", "reason")
    if (confirm_name or "").strip() != person.full_name.strip():
        raise RetentionError("Type the person's name exactly as shown to confirm.", "confirm_name")
    if not person.has_left(today):
        raise RetentionError(
            "Only a person who has left can be erased: their checks are part of the current register. "
            "Record their leaving date first."
        )
    why = _protection(school, PERSON, person.id, Item.person_id == person.id)
    if why:
        raise RetentionError(f"This person cannot be erased while {why}.")
    person_id = person.id
    counts = _clear_person(school, person)
    counts["checks"] = db.session.execute(
        db.delete(Item)
        .where(Item.school_id == school.id, Item.person_id == person_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    sessions = counts["certificate_session_ids"]
    if sessions:
        db.session.execute(
            db.delete(TrainingSession)
            .where(
                TrainingSession.school_id == school.id,
                TrainingSession.id.in_([uuid.UUID(s) for s in sessions]),
            )
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        db.update(PolicyAcknowledgement)
        .where(PolicyAcknowledgement.school_id == school.id, PolicyAcknowledgement.person_id == person_id)
        .values(person_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        db.delete(Person)
        .where(Person.school_id == school.id, Person.id == person_id)
        .execution_options(synchronize_session=False)
    )
    _tombstone(school, PERSON, person_id, ERASED, counts, reason=reason, user=user)
    audit.record(
        "person.erased",
        school=school,
        subject_type="people",
        subject_id=str(person_id),
        after={"reason": reason, **counts},
    )
    db.session.expire_all()
    return counts


def tombstones(school, limit=20) -> list[Tombstone]:
    return (
        db.session.execute(
            db.select(Tombstone)
            .where(Tombstone.school_id == school.id)
            .order_by(Tombstone.at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def record_types():
    return RECORD_TYPES
