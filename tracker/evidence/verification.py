"""Verifying what staff submit themselves: evidence for their own items (and, through the same two functions,
the training certificates of tracker/training/self_service.py).

A pending row counts nowhere until someone trusted verifies it; rejecting keeps the row (and its file) with
the reason, so the uploader sees why. Both are audited in the caller's transaction. Nobody verifies or rejects
their own upload.
"""

from .. import audit
from ..db import utcnow
from ..transactions import DomainError
from .models import MAX_REASON_CHARS, PENDING, REJECTED, VERIFIED, Verifiable


class VerificationRefused(DomainError):
    """The upload cannot be verified or rejected now (not pending, one's own, no reason given)."""


def _check(row: Verifiable, submitted_by_id, user):
    if row.verification != PENDING:
        raise VerificationRefused(
            f"This upload is not waiting for verification: it was already {row.verification_label.lower()}."
        )
    if submitted_by_id is not None and submitted_by_id == user.id:
        raise VerificationRefused(
            "You cannot verify or reject your own upload: someone else (HR or the safeguarding lead) does it."
        )


def verify(school, row: Verifiable, *, subject, submitted_by_id, user, action: str, view: dict) -> None:
    """Mark a pending row verified (it counts from now on); audited as `action` on `subject`."""
    _check(row, submitted_by_id, user)
    row.verification = VERIFIED
    row.reviewed_by_id = user.id
    row.reviewed_at = utcnow()
    row.rejected_reason = ""
    audit.record(
        action,
        school=school,
        subject=subject,
        before={"verification": PENDING},
        after={**view, "verification": VERIFIED},
        actor=user,
    )


def clean_reason(reason) -> str:
    """The rejection reason, stripped; VerificationRefused (field "reason") when missing or too long."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise VerificationRefused(
            "Say why the upload is rejected, so the person who sent it knows what to do.", field="reason"
        )
    if len(reason) > MAX_REASON_CHARS:
        raise VerificationRefused(f"Keep the reason under {MAX_REASON_CHARS} characters.", field="reason")
    return reason


def reject(
    school, row: Verifiable, *, subject, submitted_by_id, user, reason, action: str, view: dict
) -> None:
    """Mark a pending row rejected with a reason the uploader sees; audited as `action` on `subject`."""
    _check(row, submitted_by_id, user)
    reason = clean_reason(reason)
    row.verification = REJECTED
    row.reviewed_by_id = user.id
    row.reviewed_at = utcnow()
    row.rejected_reason = reason
    audit.record(
        action,
        school=school,
        subject=subject,
        before={"verification": PENDING},
        after={**view, "verification": REJECTED, "reason": reason},
        actor=user,
    )


def verify_evidence(school, item, row, *, user) -> None:
    verify(
        school,
        row,
        subject=item,
        submitted_by_id=row.uploaded_by_id,
        user=user,
        action="item.evidence_verified",
        view=row.audit_view(),
    )


def reject_evidence(school, item, row, *, user, reason) -> None:
    reject(
        school,
        row,
        subject=item,
        submitted_by_id=row.uploaded_by_id,
        user=user,
        reason=reason,
        action="item.evidence_rejected",
        view=row.audit_view(),
    )
