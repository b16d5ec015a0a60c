"""Read-side queries of the people pages: a person's checklist, the register entry of a signed-in member."""

from dataclasses import dataclass

from ..db import db
from ..tracking.models import Item, ItemKind
from .due_dates import needed_before_day_one
from .models import Person, RiskAssessment


def checklist(school, person):
    """(the person's recruitment checks by due date, {item id: its risk assessment})."""
    items = (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.person_id == person.id, Item.kind == ItemKind.CHECK)
            .order_by(Item.due_on, Item.country)
        )
        .scalars()
        .all()
    )
    if not items:
        return items, {}
    risk = {
        r.item_id: r
        for r in db.session.execute(
            db.select(RiskAssessment).where(
                RiskAssessment.school_id == school.id, RiskAssessment.item_id.in_([i.id for i in items])
            )
        ).scalars()
    }
    return items, risk


def risk_of(school, item):
    """The check's risk assessment, or None."""
    return db.session.execute(
        db.select(RiskAssessment).where(
            RiskAssessment.school_id == school.id, RiskAssessment.item_id == item.id
        )
    ).scalar_one_or_none()


def person_of(school, user_id):
    """The school's register entry linked to the user `user_id`, or None."""
    return db.session.execute(
        db.select(Person).where(Person.school_id == school.id, Person.user_id == user_id)
    ).scalar_one_or_none()


@dataclass
class Summary:
    """The top of a person's checklist: how many checks are done, due, overdue, not required, and the next
    action (the earliest open check)."""

    done: int
    due: int
    overdue: int
    not_required: int
    before_day_one: int
    next_action: Item | None

    @property
    def total(self):
        return self.done + self.due + self.overdue + self.not_required

    @property
    def percent(self):
        needed = self.done + self.due + self.overdue
        return round(100 * self.done / needed) if needed else 100


def summary(person, items, risk, today) -> Summary:
    """Count `items` (a checklist) by state; a check covered by a signed risk assessment counts as done."""
    done = due = overdue = not_required = before = 0
    next_action = None
    for item in items:
        ra = risk.get(item.id)
        if item.check_status == "verified" or (ra is not None and ra.signed_at is not None):
            done += 1
        elif item.check_status == "not_required":
            not_required += 1
        else:
            if item.due_on < today:
                overdue += 1
            else:
                due += 1
            if needed_before_day_one(item, person, today):
                before += 1
            if next_action is None or item.due_on < next_action.due_on:
                next_action = item
    return Summary(done, due, overdue, not_required, before, next_action)
