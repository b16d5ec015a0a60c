"""Read-side queries of the read-and-sign pages: a document and its version by id (404 outside the school or
the document), the people a sign sheet offers, a member's register entry, a version's acknowledgements."""

from flask import abort

from ..db import db, get_for_school_or_404
from ..people.models import Person
from ..people.queries import person_of
from .models import PolicyAcknowledgement, PolicyDocument, PolicyVersion

__all__ = ["acknowledgements_of", "document_or_404", "people_by_id", "person_of", "version_or_404"]


def document_or_404(school, document_id) -> PolicyDocument:
    return get_for_school_or_404(PolicyDocument, document_id, school)


def version_or_404(school, document, version_id) -> PolicyVersion:
    version = get_for_school_or_404(PolicyVersion, version_id, school)
    if version.document_id != document.id:
        abort(404)
    return version


def people_by_id(school, ids) -> dict:
    """{str(id): Person} for the school's people among `ids` (UUIDs), by name."""
    if not ids:
        return {}
    return {
        str(p.id): p
        for p in db.session.execute(
            db.select(Person)
            .where(Person.school_id == school.id, Person.id.in_(list(ids)))
            .order_by(Person.full_name, Person.id)
        ).scalars()
    }


def acknowledgements_of(school, version) -> list[PolicyAcknowledgement]:
    """Every acknowledgement recorded against `version` itself, oldest first."""
    return (
        db.session.execute(
            db.select(PolicyAcknowledgement)
            .where(
                PolicyAcknowledgement.school_id == school.id, PolicyAcknowledgement.version_id == version.id
            )
            .order_by(PolicyAcknowledgement.acknowledged_at)
        )
        .scalars()
        .all()
    )
