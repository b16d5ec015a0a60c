"""Read-side queries of the first-year setup: the years step 1 offers, the items already due, role counts."""

from dataclasses import dataclass
from datetime import date

from ..db import db
from ..frameworks.models import Framework
from ..tenancy import Membership
from . import schedule
from .models import OPEN_STATUSES, Item, SchoolYear

#: how many years step 1 offers
OFFERED = 2


@dataclass(frozen=True)
class YearChoice:
    start_year: int
    label: str
    starts_on: date
    ends_on: date
    current: bool  # contains today


def _containing_today(school) -> int:
    today = school.today()
    return today.year if today.month >= school.year_start_month else today.year - 1


def offered_years(school) -> list[YearChoice]:
    """The years step 1 offers, the default first: the year containing today if the school does not have it,
    then the next later years it does not have. A year the school has is never offered."""
    have = set(
        db.session.execute(db.select(SchoolYear.starts_on).where(SchoolYear.school_id == school.id)).scalars()
    )
    first = _containing_today(school)
    choices = []
    for start in range(first, first + 10):
        starts_on = schedule.year_start(start, school.year_start_month)
        if starts_on in have:
            continue
        choices.append(
            YearChoice(
                start, schedule.year_label(starts_on), starts_on, schedule.year_end(starts_on), start == first
            )
        )
        if len(choices) == OFFERED:
            break
    return choices


def past_items(school, year) -> list[Item]:
    """The year's open items that were due before today by the framework's plan (moved to catch up or not),
    by framework, section and planned date."""
    today = school.today()
    planned = db.func.coalesce(Item.planned_due_on, Item.due_on)
    return (
        db.session.execute(
            db.select(Item)
            .outerjoin(Framework, Framework.id == Item.framework_id)
            .where(
                Item.school_id == school.id,
                Item.year_id == year.id,
                Item.person_id.is_(None),
                Item.status.in_(OPEN_STATUSES),
                planned < today,
            )
            .order_by(Framework.title, Item.section_title, planned, Item.title, Item.id)
        )
        .scalars()
        .all()
    )


def role_counts(school, year) -> dict:
    """{owner role: (items of the year, of which without an owner)}."""
    rows = db.session.execute(
        db.select(Item.owner_role, db.func.count(), db.func.count(Item.owner_id))
        .where(Item.school_id == school.id, Item.year_id == year.id, Item.person_id.is_(None))
        .group_by(Item.owner_role)
    ).all()
    return {role: (total, total - owned) for role, total, owned in rows}


def members_by_role(school) -> dict:
    """{membership role: [user ids of current members]}: the holders step suggests the only one of a role."""
    found = {}
    for m in db.session.execute(db.select(Membership).where(Membership.school_id == school.id)).scalars():
        if m.is_current():
            found.setdefault(m.role, []).append(m.user_id)
    return found
