"""School and membership services. Each takes the school first, flushes, audits, and never commits."""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .. import audit
from ..auth.models import User, token_digest
from ..auth.services import end_all_sessions, set_password
from ..db import db, utcnow
from ..tenancy import ACCREDITOR, LEAD, Membership, School
from .models import Invitation


class ServiceError(ValueError):
    """A request that cannot be carried out; the message is shown to the user."""


def create_school(*, slug, name, country="", timezone="UTC", year_start_month=8, actor=None) -> School:
    slug = slug.strip().lower()
    if db.session.execute(db.select(School.id).where(School.slug == slug)).first():
        raise ServiceError(f"A school with the address “{slug}” already exists.")
    school = School(slug=slug, name=name.strip(), country=country.strip(), timezone=timezone,
                    year_start_month=year_start_month)
    db.session.add(school)
    db.session.flush()
    audit.record("school.created", school=school, subject=school, after=school.audit_view(), actor=actor)
    return school


def update_settings(school: School, **values) -> None:
    before = school.audit_view()
    for key, value in values.items():
        setattr(school, key, value)
    old, new = audit.changes(before, school.audit_view())
    if new:
        audit.record("school.settings_changed", school=school, subject=school, before=old, after=new)


def current_member(school: School, email: str) -> Membership | None:
    row = db.session.execute(
        db.select(Membership).join(User).where(Membership.school_id == school.id, User.email == email)
    ).scalar_one_or_none()
    return row if row is not None and row.is_current() else None


def _check_role(role, access_until):
    if role == ACCREDITOR and access_until is None:
        raise ServiceError("An accreditor's access needs an end date.")


@dataclass
class IssuedInvitation:
    invitation: Invitation
    token: str


def invite(school: School, *, email: str, role: str, access_until=None, invited_by=None) -> IssuedInvitation:
    """Create an invitation (replacing any pending one for the same address) and return its token."""
    email = email.strip().lower()
    _check_role(role, access_until)
    if access_until is not None and access_until < school.today():
        raise ServiceError("The end date of access is in the past.")
    if current_member(school, email):
        raise ServiceError(f"{email} is already a member of {school.name}. Change their role instead.")
    for old in db.session.execute(
        db.select(Invitation).where(Invitation.school_id == school.id, Invitation.email == email,
                                    Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    ).scalars():
        old.revoked_at = utcnow()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        school_id=school.id, email=email, role=role, access_until=access_until if role == ACCREDITOR else None,
        token_hash=token_digest(token), invited_by_id=invited_by.id if invited_by else None,
        expires_at=utcnow() + timedelta(days=current_app.config["TRACKER_INVITE_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("member.invited", school=school, subject=invitation, after=invitation.audit_view(),
                 actor=invited_by)
    return IssuedInvitation(invitation, token)


def revoke_invitation(school: School, invitation: Invitation) -> None:
    if not invitation.is_pending:
        raise ServiceError("That invitation is no longer pending.")
    invitation.revoked_at = utcnow()
    audit.record("member.invitation_revoked", school=school, subject=invitation, before=invitation.audit_view())


def pending_invitation(token: str) -> Invitation | None:
    """The invitation behind a link, if it is genuine, unused, unrevoked and unexpired."""
    invitation = db.session.execute(
        db.select(Invitation).where(Invitation.token_hash == token_digest(token))
    ).scalar_one_or_none()
    return invitation if invitation is not None and invitation.is_pending else None


def accept_invitation(invitation: Invitation, *, user: User | None = None, name=None, password=None) -> User:
    """Turn a pending invitation into a membership, creating the account when there is none."""
    school = invitation.school
    if user is None:
        user = db.session.execute(db.select(User).where(User.email == invitation.email)).scalar_one_or_none()
        if user is not None and user.password_hash:
            raise ServiceError("An account with this address exists: sign in to accept the invitation.")
        if user is None:
            user = User(email=invitation.email)
            db.session.add(user)
        user.name = name
        db.session.flush()
        set_password(user, password, reason="set")
    elif user.email != invitation.email:
        raise ServiceError(f"This invitation is for {invitation.email}. Sign out, then open the link again.")
    membership = db.session.execute(
        db.select(Membership).where(Membership.school_id == school.id, Membership.user_id == user.id)
    ).scalar_one_or_none()
    before = membership.audit_view() if membership else None
    if membership is None:
        membership = Membership(school_id=school.id, user_id=user.id, user=user, school=school)
        db.session.add(membership)
    membership.role = invitation.role
    membership.access_until = invitation.access_until
    invitation.accepted_at = utcnow()
    db.session.flush()
    audit.record("member.joined", school=school, subject=membership, before=before,
                 after=membership.audit_view(), actor=user)
    return user


def _is_last_current_lead(school: School, membership: Membership) -> bool:
    """True when `membership` is the school's only lead whose access has not ended."""
    if membership.role != LEAD or not membership.is_current():
        return False
    others = db.session.execute(
        db.select(Membership).where(Membership.school_id == school.id, Membership.role == LEAD,
                                    Membership.id != membership.id)
    ).scalars()
    return not any(m.is_current() for m in others)


def change_role(school: School, membership: Membership, *, role: str, access_until=None) -> None:
    _check_role(role, access_until)
    stays_current_lead = role == LEAD and (access_until is None or access_until >= school.today())
    if not stays_current_lead and _is_last_current_lead(school, membership):
        raise ServiceError("A school needs at least one safeguarding lead: make someone else lead first.")
    before = membership.audit_view()
    membership.role = role
    membership.access_until = access_until
    old, new = audit.changes(before, membership.audit_view())
    if new:
        audit.record("member.role_changed", school=school, subject=membership, before=old, after=new)


def remove_member(school: School, membership: Membership) -> None:
    """Remove a member; their sessions end so that no open page keeps working."""
    if _is_last_current_lead(school, membership):
        raise ServiceError("You cannot remove the school's only safeguarding lead.")
    audit.record("member.removed", school=school, subject=membership, before=membership.audit_view())
    user = membership.user
    db.session.delete(membership)
    db.session.flush()
    end_all_sessions(user)


__all__ = ["ServiceError", "create_school", "update_settings", "invite", "revoke_invitation",
           "pending_invitation", "accept_invitation", "change_role", "remove_member", "set_password"]
