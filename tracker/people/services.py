"""People services: adding and changing people on the register (imports: bulk_import.py). Callers commit.

A person's checklist (checklist.py) and their checks and risk assessments (checks.py) are re-exported here.
"""

from .. import audit
from ..auth.models import User
from ..db import db
from ..tenancy import Membership
from ..tracking.models import IN_PROGRESS, NOT_STARTED, Item
from .checklist import (
    missing_item_values,
    missing_items,
    recruitment_framework,
    sync_checklist,
)
from .checks import CHECK_TO_STATUS, record_risk_assessment, sign_risk_assessment, update_check
from .due_dates import move_open_checks
from .errors import PeopleError
from .models import Person

__all__ = [
    "CHECK_TO_STATUS",
    "PeopleError",
    "add_person",
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
    move_open_checks(school, person, items, school.today())
