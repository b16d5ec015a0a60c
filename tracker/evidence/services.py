"""Evidence services: every file is checked before any is stored; all of a request's files or none.

`pending=True` (a staff member's upload to their own item) stores the evidence as pending verification: it is
shown labelled and counts nowhere until a lead or head verifies it (verification.py)."""

from flask import current_app

from .. import audit
from ..db import db
from .checks import UploadRejected, check_upload
from .models import FILE, LINK, PENDING, VERIFIED, Evidence
from .storage import EvidenceStore


def store() -> EvidenceStore:
    return EvidenceStore(current_app.config["TRACKER_EVIDENCE_DIR"])


def add_files(school, item, uploads, *, applies_on, user, pending=False) -> list[Evidence]:
    """Check every (filename, bytes) pair, then store them. Raises UploadRejected naming the bad file.

    Returns the new rows; the caller commits, and on failure calls discard() so no file is left behind.
    """
    limit = current_app.config["TRACKER_MAX_FILE_MB"] * 1024 * 1024
    checked = []
    for filename, data in uploads:
        try:
            checked.append(check_upload(filename, data, limit))
        except UploadRejected as exc:
            raise UploadRejected(f"{exc}" if not filename else f"“{_shown(filename)}”: {exc}") from None
    rows = []
    for c in checked:
        stored = store().save(school.id, c)
        row = Evidence(
            school_id=school.id,
            item_id=item.id,
            kind=FILE,
            name=c.name,
            stored_name=stored,
            content_type=c.content_type,
            size=c.size,
            sha256=c.sha256,
            applies_on=applies_on,
            uploaded_by_id=user.id,
            verification=PENDING if pending else VERIFIED,
        )
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    for row in rows:
        audit.record("item.evidence_added", school=school, subject=item, after=row.audit_view())
    return rows


def _shown(name):
    return "".join(ch for ch in name if ch.isprintable())[:80]


def discard(school, rows) -> None:
    """Remove stored files of rows whose transaction did not commit."""
    for row in rows:
        if row.stored_name:
            store().delete(school.id, row.stored_name)


def add_link(school, item, *, url, title, applies_on, user, pending=False) -> Evidence:
    row = Evidence(
        school_id=school.id,
        item_id=item.id,
        kind=LINK,
        name=title or url[:300],
        url=url,
        applies_on=applies_on,
        uploaded_by_id=user.id,
        verification=PENDING if pending else VERIFIED,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("item.evidence_added", school=school, subject=item, after=row.audit_view())
    return row


def remove(school, item, row: Evidence) -> None:
    audit.record("item.evidence_removed", school=school, subject=item, before=row.audit_view())
    db.session.delete(row)
    db.session.flush()


def for_items(school, item_ids) -> dict:
    """Evidence rows of several items in one query, by item id."""
    out = {i: [] for i in item_ids}
    if not item_ids:
        return out
    rows = db.session.execute(
        db.select(Evidence)
        .where(Evidence.school_id == school.id, Evidence.item_id.in_(item_ids))
        .order_by(Evidence.uploaded_at)
    ).scalars()
    for row in rows:
        out[row.item_id].append(row)
    return out
