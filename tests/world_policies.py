"""Read-and-sign objects for the two-school world: a document with a file version acknowledged by the target
member, each carrying the school's marker, so the cross-tenant, role and CSRF suites cover the policies
routes."""

from datetime import date

from tracker.extensions import db
from tracker.policies import services as policies

from .world import WORLD_BUILDERS


def build_policies(world, marker):
    lead = world.members["lead"].user
    version = policies.publish(
        world.school,
        title=f"Policy {marker}",
        kind="child_protection",
        roles=["lead", "head", "hr", "staff"],
        categories=["teaching", "volunteer"],
        button_text=f"I read it {marker}",
        label=f"v1 {marker}",
        body="",
        upload=(f"Policy {marker}.txt", f"Policy text {marker}".encode()),
        deadline=date(2026, 9, 30),
        user=lead,
        stored=[],
    )
    db.session.flush()
    world.objects.update(document_id=version.document_id, version_id=version.id)


WORLD_BUILDERS.append(build_policies)
