"""When each recruitment check is due: the person's start date plus the check's offset (the requirement's
`timing.days_from_start`; negative = before they start, positive = after arrival).

A late hire (a start date close or already past) gets a realistic plan rather than checks overdue on day one:
a check whose planned date is already past when it is made is due today instead, its planned date kept in
`planned_due_on` (the page shows it as "late hire"). A check due before the start date is "needed before day
one" while the person has not started yet.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from ..tracking.models import ItemKind

#: the offset of checks whose requirement carries no timing (or is gone): due on the start date
DEFAULT_OFFSET = 0


def offset_of(requirement) -> int:
    """Days from the start date the requirement's check is due (negative = before the start)."""
    if requirement is None:
        return DEFAULT_OFFSET
    return int((requirement.timing or {}).get("days_from_start", DEFAULT_OFFSET))


@dataclass(frozen=True)
class Due:
    #: the date the check is due
    on: date
    #: the date the person's start date and the offset give, when it was moved to today (late hire); else None
    planned: date | None


def due_for(start_on: date, offset: int, today: date) -> Due:
    """The due date of a check with `offset` for a person starting on `start_on`, made or moved `today`."""
    planned = start_on + timedelta(days=offset)
    if planned < today:
        return Due(on=today, planned=planned)
    return Due(on=planned, planned=None)


def before_start(item, person) -> bool:
    """True when the check must be done before the person starts (due, or planned, before the start)."""
    return (item.planned_due_on or item.due_on) < person.start_on


def needed_before_day_one(item, person, today: date) -> bool:
    """An open check the person needs before their first day, which has not come yet."""
    return item.is_open and before_start(item, person) and person.start_on >= today


def move_open_checks(school, person, items, today: date) -> int:
    """Recompute the due dates of the person's open checks after their start date changed. Returns how many
    moved."""
    moved = 0
    for item in items:
        if not item.is_open or item.kind != ItemKind.CHECK:
            continue
        due = due_for(person.start_on, offset_of(item.requirement), today)
        if (item.due_on, item.planned_due_on) != (due.on, due.planned):
            item.due_on, item.planned_due_on = due.on, due.planned
            moved += 1
    return moved
