"""The invitation e-mail: queued (tracker/mail.py, then the outbox) in the transaction that creates the
invitation, by every way of inviting (the members page, the first-year set-up, a new school, `users invite`).

It names the school, who invited the person, the role (and an accreditor's last day) and when the link stops
working. The message is queued for the school, so whoever sent the invitation sees it on the outbox page.
"""

from ..links import external_url
from ..mail import queue_mail
from ..tenancy import ACCREDITOR, ROLE_LABELS
from .models import Invitation

#: who the e-mail says invited the person when nobody signed in did (`flask users invite`)
OPERATOR = "The administrator of this Safeguarding Tracker"


def invitation_link(token: str) -> str:
    """The absolute link of an invitation (on TRACKER_BASE_URL, never the request's Host)."""
    return external_url("auth.accept_invitation", token=token)


def queue_invitation_mail(school, invitation: Invitation, token: str, invited_by=None) -> None:
    """Queue the e-mail that carries `token` to the invited address. Flushes only."""
    inviter = invited_by.display_name if invited_by is not None else OPERATOR
    role = ROLE_LABELS.get(invitation.role, invitation.role)
    queue_mail(
        to=invitation.email,
        subject=f"{inviter} invited you to {school.name} on the Safeguarding Tracker",
        template="auth/email/invitation",
        kind="invitation",
        key=f"invitation:{invitation.id}",
        school=school,
        school_name=school.name,
        inviter=inviter,
        inviter_email=invited_by.email if invited_by is not None else "",
        role=role,
        access_until=invitation.access_until if invitation.role == ACCREDITOR else None,
        expires_at=invitation.expires_at,
        link=invitation_link(token),
    )
