"""Role holders: who in a school holds each template role (the `owner_role` of framework requirements: the
safeguarding lead's items, the head's, HR's), so that new items get an owner from their role.

Starting a year, rolling over, a framework upgrade adding items and the first-year setup all read
`owner_ids()`; a lead changes the holders in the setup or on the role holders page (`set_holders`), optionally
handing the open items of that role that have no owner (or the previous holder's) to the new holder.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import audit
from ..db import SchoolScoped, UTCDateTime, db, utcnow
from ..tenancy import ACCREDITOR, Membership
from .errors import TrackingError
from .models import OPEN_STATUSES, Item, SchoolYear

#: the template roles a school names a holder for, in the order the pages show them
HOLDER_ROLES = ("lead", "head", "hr")
HOLDER_LABELS = {
    "lead": "Safeguarding lead",
    "head": "Head of school",
    "hr": "HR / recruitment",
}


class RoleHolder(SchoolScoped, db.Model):
    """The member who holds a template role in a school; at most one per role."""

    __tablename__ = "role_holders"

    #: one of HOLDER_ROLES (the owner_role of framework requirements)
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User", lazy="joined")

    __table_args__ = (UniqueConstraint("school_id", "role"),)


def holders(school) -> dict:
    """{role: RoleHolder} as stored (including holders who have since left the school)."""
    rows = db.session.execute(db.select(RoleHolder).where(RoleHolder.school_id == school.id)).scalars()
    return {row.role: row for row in rows}


def owner_ids(school) -> dict:
    """{role: user id} of the holders who are still current members able to own items: the owners new items
    of each role get. A holder who has left the school (or became an accreditor) gives no owner."""
    rows = db.session.execute(
        db.select(RoleHolder.role, RoleHolder.user_id, Membership)
        .join(
            Membership,
            (Membership.user_id == RoleHolder.user_id) & (Membership.school_id == RoleHolder.school_id),
        )
        .where(RoleHolder.school_id == school.id, Membership.role != ACCREDITOR)
    ).all()
    return {row.role: row.user_id for row in rows if row.Membership.is_current()}


def open_unowned_counts(school) -> dict:
    """{role: number of open items of that role with no owner} in the school's years not signed off."""
    rows = db.session.execute(
        db.select(Item.owner_role, db.func.count())
        .where(*_reassignable(school), Item.owner_id.is_(None))
        .group_by(Item.owner_role)
    ).all()
    return {role: count for role, count in rows}


def _reassignable(school):
    """Criteria of the items a new holder may take over: open items of the school's years that are not
    signed off (recruitment checks, which belong to a person, are not a role holder's)."""
    open_years = db.select(SchoolYear.id).where(
        SchoolYear.school_id == school.id, SchoolYear.signed_off_at.is_(None)
    )
    return (
        Item.school_id == school.id,
        Item.year_id.in_(open_years),
        Item.person_id.is_(None),
        Item.status.in_(OPEN_STATUSES),
    )


def set_holders(school, chosen: dict, *, reassign=frozenset()) -> dict:
    """Store who holds each role: `chosen` is {role: User or None} for the roles to set (a role left out is
    unchanged). For each role in `reassign` that gets a holder, the open items of that role with no owner, or
    owned by the previous holder, go to the new holder (each audited as an owner change). Returns {role:
    number of items reassigned}. Holders must be current members who may own items."""
    current = holders(school)
    members = {
        m.user_id: m
        for m in db.session.execute(db.select(Membership).where(Membership.school_id == school.id)).scalars()
    }
    moved = {}
    for role, user in chosen.items():
        if role not in HOLDER_ROLES:
            raise TrackingError(f"Unknown role {role!r}.")
        if user is not None:
            member = members.get(user.id)
            if member is None or member.role == ACCREDITOR or not member.is_current():
                raise TrackingError(
                    f"{HOLDER_LABELS[role]}: choose a current member of the school (not an accreditor).",
                    field=f"holder_{role}",
                )
        row = current.get(role)
        previous_id = row.user_id if row is not None else None
        previous_email = row.user.email if row is not None and row.user is not None else None
        new_id = user.id if user is not None else None
        if previous_id != new_id:
            if row is not None and user is None:
                db.session.delete(row)
            elif row is None:
                db.session.add(RoleHolder(school_id=school.id, role=role, user_id=user.id, user=user))
            else:
                row.user_id, row.user = user.id, user
            db.session.flush()
            audit.record(
                "school.role_holder_changed",
                school=school,
                subject=school,
                before={"role": role, "holder": previous_email},
                after={"role": role, "holder": user.email if user else None},
            )
        if user is not None and role in reassign:
            moved[role] = _give_items(school, role, user, previous_id if previous_id != new_id else None)
    return moved


def _give_items(school, role, user, previous_id) -> int:
    """Hand the open items of `role` with no owner (or owned by `previous_id`) to `user`; audited per item."""
    owners = Item.owner_id.is_(None)
    if previous_id is not None:
        owners = owners | (Item.owner_id == previous_id)
    items = (
        db.session.execute(db.select(Item).where(*_reassignable(school), Item.owner_role == role, owners))
        .scalars()
        .all()
    )
    for item in items:
        before = item.audit_view()
        item.owner_id, item.owner = user.id, user
        old, new = audit.changes(before, item.audit_view())
        audit.record("item.changed", school=school, subject=item, before=old, after=new)
    db.session.flush()
    return len(items)
