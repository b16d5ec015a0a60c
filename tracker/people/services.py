"""People services: adding and changing people on the register, and importing them. Callers commit.

A person's checklist (checklist.py) and their checks and risk assessments (checks.py) are re-exported here.
"""

from dataclasses import dataclass
from datetime import timedelta

from .. import audit
from ..auth.models import User
from ..db import db, new_id
from ..tenancy import Membership
from ..tracking.models import IN_PROGRESS, NOT_STARTED, Item
from .checklist import missing_item_values, missing_items, recruitment_framework, sync_checklist
from .checks import CHECK_TO_STATUS, record_risk_assessment, sign_risk_assessment, update_check
from .errors import PeopleError
from .models import Person

__all__ = [
    "CHECK_TO_STATUS",
    "IMPORT_BATCH",
    "PROGRESS_EVERY",
    "ImportReport",
    "PeopleError",
    "add_person",
    "import_rows",
    "missing_item_values",
    "missing_items",
    "record_risk_assessment",
    "recruitment_framework",
    "sign_risk_assessment",
    "sync_checklist",
    "update_check",
    "update_person",
]


def _link_account(school, person):
    """Link the person to the school member with the same e-mail, so they can see their own record."""
    if not person.email:
        person.user_id = None
        return
    person.user_id = db.session.execute(
        db.select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, User.email == person.email)
    ).scalar_one_or_none()


def add_person(
    school,
    *,
    full_name,
    email,
    category,
    start_on,
    leave_on=None,
    countries=(),
    groups=(),
    framework=None,
    actor=None,
) -> Person:
    email = (email or "").strip().lower() or None
    if (
        email
        and db.session.execute(
            db.select(Person.id).where(Person.school_id == school.id, Person.email == email)
        ).first()
    ):
        raise PeopleError(f"{email} is already on the register.")
    person = Person(
        school_id=school.id,
        full_name=full_name,
        email=email,
        category=category,
        start_on=start_on,
        leave_on=leave_on,
        countries=list(countries),
        groups=list(groups),
    )
    _link_account(school, person)
    db.session.add(person)
    db.session.flush()
    added = sync_checklist(school, person, framework)
    audit.record(
        "person.added",
        school=school,
        subject=person,
        actor=actor,
        after={**person.audit_view(), "checks": added},
    )
    return person


def update_person(school, person, *, actor=None, **values) -> bool:
    """Change a person's record; the checklist follows new countries and a new start date. True if changed."""
    before = person.audit_view()
    email = (values.pop("email", person.email) or "").strip().lower() or None
    if (
        email != person.email
        and email
        and db.session.execute(
            db.select(Person.id).where(
                Person.school_id == school.id, Person.email == email, Person.id != person.id
            )
        ).first()
    ):
        raise PeopleError(f"{email} is already on the register.")
    person.email = email
    for key, value in values.items():
        setattr(person, key, list(value) if isinstance(value, (list, tuple)) else value)
    old, new = audit.changes(before, person.audit_view())
    if not new:
        return False
    _link_account(school, person)
    if "start_on" in new:
        _move_due_dates(school, person)
    sync_checklist(school, person)
    audit.record("person.changed", school=school, subject=person, before=old, after=new, actor=actor)
    return True


def _move_due_dates(school, person):
    items = db.session.execute(
        db.select(Item).where(
            Item.school_id == school.id,
            Item.person_id == person.id,
            Item.status.in_((NOT_STARTED, IN_PROGRESS)),
        )
    ).scalars()
    for item in items:
        if item.requirement is not None:
            item.due_on = person.start_on + timedelta(
                days=(item.requirement.timing or {}).get("days_from_start", 0)
            )


@dataclass
class ImportReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0


def import_rows(school, rows: list[dict], *, skipped=0, progress=None, actor=None) -> "ImportReport":
    """Add or update people from checked rows (matched by e-mail). Importing the same rows again changes
    nothing.

    `progress(done, total)` is called every PROGRESS_EVERY rows; `actor` is who confirmed the import
    (background jobs have no signed-in user). The caller commits once: an import is saved whole or not at
    all."""
    from datetime import date as _date

    report = ImportReport(skipped=skipped)
    framework = recruitment_framework()
    # held for the whole import, so that every person's checklist finds them in the session instead of
    # loading each requirement's section again (the session keeps only objects someone refers to)
    held = [(r, r.section) for r in framework.requirements] if framework is not None else []
    emails = [r["email"] for r in rows if r["email"]]
    existing = {}
    for start in range(0, len(emails), 500):
        existing.update(
            (p.email, p)
            for p in db.session.execute(
                db.select(Person).where(
                    Person.school_id == school.id, Person.email.in_(emails[start : start + 500])
                )
            ).scalars()
        )
    accounts = _member_accounts(school)
    added = []  # (person, checks) waiting for their audit event
    written = 0  # of `added`, those flushed
    pending_checks = []  # column values of the checklist items of the people added since the last flush
    for done, r in enumerate(rows, start=1):
        values = dict(
            full_name=r["full_name"],
            category=r["category"],
            start_on=_date.fromisoformat(r["start_on"]),
            leave_on=_date.fromisoformat(r["leave_on"]) if r["leave_on"] else None,
            countries=list(r["countries"]),
            groups=list(r["groups"]),
        )
        person = existing.get(r["email"]) if r["email"] else None
        if person is None:
            # a new person: built without a query or a flush of its own (the rows were checked for duplicate
            # e-mails, and the register was read above); written IMPORT_BATCH at a time
            person = Person(
                id=new_id(), school_id=school.id, email=r["email"], user_id=accounts.get(r["email"]), **values
            )
            checks = missing_item_values(school, person, framework) if framework is not None else []
            db.session.add(person)
            pending_checks.extend(checks)
            added.append((person, len(checks)))
            report.added += 1
        elif update_person(school, person, email=r["email"], actor=actor, **values):
            report.changed += 1
        else:
            report.unchanged += 1
        if len(added) - written >= IMPORT_BATCH or (done == len(rows) and pending_checks):
            db.session.flush()  # the people, before their checklists refer to them
            if pending_checks:  # one statement, not an object each
                db.session.execute(Item.__table__.insert(), pending_checks)
            written = len(added)
            pending_checks.clear()
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done, len(rows))
    del held
    # The audit events last: appending one locks the school's audit head until the import commits, and
    # every other change in the school waits for that lock; this keeps the wait to this loop.
    for person, checks in added:
        audit.record(
            "person.added",
            school=school,
            subject=person,
            actor=actor,
            after={**person.audit_view(), "checks": checks},
        )
    audit.record(
        "people.imported",
        school=school,
        subject_type="people",
        actor=actor,
        after={
            "added": report.added,
            "changed": report.changed,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
        },
    )
    return report


#: rows between two progress reports of an import, and new people written to the database at once
PROGRESS_EVERY = 100
IMPORT_BATCH = 250


def _member_accounts(school) -> dict:
    """{e-mail: user id} of the school's members (what _link_account looks up one person at a time)."""
    return dict(
        db.session.execute(
            db.select(User.email, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.school_id == school.id)
        ).all()
    )
