"""Making groups (the operator's part): a group, its schools (a school in one group at most) and its people's
group roles. Every change is audited: on the platform chain, and on a school's chain when a school joins or
leaves a group (its members can see who may now read their pages)."""

from .. import audit
from ..auth.models import User
from ..db import db
from ..group_access import GROUP_ROLES, GroupMembership, SchoolGroup
from ..tenancy import School
from ..transactions import DomainError


class GroupError(DomainError):
    """A change to a group that cannot be made; the message is for the operator."""


def create_group(*, slug, name) -> SchoolGroup:
    if db.session.execute(db.select(SchoolGroup.id).where(SchoolGroup.slug == slug)).first():
        raise GroupError("A group already uses that short name; choose another.", field="slug")
    group = SchoolGroup(slug=slug, name=name)
    db.session.add(group)
    db.session.flush()
    audit.record("group.created", subject=group, after=group.audit_view())
    return group


def add_school(group, slug) -> School:
    school = db.session.execute(db.select(School).where(School.slug == slug)).scalar_one_or_none()
    if school is None:
        raise GroupError(f"There is no school with the short name “{slug}”.", field="school")
    if school.group_id == group.id:
        raise GroupError(f"{school.name} is already in this group.", field="school")
    if school.group_id is not None:
        raise GroupError(
            f"{school.name} is already in another group; a school belongs to one group. "
            "Remove it there first.",
            field="school",
        )
    school.group_id = group.id
    db.session.flush()
    after = {"group": group.slug, "school": school.slug}
    audit.record("group.school_added", subject=group, after=after)
    audit.record("school.joined_group", school=school, subject=school, after=after)
    return school


def remove_school(group, school_id) -> School:
    school = db.session.get(School, school_id)
    if school is None or school.group_id != group.id:
        raise GroupError("That school is not in this group.")
    school.group_id = None
    db.session.flush()
    before = {"group": group.slug, "school": school.slug}
    audit.record("group.school_removed", subject=group, before=before)
    audit.record("school.left_group", school=school, subject=school, before=before)
    return school


def give_role(group, *, email, role) -> GroupMembership:
    if role not in GROUP_ROLES:
        raise GroupError("Choose one of the group roles listed.", field="role")
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        raise GroupError(
            "No account uses that e-mail address. Invite the person to one of the schools first, or ask them "
            "to use the address of their account.",
            field="email",
        )
    gm = db.session.execute(
        db.select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
        )
    ).scalar_one_or_none()
    before = None
    if gm is None:
        gm = GroupMembership(group_id=group.id, user_id=user.id, role=role)
        db.session.add(gm)
    else:
        before = {"user": email, "role": gm.role}
        gm.role = role
    db.session.flush()
    audit.record("group.role_given", subject=group, before=before, after={"user": email, "role": role})
    return gm


def remove_role(group, membership_id) -> None:
    gm = db.session.get(GroupMembership, membership_id)
    if gm is None or gm.group_id != group.id:
        raise GroupError("That person holds no role in this group.")
    user = db.session.get(User, gm.user_id)
    db.session.delete(gm)
    db.session.flush()
    audit.record("group.role_removed", subject=group, before={"user": user.email, "role": gm.role})


def all_groups():
    return db.select(SchoolGroup).order_by(SchoolGroup.name, SchoolGroup.id)


def group_people(group):
    return db.session.execute(
        db.select(GroupMembership, User)
        .join(User, User.id == GroupMembership.user_id)
        .where(GroupMembership.group_id == group.id)
        .order_by(User.email)
    ).all()


def group_schools(group):
    return (
        db.session.execute(
            db.select(School).where(School.group_id == group.id).order_by(School.name, School.id)
        )
        .scalars()
        .all()
    )
