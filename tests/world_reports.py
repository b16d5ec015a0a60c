"""Report and review objects for the two-school world: a frozen report and an accreditor query, each carrying
the school's marker, so the cross-tenant, role and CSRF suites cover the reports and review routes."""

import hashlib

from tracker.extensions import db
from tracker.reports.models import ACCREDITATION, DONE, Report
from tracker.review import services as review
from tracker.tenancy import ACCREDITOR

from .world import WORLD_BUILDERS


def build_reports(world, marker):
    school = world.school
    # A stand-in for a rendered PDF: the suites only need an object to address (rendering is tested
    # elsewhere).
    pdf = f"%PDF-1.7 stand-in report {marker}".encode()
    report = Report(
        school_id=school.id,
        kind=ACCREDITATION,
        year_id=world.objects["year_id"],
        subject="",
        title=f"Accreditation report {marker}",
        data_hash="0" * 64,
        frozen=True,
        status=DONE,
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        pages=1,
    )
    db.session.add(report)
    query = review.raise_query(
        school, world.item, body=f"Query {marker}", user=world.members[ACCREDITOR].user, role=ACCREDITOR
    )
    db.session.flush()
    world.objects.update(report_id=report.id, query_id=query.id)


WORLD_BUILDERS.append(build_reports)
