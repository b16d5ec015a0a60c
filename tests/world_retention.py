"""Retention objects for the two-school world: a hold (its reason carries the school's marker) on the world's
person, so the cross-tenant, role and CSRF suites cover the retention routes."""

from tracker.extensions import db
from tracker.retention import services as retention

from .world import WORLD_BUILDERS


def build_retention(world, marker):
    hold = retention.place_hold(
        world.school,
        record_type="person",
        record_id=world.objects["person_id"],
        reason=f"Inquiry {marker}",
        user=world.members["lead"].user,
    )
    db.session.flush()
    world.objects.update(hold_id=hold.id)


WORLD_BUILDERS.append(build_retention)
