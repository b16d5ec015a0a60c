"""Read-side queries of the school pages: members, pending invitations, the audit trail, all schools."""

from ..audit import AuditEvent
from ..db import db
from ..tenancy import Membership, School
from .models import Invitation


def all_schools():
    """A select of every school by name, for paginate() (platform admins)."""
    return db.select(School).order_by(School.name)


def members(school, *, ordered=True) -> list:
    """The school's memberships; `ordered`: by role, then by the member's name."""
    query = db.select(Membership).where(Membership.school_id == school.id)
    if not ordered:
        return db.session.execute(query).scalars().all()
    rows = db.session.execute(query.order_by(Membership.role)).scalars().all()
    rows.sort(key=lambda m: (m.role, m.user.display_name.lower()))
    return rows


def pending_invitations(school, *, ordered=True) -> list:
    """Invitations neither accepted nor revoked; `ordered`: newest first."""
    query = db.select(Invitation).where(
        Invitation.school_id == school.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
    )
    if ordered:
        query = query.order_by(Invitation.created_at.desc())
    return db.session.execute(query).scalars().all()


def audit_events(school):
    """A select of the school's audit events, newest first, for paginate()."""
    return db.select(AuditEvent).where(AuditEvent.school_id == school.id).order_by(AuditEvent.seq.desc())
