"""Archive objects for the two-school world: a finished archive whose ZIP (on disk) carries the school's
marker, so the cross-tenant, role and CSRF suites cover the archive routes."""

import hashlib
import io
import zipfile
from datetime import timedelta

from flask import current_app

from tracker.archive import jobs
from tracker.archive.models import DONE, ArchiveJob
from tracker.db import utcnow
from tracker.extensions import db

from .world import WORLD_BUILDERS


def build_archive(world, marker):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", f"The archive of {marker}")
    payload = buffer.getvalue()
    now = utcnow()
    row = ArchiveJob(
        school_id=world.school.id,
        status=DONE,
        progress=100,
        stage="Ready",
        stored_name=hashlib.md5(payload + str(world.school.id).encode()).hexdigest(),
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        anchor="1:" + "0" * 16,
        created_at=now,
        finished_at=now,
        expires_at=now + timedelta(days=current_app.config["TRACKER_ARCHIVE_KEEP_DAYS"]),
    )
    db.session.add(row)
    path = jobs.file_path(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    db.session.flush()
    world.objects.update(archive_id=row.id)


WORLD_BUILDERS.append(build_archive)
