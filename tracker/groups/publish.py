"""Group templates: the group lead publishes the group's own item into every school's current year (through
tracking's services, as the school's own item), and reads each school's status for it."""

from dataclasses import dataclass, field

from .. import audit
from ..db import db
from ..tenancy import School
from ..tracking.errors import TrackingError
from ..tracking.models import Item
from ..tracking.services import add_own_item
from ..tracking.years import current_year
from .models import GroupItem, GroupItemCopy


@dataclass
class Published:
    item: GroupItem
    added: list = field(default_factory=list)  # school names
    skipped: list = field(default_factory=list)  # (school name, reason)


def publish(group, *, title, section_title, due_on, owner_role) -> Published:
    """Add the item to every school of the group that has a current year holding `due_on`; a school without
    one is skipped and named with the reason. Flushes only: the caller's transaction saves all or nothing."""
    gi = GroupItem(
        group_id=group.id, title=title, section_title=section_title, due_on=due_on, owner_role=owner_role
    )
    db.session.add(gi)
    db.session.flush()
    out = Published(gi)
    schools = (
        db.session.execute(
            db.select(School).where(School.group_id == group.id).order_by(School.name, School.id)
        )
        .scalars()
        .all()
    )
    for school in schools:
        year = current_year(school)
        if year is None:
            out.skipped.append((school.name, "no school year yet"))
            continue
        try:
            item = add_own_item(school, year, title=title, due_on=due_on, owner_role=owner_role)
        except TrackingError as exc:
            out.skipped.append((school.name, str(exc)))
            continue
        item.section_title = section_title
        db.session.add(GroupItemCopy(group_item_id=gi.id, school_id=school.id, item_id=item.id))
        db.session.flush()
        audit.record(
            "group_item.added",
            school=school,
            subject=item,
            after={"group": group.name, **gi.audit_view()},
        )
        out.added.append(school.name)
    return out


def statuses(group):
    """(group items newest first, schools by name, {(group item id, school id): Item}): two queries."""
    items = (
        db.session.execute(
            db.select(GroupItem).where(GroupItem.group_id == group.id).order_by(GroupItem.created_at.desc())
        )
        .scalars()
        .all()
    )
    schools = (
        db.session.execute(
            db.select(School).where(School.group_id == group.id).order_by(School.name, School.id)
        )
        .scalars()
        .all()
    )
    copies = {
        (gid, sid): item
        for gid, sid, item in db.session.execute(
            db.select(GroupItemCopy.group_item_id, GroupItemCopy.school_id, Item)
            .join(Item, Item.id == GroupItemCopy.item_id)
            .where(GroupItemCopy.group_item_id.in_([i.id for i in items]))
        ).all()
    }
    return items, schools, copies
