"""A person's checklist: the recruitment framework, and the check items each person on the register needs."""

from ..db import db
from ..frameworks.models import PERSON, Framework
from ..frameworks.services import latest_versions
from ..tracking.holders import owner_ids
from ..tracking.models import NOT_APPLICABLE, Item, ItemKind
from ..tracking.state import set_status
from .countries import canonical
from .due_dates import due_for, offset_of
from .models import CATEGORY_LABELS


def recruitment_framework() -> Framework | None:
    return next((f for f in latest_versions() if f.scope == PERSON and f.key == "recruitment"), None) or next(
        (f for f in latest_versions() if f.scope == PERSON), None
    )


#: requirements that apply only to some categories of people (every other requirement applies to the
#: categories of CATEGORY_CHECKS, or to everyone when the category is not listed there)
ONLY_FOR = {
    "agency-written-confirmation": {"agency"},
    "volunteer-supervision-agreed": {"volunteer"},
}
#: categories with their own, shorter list: agency staff are checked by their agency (the school keeps the
#: agency's written confirmation and checks identity itself); volunteers have their own checks
CATEGORY_CHECKS = {
    "agency": {
        "agency-written-confirmation",
        "identity-verified",
        "code-of-conduct-signed",
        "induction-training",
    },
    "volunteer": {
        "volunteer-supervision-agreed",
        "self-disclosure",
        "all-names-recorded",
        "reference-current-employer",
        "referee-asked-about-children",
        "identity-verified",
        "police-check-host-country",
        "police-check-country",
        "unobtainable-check-risk-assessment",
        "pending-check-declaration",
        "code-of-conduct-signed",
        "induction-training",
    },
}
HOST_POLICE_CHECK = "police-check-host-country"
COUNTRY_POLICE_CHECK = "police-check-country"


def applies_to(requirement_key: str, category: str) -> bool:
    """Whether a person of `category` needs the check `requirement_key`."""
    if requirement_key in ONLY_FOR and category not in ONLY_FOR[requirement_key]:
        return False
    wanted = CATEGORY_CHECKS.get(category)
    return wanted is None or requirement_key in wanted


def host_country(school) -> str | None:
    """The school's country in its canonical spelling (its police check is the host-country check)."""
    return canonical(school.country or "")


def sync_checklist(school, person, framework=None) -> int:
    """Create the person's missing checklist items: one per check, one police check per country other than
    the host country (which has its own check).

    Items no longer needed (a country no longer listed, the host country, a check of another category) are
    marked not required while not started (never deleted: they may hold evidence). A person who has left gets
    no new checks. Returns the number of items added.
    """
    framework = framework or recruitment_framework()
    if framework is None:
        return 0
    existing = (
        db.session.execute(
            db.select(Item).where(
                Item.school_id == school.id, Item.person_id == person.id, Item.kind == ItemKind.CHECK
            )
        )
        .scalars()
        .all()
    )
    items = (
        []
        if person.leave_reason
        else missing_items(school, person, framework, {(i.requirement_key, i.country) for i in existing})
    )
    db.session.add_all(items)
    added = len(items)
    host = host_country(school)
    for item in existing:
        if item.check_status != "not_started":
            continue
        reason = None
        if item.country and item.country not in (person.countries or []):
            reason = f"{item.country} is no longer among the countries on the person's record."
        elif item.country and item.country == host and item.requirement_key == COUNTRY_POLICE_CHECK:
            reason = f"{host} is the host country: its police check is the host-country check."
        elif item.requirement_key and not applies_to(item.requirement_key, person.category):
            reason = f"Not a check for {CATEGORY_LABELS.get(person.category, person.category)}."
        if reason:
            item.check_status = "not_required"
            set_status(item, NOT_APPLICABLE, reason=reason)
    db.session.flush()
    return added


def missing_items(school, person, framework, have=frozenset(), *, context=None) -> list[Item]:
    """The checklist items `person` lacks (not added to the session): one per check, one police check per
    country; `have` holds the (requirement key, country) pairs they already have."""
    return [
        Item(**values) for values in missing_item_values(school, person, framework, have, context=context)
    ]


def plan_context(school) -> dict:
    """What every person's checklist reads once per school: today, the role holders, the host country
    (pass it to missing_item_values when making many checklists at once)."""
    return {"today": school.today(), "owners": owner_ids(school), "host": host_country(school)}


def missing_item_values(school, person, framework, have=frozenset(), *, context=None) -> list[dict]:
    """missing_items() as column values, for inserting many at once (imports). Each check is due on the
    person's start date plus its offset (due_dates.py: a date already past is due today, a late hire), and
    owned by the holder of its role (HR's checks by the school's HR role holder)."""
    context = context or plan_context(school)
    today, owners, host = context["today"], context["owners"], context["host"]
    items = []
    for requirement in framework.requirements:
        if not applies_to(requirement.key, person.category):
            continue
        if requirement.per_country:
            countries = [c for c in (person.countries or []) if c != host]
        else:
            countries = [""]
        due = due_for(person.start_on, offset_of(requirement), today)
        for country in countries:
            if (requirement.key, country) in have:
                continue
            items.append(
                dict(
                    school_id=school.id,
                    person_id=person.id,
                    framework_id=framework.id,
                    requirement_id=requirement.id,
                    requirement_key=requirement.key,
                    kind=ItemKind.CHECK,
                    section_title=requirement.section.title,
                    title=f"{requirement.title}: {country}" if country else requirement.title,
                    country=country,
                    owner_role=requirement.owner_role,
                    owner_id=owners.get(requirement.owner_role),
                    due_on=due.on,
                    planned_due_on=due.planned,
                    check_status="not_started",
                )
            )
    return items
