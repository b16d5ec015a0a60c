"""Groups for the two-school world: each school is in its own group, with a holder of every group role (none
of them a member of the school) and its lead also the group's lead; B's group carries the marker. The
cross-tenant, role, CSRF and POST-fuzz suites then cover the group pages, and tests/test_groups_access.py
aims every group role at every school route."""

from tracker.auth.models import User
from tracker.extensions import db
from tracker.group_access import GROUP_LEAD, GROUP_ROLES, GroupMembership, SchoolGroup

from .conftest import CHEAP_HASHER, PASSWORD
from .world import WORLD_BUILDERS


def build_groups(world, marker):
    school = world.school
    group = SchoolGroup(slug=f"g-{school.slug}", name=f"Group of {school.name}")
    db.session.add(group)
    db.session.flush()
    school.group_id = group.id
    world.group = group
    world.group_members = {}
    for role in GROUP_ROLES:
        user = User(
            email=f"{role.replace('_', '-')}-{school.slug}{marker.lower()}@example.org",
            name=f"{role} {marker}",
            password_hash=CHEAP_HASHER.hash(PASSWORD),
        )
        db.session.add(user)
        db.session.flush()
        gm = GroupMembership(group_id=group.id, user_id=user.id, role=role)
        db.session.add(gm)
        world.group_members[role] = user
    # the school's lead is also the group's lead: a member and a group role at once
    db.session.add(GroupMembership(group_id=group.id, user_id=world.members["lead"].user_id, role=GROUP_LEAD))
    db.session.flush()
    world.objects.update(
        group=group.slug,
        group_id=group.id,
        gm_id=gm.id,
        school_uuid=school.id,
    )


WORLD_BUILDERS.append(build_groups)
