"""Recruitment checks: recording a check's stage, and writing and signing a risk assessment in its place."""

from .. import audit
from ..db import db, utcnow
from ..tracking.models import DONE, IN_PROGRESS, NOT_APPLICABLE, NOT_STARTED, Item
from ..tracking.state import check_version, set_status
from .errors import PeopleError
from .models import CHECK_STATUSES, DOCUMENT_TYPES, CheckRecord, RiskAssessment

#: how a check's stage shows in the item engine's status
CHECK_TO_STATUS = {
    "not_started": NOT_STARTED,
    "requested": IN_PROGRESS,
    "received": IN_PROGRESS,
    "verified": DONE,
    "not_required": NOT_APPLICABLE,
}


def update_check(
    school,
    item: Item,
    *,
    version,
    check_status,
    verified_on=None,
    expires_on=None,
    notes=None,
    na_reason="",
    document=None,
    user,
) -> None:
    """Record a check's stage. Verified needs a date and records who verified it.

    `document` ({"document_type", "document_reference", "covers"}) records which document was seen (its type
    and reference, never a copy); None leaves what was recorded."""
    check_version(item, version, {"check_status": check_status, "notes": notes})
    if check_status not in CHECK_STATUSES:
        raise PeopleError("Choose a stage from the list.")
    if check_status == "not_required" and not (na_reason or "").strip():
        raise PeopleError("Say why this check is not required for this person.")
    if document is not None and document.get("document_type", "") not in DOCUMENT_TYPES:
        raise PeopleError("Choose the kind of document from the list.")
    before = {**item.audit_view(), **(record_of(school, item).audit_view() if document is not None else {})}
    item.check_status = check_status
    if check_status == "verified":
        item.verified_on = verified_on or school.today()
        item.verified_by_id = user.id
    else:
        item.verified_on = item.verified_by_id = None
    set_status(item, CHECK_TO_STATUS[check_status], on=item.verified_on, reason=na_reason)
    item.expires_on = expires_on
    if notes is not None:
        item.notes = notes
    after = item.audit_view()
    if document is not None:
        record = record_of(school, item, create=True)
        for name in ("document_type", "document_reference", "covers"):
            setattr(record, name, (document.get(name) or "").strip())
        after.update(record.audit_view())
    old, new = audit.changes(before, after)
    if new:
        db.session.flush()
        audit.record("check.changed", school=school, subject=item, before=old, after=new)


def record_of(school, item: Item, *, create=False) -> CheckRecord:
    """The check's record of the document seen (a blank one, not added, when there is none yet unless
    `create`)."""
    row = db.session.execute(
        db.select(CheckRecord).where(CheckRecord.school_id == school.id, CheckRecord.item_id == item.id)
    ).scalar_one_or_none()
    if row is None:
        row = CheckRecord(
            school_id=school.id, item_id=item.id, document_type="", document_reference="", covers=""
        )
        if create:
            db.session.add(row)
    return row


def record_risk_assessment(school, item: Item, *, summary, user) -> RiskAssessment:
    if item.check_status == "verified":
        raise PeopleError("This check is verified: no risk assessment is needed.")
    row = db.session.execute(
        db.select(RiskAssessment).where(
            RiskAssessment.school_id == school.id, RiskAssessment.item_id == item.id
        )
    ).scalar_one_or_none()
    if row is not None and row.signed_at is not None:
        raise PeopleError("The head has already signed this risk assessment; it can no longer be changed.")
    if row is None:
        row = RiskAssessment(school_id=school.id, item_id=item.id, summary=summary, written_by_id=user.id)
        db.session.add(row)
    else:
        row.summary, row.written_by_id, row.written_at = summary, user.id, utcnow()
    db.session.flush()
    audit.record("check.risk_assessed", school=school, subject=item, after={"summary": summary[:1000]})
    return row


def sign_risk_assessment(school, item: Item, *, user) -> None:
    row = db.session.execute(
        db.select(RiskAssessment).where(
            RiskAssessment.school_id == school.id, RiskAssessment.item_id == item.id
        )
    ).scalar_one_or_none()
    if row is None:
        raise PeopleError("There is no risk assessment to sign.")
    if row.signed_at is not None:
        raise PeopleError("Already signed.")
    row.signed_by_id, row.signed_at = user.id, utcnow()
    db.session.flush()
    audit.record("check.risk_assessment_signed", school=school, subject=item, after={"signed_by": user.email})
