"""People services: the register, each person's checklist, checks and risk assessments. Callers commit."""
from dataclasses import dataclass
from datetime import timedelta

from .. import audit
from ..db import db, utcnow
from ..frameworks.models import PERSON, Framework
from ..frameworks.services import latest_versions
from ..tracking.models import DONE, IN_PROGRESS, NOT_APPLICABLE, NOT_STARTED, Item
from .models import CHECK_STATUSES, Person, RiskAssessment

#: how a check's stage shows in the item engine's status
CHECK_TO_STATUS = {"not_started": NOT_STARTED, "requested": IN_PROGRESS, "received": IN_PROGRESS,
                   "verified": DONE, "not_required": NOT_APPLICABLE}


class PeopleError(ValueError):
    """A change that cannot be made; the message is for the user."""


def recruitment_framework() -> Framework | None:
    return next((f for f in latest_versions() if f.scope == PERSON and f.key == "recruitment"), None) or \
        next((f for f in latest_versions() if f.scope == PERSON), None)


def _link_account(school, person):
    """Link the person to the school member with the same e-mail, so they can see their own record."""
    from ..auth.models import User
    from ..tenancy import Membership

    if not person.email:
        person.user_id = None
        return
    person.user_id = db.session.execute(
        db.select(User.id).join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == school.id, User.email == person.email)
    ).scalar_one_or_none()


def sync_checklist(school, person, framework=None) -> int:
    """Create the person's missing checklist items: one per check, one police check per country.

    Items of countries no longer listed are marked not required (never deleted: they may hold evidence).
    Returns the number of items added.
    """
    framework = framework or recruitment_framework()
    if framework is None:
        return 0
    existing = db.session.execute(db.select(Item).where(Item.school_id == school.id,
                                                        Item.person_id == person.id)).scalars().all()
    have = {(i.requirement_key, i.country) for i in existing}
    added = 0
    for requirement in framework.requirements:
        countries = list(person.countries or []) if requirement.per_country else [""]
        for country in countries:
            if (requirement.key, country) in have:
                continue
            due = person.start_on + timedelta(days=(requirement.timing or {}).get("days_from_start", 0))
            db.session.add(Item(
                school_id=school.id, person_id=person.id, framework_id=framework.id, requirement_id=requirement.id,
                requirement_key=requirement.key, kind="check", section_title=requirement.section.title,
                title=f"{requirement.title}: {country}" if country else requirement.title, country=country,
                owner_role=requirement.owner_role, due_on=due, check_status="not_started"))
            added += 1
    for item in existing:
        if item.country and item.country not in (person.countries or []) and item.check_status == "not_started":
            item.check_status, item.status = "not_required", NOT_APPLICABLE
            item.na_reason = f"{item.country} is no longer among the countries on the person's record."
    db.session.flush()
    return added


def add_person(school, *, full_name, email, category, start_on, leave_on=None, countries=(), groups=()) -> Person:
    email = (email or "").strip().lower() or None
    if email and db.session.execute(db.select(Person.id).where(Person.school_id == school.id,
                                                               Person.email == email)).first():
        raise PeopleError(f"{email} is already on the register.")
    person = Person(school_id=school.id, full_name=full_name, email=email, category=category, start_on=start_on,
                    leave_on=leave_on, countries=list(countries), groups=list(groups))
    _link_account(school, person)
    db.session.add(person)
    db.session.flush()
    added = sync_checklist(school, person)
    audit.record("person.added", school=school, subject=person, after={**person.audit_view(), "checks": added})
    return person


def update_person(school, person, **values) -> bool:
    """Change a person's record; the checklist follows new countries and a new start date. True if changed."""
    before = person.audit_view()
    email = (values.pop("email", person.email) or "").strip().lower() or None
    if email != person.email and email and db.session.execute(
            db.select(Person.id).where(Person.school_id == school.id, Person.email == email,
                                       Person.id != person.id)).first():
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
    audit.record("person.changed", school=school, subject=person, before=old, after=new)
    return True


def _move_due_dates(school, person):
    items = db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.person_id == person.id,
                                                     Item.status.in_((NOT_STARTED, IN_PROGRESS)))).scalars()
    for item in items:
        if item.requirement is not None:
            item.due_on = person.start_on + timedelta(days=(item.requirement.timing or {}).get("days_from_start", 0))


def update_check(school, item: Item, *, version, check_status, verified_on=None, expires_on=None, notes=None,
                 na_reason="", user) -> None:
    """Record a check's stage. Verified needs a date and records who verified it."""
    from ..tracking.services import EditConflict

    if version is None or int(version) != item.version:
        raise EditConflict(item, {"check_status": check_status, "notes": notes})
    if check_status not in CHECK_STATUSES:
        raise PeopleError("Choose a stage from the list.")
    if check_status == "not_required" and not (na_reason or "").strip():
        raise PeopleError("Say why this check is not required for this person.")
    before = item.audit_view()
    item.check_status = check_status
    item.status = CHECK_TO_STATUS[check_status]
    item.na_reason = na_reason.strip() if check_status == "not_required" else ""
    if check_status == "verified":
        item.verified_on = verified_on or school.today()
        item.verified_by_id = user.id
        item.completed_on = item.verified_on
    else:
        item.verified_on = item.verified_by_id = item.completed_on = None
    item.expires_on = expires_on
    if notes is not None:
        item.notes = notes
    old, new = audit.changes(before, item.audit_view())
    if new:
        db.session.flush()
        audit.record("check.changed", school=school, subject=item, before=old, after=new)


def record_risk_assessment(school, item: Item, *, summary, user) -> RiskAssessment:
    if item.check_status == "verified":
        raise PeopleError("This check is verified: no risk assessment is needed.")
    row = db.session.execute(db.select(RiskAssessment).where(RiskAssessment.school_id == school.id,
                                                             RiskAssessment.item_id == item.id)).scalar_one_or_none()
    if row is not None and row.signed_at is not None:
        raise PeopleError("The head has already signed this risk assessment; it can no longer be changed.")
    if row is None:
        row = RiskAssessment(school_id=school.id, item_id=item.id, summary=summary, written_by_id=user.id)
        db.session.add(row)
    else:
        row.summary, row.written_by_id, row.written_at = summary, user.id, utcnow()
    db.session.flush()
    audit.record("check.risk_assessed", school=school, subject=item, after={"summary": summary[:1000]})
    return row


def sign_risk_assessment(school, item: Item, *, user) -> None:
    row = db.session.execute(db.select(RiskAssessment).where(RiskAssessment.school_id == school.id,
                                                             RiskAssessment.item_id == item.id)).scalar_one_or_none()
    if row is None:
        raise PeopleError("There is no risk assessment to sign.")
    if row.signed_at is not None:
        raise PeopleError("Already signed.")
    row.signed_by_id, row.signed_at = user.id, utcnow()
    db.session.flush()
    audit.record("check.risk_assessment_signed", school=school, subject=item, after={"signed_by": user.email})


@dataclass
class ImportReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0


def import_rows(school, rows: list[dict], *, skipped=0) -> "ImportReport":
    """Add or update people from checked rows (matched by e-mail). Importing the same rows again changes nothing."""
    from datetime import date as _date

    report = ImportReport(skipped=skipped)
    emails = [r["email"] for r in rows if r["email"]]
    existing = {p.email: p for p in db.session.execute(
        db.select(Person).where(Person.school_id == school.id, Person.email.in_(emails))).scalars()} if emails else {}
    for r in rows:
        values = dict(full_name=r["full_name"], category=r["category"],
                      start_on=_date.fromisoformat(r["start_on"]),
                      leave_on=_date.fromisoformat(r["leave_on"]) if r["leave_on"] else None,
                      countries=r["countries"], groups=r["groups"])
        person = existing.get(r["email"]) if r["email"] else None
        if person is None:
            add_person(school, email=r["email"], **values)
            report.added += 1
        elif update_person(school, person, email=r["email"], **values):
            report.changed += 1
        else:
            report.unchanged += 1
    audit.record("people.imported", school=school, subject_type="people",
                 after={"added": report.added, "changed": report.changed, "unchanged": report.unchanged,
                        "skipped": report.skipped})
    return report
