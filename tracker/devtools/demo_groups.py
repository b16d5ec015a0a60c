"""Demo data for groups: the two demo schools in one trust, with a group safeguarding lead
(group@demo.example, the demo password). Idempotent."""

from .. import audit
from ..auth.models import User
from ..auth.services import find_user, set_password
from ..db import db
from ..group_access import GROUP_LEAD, GroupMembership, SchoolGroup
from ..passwords import check_password

GROUP_SLUG = "demo-trust"
GROUP_NAME = "Riverside & Lakeside Schools Trust"
GROUP_EMAIL = "group@demo.example"


def load_demo_groups(schools, password) -> None:
    """`schools`: the demo schools by slug; every one joins the demo trust."""
    found = db.select(SchoolGroup).where(SchoolGroup.slug == GROUP_SLUG)
    group = db.session.execute(found).scalar_one_or_none()
    if group is None:
        group = SchoolGroup(slug=GROUP_SLUG, name=GROUP_NAME)
        db.session.add(group)
        db.session.flush()
        audit.record("group.created", subject=group, after=group.audit_view())
    for school in schools.values():
        if school.group_id is None:
            school.group_id = group.id
            after = {"group": group.slug, "school": school.slug}
            audit.record("group.school_added", subject=group, after=after)
            audit.record("school.joined_group", school=school, subject=school, after=after)
    user = find_user(GROUP_EMAIL)
    if user is None:
        user = User(email=GROUP_EMAIL, name="Gale Group")
        db.session.add(user)
        db.session.flush()
    if not check_password(user, password):
        set_password(user, password, reason="set")
    held = db.session.execute(
        db.select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
        )
    ).scalar_one_or_none()
    if held is None:
        db.session.add(GroupMembership(group_id=group.id, user_id=user.id, role=GROUP_LEAD))
        audit.record("group.role_given", subject=group, after={"user": GROUP_EMAIL, "role": GROUP_LEAD})
    db.session.flush()
