"""A register import job for the two-school world, carrying the school's marker, so the cross-tenant, role and
CSRF suites cover the import job pages (tracker/people/jobs.py)."""

from tracker.extensions import db
from tracker.people.models import IMPORT_FAILED, ImportJob

from .world import WORLD_BUILDERS


def build_import_job(world, marker):
    job = ImportJob(
        school_id=world.school.id,
        rows=[],
        total=1,
        skipped=0,
        status=IMPORT_FAILED,
        stage=f"Stage {marker}",
        error=f"Import error {marker}",
        created_by_id=world.members["lead"].user_id,
    )
    db.session.add(job)
    db.session.flush()
    world.objects["job_id"] = job.id


WORLD_BUILDERS.append(build_import_job)
