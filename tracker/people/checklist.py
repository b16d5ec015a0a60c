"""A person's checklist: the recruitment framework, and the check items each person on the register needs."""

from datetime import timedelta

from ..db import db
from ..frameworks.models import PERSON, Framework
from ..frameworks.services import latest_versions
from ..tracking.models import NOT_APPLICABLE, Item, ItemKind
from ..tracking.state import set_status


def recruitment_framework() -> Framework | None:
    return next((f for f in latest_versions() if f.scope == PERSON and f.key == "recruitment"), None) or next(
        (f for f in latest_versions() if f.scope == PERSON), None
    )


def sync_checklist(school, person, framework=None) -> int:
    """Create the person's missing checklist items: one per check, one police check per country.

    Items of countries no longer listed are marked not required (never deleted: they may hold evidence).
    Returns the number of items added.
    """
    framework = framework or recruitment_framework()
    if framework is None:
        return 0
    existing = (
        db.session.execute(db.select(Item).where(Item.school_id == school.id, Item.person_id == person.id))
        .scalars()
        .all()
    )
    items = missing_items(school, person, framework, {(i.requirement_key, i.country) for i in existing})
    db.session.add_all(items)
    added = len(items)
    for item in existing:
        if (
            item.country
            and item.country not in (person.countries or [])
            and item.check_status == "not_started"
        ):
            item.check_status = "not_required"
            set_status(
                item,
                NOT_APPLICABLE,
                reason=f"{item.country} is no longer among the countries on the person's record.",
            )
    db.session.flush()
    return added


def missing_items(school, person, framework, have=frozenset()) -> list[Item]:
    """The checklist items `person` lacks (not added to the session): one per check, one police check per
    country; `have` holds the (requirement key, country) pairs they already have."""
    return [Item(**values) for values in missing_item_values(school, person, framework, have)]


def missing_item_values(school, person, framework, have=frozenset()) -> list[dict]:
    """missing_items() as column values, for inserting many at once (imports)."""
    items = []
    for requirement in framework.requirements:
        countries = list(person.countries or []) if requirement.per_country else [""]
        for country in countries:
            if (requirement.key, country) in have:
                continue
            due = person.start_on + timedelta(days=(requirement.timing or {}).get("days_from_start", 0))
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
                    due_on=due,
                    check_status="not_started",
                )
            )
    return items
