"""Which items a member may see: the visibility rules (as SQL criteria and for one loaded item)."""

from types import SimpleNamespace

from sqlalchemy import bindparam, or_

from ..db import db
from ..tenancy import HR, SEES_EVERY_ITEM
from .models import OPEN_STATUSES, Item

SEES_EVERYTHING = SEES_EVERY_ITEM


def visible_criteria(school, membership) -> list:
    """WHERE clauses for the items this member may see: everything for leads, heads and accreditors; their own
    for others. HR also keeps every recruitment check and the HR items nobody is assigned yet (reminders about
    those go to HR, so HR must be able to open them). may_see() is the same rule for one item."""
    criteria = [Item.school_id == school.id]
    if membership.role == HR:
        criteria.append(
            or_(
                Item.owner_id == membership.user_id,
                Item.person_id.is_not(None),
                (Item.owner_id.is_(None)) & (Item.owner_role == HR),
            )
        )
    elif membership.role not in SEES_EVERYTHING:
        criteria.append(Item.owner_id == membership.user_id)
    return criteria


def may_see(membership, item) -> bool:
    """visible_criteria for one item already loaded."""
    if membership.role in SEES_EVERYTHING or item.owner_id == membership.user_id:
        return True
    return membership.role == HR and (
        item.person_id is not None or (item.owner_id is None and item.owner_role == HR)
    )


def sees_unassigned(role) -> bool:
    """Whether holders of `role` can open an unassigned item meant for their role (so may be reminded of
    it)."""
    return role in SEES_EVERYTHING or role == HR


def visible_items(school, membership):
    """Items this member may see, as a select of Item (see visible_criteria)."""
    return db.select(Item).where(*visible_criteria(school, membership))


def _open(query):
    return query.where(Item.status.in_(OPEN_STATUSES))


#: statements built once per process: {(name, role): select with bind parameters}, see `per_role`
_per_role: dict = {}


def per_role(name, role, build):
    """The statement `build(school, member)` made once per process for `name` and a member's `role`, the
    school's id and the member's user id left as the bind parameters `school_id` and `member_id` (the caller
    gives them, with whatever other parameters its statement has). A select built afresh on every request
    cost more CPU than running it: building the dashboard's short lists and working out their cache key was
    3 of their 4 ms of CPU (500-staff school, SQLite). The visibility rule stays this module's: it is asked
    with stand-ins whose id and user id are parameters, once per role (the only other thing it reads)."""
    key = (name, role)
    statement = _per_role.get(key)
    if statement is None:
        school = SimpleNamespace(id=bindparam("school_id"))
        member = SimpleNamespace(role=role, user_id=bindparam("member_id"))
        statement = _per_role[key] = build(school, member)
    return statement
