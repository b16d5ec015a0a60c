"""Staff self-service objects for the two-school world: evidence a staff member added to the school's item and
a certificate they sent for themselves, both pending verification and carrying the school's marker, so the
cross-tenant, role and CSRF suites verify and reject real pending uploads."""

from datetime import date

from tracker.evidence.services import add_files
from tracker.extensions import db
from tracker.people.models import Person
from tracker.training import self_service

from .world import ENDPOINT_PARAMS, WORLD_BUILDERS


def build_self_service(world, marker):
    school = world.school
    uploader = world.target_member.user  # a staff member: neither verifier uploaded these
    [evidence] = add_files(
        school,
        world.item,
        [(f"Pending {marker}.txt", f"Pending evidence {marker}".encode())],
        applies_on=None,
        user=uploader,
        pending=True,
    )
    person = db.session.get(Person, world.objects["person_id"])
    session = self_service.submit_certificate(
        school,
        person,
        activity=self_service.activities_for(person, school.today())[0],
        held_on=date(2026, 8, 21),
        provider=f"Provider {marker}",
        certificate=(f"Own certificate {marker}.txt", f"Own certificate {marker}".encode()),
        user=uploader,
    )
    db.session.flush()
    world.objects.update(pending_evidence_id=evidence.id, pending_session_id=session.id)


WORLD_BUILDERS.append(build_self_service)
for _endpoint in ("training.verify_evidence", "training.reject_evidence"):
    ENDPOINT_PARAMS[_endpoint] = {"evidence_id": "pending_evidence_id"}
for _endpoint in ("training.verify_certificate", "training.reject_certificate"):
    ENDPOINT_PARAMS[_endpoint] = {"session_id": "pending_session_id"}
