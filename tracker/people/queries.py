"""Read-side queries of the people pages: a person's checklist, the register entry of a signed-in member."""

from ..db import db
from ..tracking.models import Item
from .models import Person, RiskAssessment


def checklist(school, person):
    """(the person's recruitment checks by due date, {item id: its risk assessment})."""
    items = (
        db.session.execute(
            db.select(Item)
            .where(Item.school_id == school.id, Item.person_id == person.id)
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


def person_of(school, user_id):
    """The school's register entry linked to the user `user_id`, or None."""
    return db.session.execute(
        db.select(Person).where(Person.school_id == school.id, Person.user_id == user_id)
    ).scalar_one_or_none()
