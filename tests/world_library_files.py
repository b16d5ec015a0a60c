"""Library documents for the two-school world: a school's own copy (a small text file) of its own resource,
carrying the school's marker, so the cross-tenant, role and CSRF suites cover the library_files routes."""

from tracker.extensions import db
from tracker.library.models import Resource
from tracker.library_files import services

from .world import WORLD_BUILDERS


def build_library_files(world, marker):
    resource = db.session.execute(
        db.select(Resource).where(Resource.key == world.objects["key"])
    ).scalar_one()
    change = services.add_school_copy(
        world.school,
        resource,
        label=f"Copy {marker}",
        language="th",
        filename=f"copy-{marker}.txt",
        data=f"Our copy {marker}\n".encode(),
        user=world.members["lead"].user,
    )
    world.objects["file_id"] = change.row.id


WORLD_BUILDERS.append(build_library_files)
