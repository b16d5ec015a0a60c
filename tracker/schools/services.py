"""School and membership services. Each takes the school first, flushes, audits, and never commits.

Who may change whom: nobody changes their own membership or removes themselves through these services
when they act as `by` (the acting member); only a lead makes someone a lead, changes a lead or removes one;
a school keeps at least one current lead; an accreditor's access ends within TRACKER_ACCREDITOR_MAX_DAYS."""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

from .. import audit
from ..auth.models import User, token_digest
from ..auth.services import end_all_sessions, set_password
from ..db import db, utcnow
from ..tenancy import ACCREDITOR, LEAD, Membership, School
from ..transactions import DomainError
from .invitation_mail import queue_invitation_mail
from .models import Invitation


class ServiceError(DomainError):
    """A request that cannot be carried out; the message is shown to the user, beside `field` when given."""


def create_school(
    *, slug, name, country="", timezone="UTC", year_start_month=8, require_two_factor=True, actor=None
) -> School:
    slug = slug.strip().lower()
    if db.session.execute(db.select(School.id).where(School.slug == slug)).first():
        raise ServiceError(f"A school with the address “{slug}” already exists.")
    school = School(
        slug=slug,
        name=name.strip(),
        country=country.strip(),
        timezone=timezone,
        year_start_month=year_start_month,
        require_two_factor=require_two_factor,
    )
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


def accreditor_max_days() -> int:
    return int(current_app.config.get("TRACKER_ACCREDITOR_MAX_DAYS", 90))


def latest_accreditor_end(school: School) -> date:
    """The last end date an accreditor's access may be given today."""
    return school.today() + timedelta(days=accreditor_max_days())


def _check_role(school, role, access_until):
    """Refuse an end of access that is missing for an accreditor, in the past, or too far off for one."""
    if role == ACCREDITOR and access_until is None:
        raise ServiceError("An accreditor's access needs an end date.", field="access_until")
    if access_until is not None and access_until < school.today():
        raise ServiceError(
            "The end date of access is in the past. Give today or a later day.", field="access_until"
        )
    if role == ACCREDITOR and access_until > latest_accreditor_end(school):
        raise ServiceError(
            f"An accreditor's access can last at most {accreditor_max_days()} days: give an "
            f"end date on or before {latest_accreditor_end(school):%-d %B %Y}. You can extend "
            "it later if the visit runs on.",
            field="access_until",
        )


def _lead_only(by, message):
    if by is not None and by.role != LEAD:
        raise ServiceError(message, field="role")


def refusal(by: Membership | None, membership: Membership, *, removing=False) -> str | None:
    """Why the acting member `by` may not change (or remove) `membership` at all, or None when they may."""
    if by is None:
        return None
    if by.id == membership.id:
        if removing:
            return "You cannot remove yourself from the school. Another safeguarding lead can do it for you."
        return (
            "You cannot change your own role or end of access. Another safeguarding lead can do it for you."
        )
    if membership.role == LEAD and by.role != LEAD:
        return "Only a safeguarding lead can change a lead's role or remove a lead."
    return None


@dataclass
class IssuedInvitation:
    invitation: Invitation
    token: str


def invite(
    school: School, *, email: str, role: str, access_until=None, invited_by=None, by: Membership | None = None
) -> IssuedInvitation:
    """Create an invitation (replacing any pending one for the same address) and return its token.
    `by` is the inviting member (None from the command line)."""
    email = email.strip().lower()
    if role == LEAD:
        _lead_only(by, "Only a safeguarding lead can invite a lead. Choose another role, or ask your lead.")
    _check_role(school, role, access_until)
    if current_member(school, email):
        raise ServiceError(f"{email} is already a member of {school.name}. Change their role instead.")
    for old in db.session.execute(
        db.select(Invitation).where(
            Invitation.school_id == school.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ).scalars():
        old.revoked_at = utcnow()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        school_id=school.id,
        email=email,
        role=role,
        access_until=access_until if role == ACCREDITOR else None,
        token_hash=token_digest(token),
        invited_by_id=invited_by.id if invited_by else None,
        expires_at=utcnow() + timedelta(days=current_app.config["TRACKER_INVITE_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "member.invited", school=school, subject=invitation, after=invitation.audit_view(), actor=invited_by
    )
    queue_invitation_mail(school, invitation, token, invited_by)
    return IssuedInvitation(invitation, token)


def revoke_invitation(school: School, invitation: Invitation) -> None:
    if not invitation.is_pending:
        raise ServiceError("That invitation is no longer pending.")
    invitation.revoked_at = utcnow()
    audit.record(
        "member.invitation_revoked", school=school, subject=invitation, before=invitation.audit_view()
    )


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
    audit.record(
        "member.joined",
        school=school,
        subject=membership,
        before=before,
        after=membership.audit_view(),
        actor=user,
    )
    return user


def _lock_for_change(school: School, *members) -> None:
    """Lock the school's lead memberships and `members` (PostgreSQL; SQLite writers already queue for the
    database) and read them afresh, so that two managers changing each other at the same moment are taken one
    after the other and the second decides on what the first did. Rows are locked in id order (no
    deadlock)."""
    ids = [m.id for m in members if m is not None]
    found = (
        db.session.execute(
            db.select(Membership)
            .where(Membership.school_id == school.id, (Membership.role == LEAD) | Membership.id.in_(ids))
            .order_by(Membership.id)
            .with_for_update(of=Membership)
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    if set(ids) - {m.id for m in found}:
        raise ServiceError("Someone else changed these members a moment ago. Open the page again.")


def _is_last_current_lead(school: School, membership: Membership) -> bool:
    """True when `membership` is the school's only lead whose access has not ended."""
    if membership.role != LEAD or not membership.is_current():
        return False
    others = db.session.execute(
        db.select(Membership).where(
            Membership.school_id == school.id, Membership.role == LEAD, Membership.id != membership.id
        )
    ).scalars()
    return not any(m.is_current() for m in others)


def change_role(
    school: School, membership: Membership, *, role: str, access_until=None, by: Membership | None = None
) -> None:
    """Give a member a new role or end of access; `by` is the member doing it (None from the command line)."""
    _lock_for_change(school, membership, by)
    stays_current_lead = role == LEAD and (access_until is None or access_until >= school.today())
    if not stays_current_lead and _is_last_current_lead(school, membership):
        raise ServiceError(
            "A school needs at least one safeguarding lead: make someone else lead first.", field="role"
        )
    reason = refusal(by, membership)
    if reason:
        raise ServiceError(reason, field="role")
    if role == LEAD and membership.role != LEAD:
        _lead_only(by, "Only a safeguarding lead can make someone a lead.")
    if role == ACCREDITOR and access_until is None:
        raise ServiceError("An accreditor's access needs an end date.", field="access_until")
    if access_until != membership.access_until or (role == ACCREDITOR and membership.role != ACCREDITOR):
        _check_role(school, role, access_until)  # an end date kept as it was is not checked again
    before = membership.audit_view()
    membership.role = role
    membership.access_until = access_until
    old, new = audit.changes(before, membership.audit_view())
    if new:
        audit.record("member.role_changed", school=school, subject=membership, before=old, after=new)


def remove_member(school: School, membership: Membership, *, by: Membership | None = None) -> None:
    """Remove a member; their sessions end so that no open page keeps working. `by` is the member doing it."""
    _lock_for_change(school, membership, by)
    if _is_last_current_lead(school, membership):
        raise ServiceError("You cannot remove the school's only safeguarding lead.")
    reason = refusal(by, membership, removing=True)
    if reason:
        raise ServiceError(reason)
    audit.record("member.removed", school=school, subject=membership, before=membership.audit_view())
    user = membership.user
    db.session.delete(membership)
    db.session.flush()
    end_all_sessions(user)


__all__ = [
    "ServiceError",
    "create_school",
    "update_settings",
    "invite",
    "revoke_invitation",
    "pending_invitation",
    "accept_invitation",
    "change_role",
    "remove_member",
    "set_password",
    "refusal",
    "latest_accreditor_end",
]
