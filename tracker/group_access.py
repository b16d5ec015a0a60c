"""Groups of schools (a trust or network) and the group roles: the second, explicit way into a school's pages.

A school's own members reach it through their membership (tenancy.py). A group role gives READ access to the
pages of the group's schools that a view declares group-readable (`school_roles(..., group=...)` in
access.py), and nothing else: `tenancy.load_school` puts a `GroupVisit` where a membership would be, and the
access decorator refuses any write by it. The group's own pages live in tracker/groups/.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .db import UTCDateTime, UUIDPk, db, utcnow

GROUP_LEAD, GROUP_HR, GROUP_VIEWER = "group_lead", "group_hr", "group_viewer"
GROUP_ROLES = (GROUP_LEAD, GROUP_HR, GROUP_VIEWER)
GROUP_ROLE_LABELS = {
    GROUP_LEAD: "Group safeguarding lead",
    GROUP_HR: "Group HR",
    GROUP_VIEWER: "Group viewer",
}
#: group roles that read the programme pages of the group's schools (dashboard, items, training coverage)
PROGRAMME_READERS = GROUP_ROLES
#: group roles that also read the registers and a person's page
REGISTER_READERS = (GROUP_LEAD, GROUP_HR)
#: what a view passes as `school_roles(..., group=...)`: a name here, so view modules need no import
GROUP_READS = {"programme": PROGRAMME_READERS, "registers": REGISTER_READERS}
#: the role a group visit carries where views expect a member's role: it matches no school role, so every
#: role test of a view answers as for the least trusted reader (tenancy.SEES_EVERY_ITEM lists it: a group
#: reader sees every item)
GROUP_VISITOR = "group"


class SchoolGroup(UUIDPk, db.Model):
    """A trust or network of schools; a school belongs to at most one (schools.group_id)."""

    __tablename__ = "school_groups"

    #: short name used in URLs (/g/<slug>/)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def audit_view(self) -> dict:
        return {"slug": self.slug, "name": self.name}


class GroupMembership(UUIDPk, db.Model):
    """A user's role in a group: read access to the group's schools, and the group's own pages."""

    __tablename__ = "group_memberships"

    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("school_groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        CheckConstraint("role IN ('group_lead','group_hr','group_viewer')", name="group_role_known"),
    )

    @property
    def role_label(self) -> str:
        return GROUP_ROLE_LABELS[self.role]


@dataclass
class GroupVisit:
    """Stands where a membership would for a group reader of one school: read only, sees every item. It is
    never stored; views that read `g.membership.role` see GROUP_VISITOR, which no write policy names."""

    school: object
    user: object
    group: SchoolGroup
    group_role: str
    role: str = GROUP_VISITOR
    access_until = None
    id = None

    @property
    def user_id(self):
        return self.user.id

    @property
    def role_label(self) -> str:
        return f"{GROUP_ROLE_LABELS[self.group_role]} · read only"

    @property
    def sees_every_item(self) -> bool:
        return True

    def is_current(self) -> bool:
        return True


def group_visit(user, school_model, slug) -> GroupVisit | None:
    """The user's group visit of the school `slug` (one query), or None when the school is in none of their
    groups (or does not exist: the caller answers both with the same 404)."""
    row = db.session.execute(
        db.select(school_model, SchoolGroup, GroupMembership.role)
        .join(SchoolGroup, SchoolGroup.id == school_model.group_id)
        .join(GroupMembership, GroupMembership.group_id == SchoolGroup.id)
        .where(school_model.slug == slug, GroupMembership.user_id == user.id)
    ).first()
    if row is None:
        return None
    school, group, role = row
    return GroupVisit(school=school, user=user, group=group, group_role=role)


def groups_for(user) -> list[tuple[SchoolGroup, str]]:
    """(group, role) for every group the user holds a role in, by name; kept for the request."""
    cached = g.get("_groups") if has_request_context() else None
    if cached is not None and cached[0] == user.id:
        return cached[1]
    rows = [
        (group, role)
        for group, role in db.session.execute(
            db.select(SchoolGroup, GroupMembership.role)
            .join(GroupMembership, GroupMembership.group_id == SchoolGroup.id)
            .where(GroupMembership.user_id == user.id)
            .order_by(SchoolGroup.name, SchoolGroup.id)
        ).all()
    ]
    if has_request_context():
        g._groups = (user.id, rows)
    return rows


def current_group_visit():
    """The GroupVisit of this request, or None (a member, or no school page)."""
    visit = g.get("membership") if has_request_context() else None
    return visit if isinstance(visit, GroupVisit) else None
