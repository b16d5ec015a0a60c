"""The staff register (every adult who works with students, kept to what the checks need), risk assessments,
and the jobs of large register imports."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

CATEGORIES = ("teaching", "support", "volunteer", "contractor", "board", "agency")
#: the labels the pages show; the register import accepts them as well as the keys (one source for both)
CATEGORY_LABELS = {
    "teaching": "Teaching staff",
    "support": "Support staff",
    "volunteer": "Volunteer",
    "contractor": "Contractor",
    "board": "Board member",
    "agency": "Agency staff",
}
#: why a person left (the leaver form's select); "other" asks for the text
LEAVE_REASONS = ("resigned", "contract_ended", "retired", "dismissed", "agency_ended", "other")
LEAVE_REASON_LABELS = {
    "resigned": "Resigned",
    "contract_ended": "End of contract",
    "retired": "Retired",
    "dismissed": "Dismissed",
    "agency_ended": "Agency placement ended",
    "other": "Other",
}
#: the kinds of document seen for a check (only the type and its reference are kept, never a copy)
DOCUMENT_TYPES = (
    "",
    "passport",
    "national_id",
    "driving_licence",
    "visa_work_permit",
    "police_certificate",
    "qualification_certificate",
    "reference_letter",
    "agency_letter",
    "signed_form",
    "other",
)
DOCUMENT_TYPE_LABELS = {
    "": "No document (or not yet seen)",
    "passport": "Passport",
    "national_id": "National identity card",
    "driving_licence": "Driving licence",
    "visa_work_permit": "Visa or work permit",
    "police_certificate": "Police certificate",
    "qualification_certificate": "Qualification certificate",
    "reference_letter": "Written reference",
    "agency_letter": "Agency's written confirmation",
    "signed_form": "Signed form or declaration",
    "other": "Other document",
}
GROUPS = ("leadership", "response_team")
GROUP_LABELS = {"leadership": "Leadership", "response_team": "Safeguarding response team"}
CHECK_STATUSES = ("not_started", "requested", "received", "verified", "not_required")
CHECK_STATUS_LABELS = {
    "not_started": "Not started",
    "requested": "Requested",
    "received": "Received",
    "verified": "Verified",
    "not_required": "Not required",
}


class Person(SchoolScoped, db.Model):
    """An adult on the staff register. Holds no case details and nothing the checks do not need."""

    __tablename__ = "people"

    full_name: Mapped[str] = mapped_column(String(200))
    #: lower-cased; the key for re-importing a register and for linking to a member's account
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    #: extra training audiences: leadership, response_team
    groups: Mapped[list] = mapped_column(JSON, default=list)
    start_on: Mapped[date] = mapped_column(Date)
    leave_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: why they left (LEAVE_REASONS), recorded by "Mark as left"; empty while they have not left
    leave_reason: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: the leaver form's free text: the reason in words, or what "other" means
    leave_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: every country the person lived or worked in (one police check each)
    countries: Mapped[list] = mapped_column(JSON, default=list)
    #: the member account of this person, when they have one (they then see their own record)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")

    __table_args__ = (UniqueConstraint("school_id", "email"),)

    def has_left(self, today) -> bool:
        return self.leave_on is not None and self.leave_on < today

    @property
    def category_label(self):
        return CATEGORY_LABELS[self.category]

    def audit_view(self):
        return {
            "full_name": self.full_name,
            "email": self.email,
            "category": self.category,
            "groups": sorted(self.groups or []),
            "start_on": self.start_on.isoformat(),
            "leave_on": self.leave_on.isoformat() if self.leave_on else None,
            "leave_reason": self.leave_reason or "",
            "countries": list(self.countries or []),
        }


class CheckRecord(SchoolScoped, db.Model):
    """What a recruitment check (an item) saw beside its stage: the type and reference of the document
    (never a copy of it) and, for an agency's confirmation, what it covers. One per check, made on first
    save."""

    __tablename__ = "check_records"

    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    #: one of DOCUMENT_TYPES
    document_type: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: the document's number or reference (certificate number, passport number's last digits ...)
    document_reference: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: the checks the document covers (an agency's written confirmation lists them)
    covers: Mapped[str] = mapped_column(String(500), default="", server_default="")

    def audit_view(self):
        return {
            "document_type": self.document_type,
            "document_reference": self.document_reference,
            "covers": self.covers,
        }


class RiskAssessment(SchoolScoped, db.Model):
    """Written when a check cannot be obtained; the head signs it off, and it stands in for the gap."""

    __tablename__ = "risk_assessments"

    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    #: the assessment's conclusion and the mitigations; the full document is attached as evidence
    summary: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    written_by = relationship("User", foreign_keys=[written_by_id], lazy="joined")
    signed_by = relationship("User", foreign_keys=[signed_by_id], lazy="joined")


IMPORT_QUEUED, IMPORT_RUNNING, IMPORT_DONE, IMPORT_FAILED = "queued", "running", "done", "failed"


class ImportJob(SchoolScoped, db.Model):
    """A confirmed register import too large for one request, run in the background (tracker/people/jobs.py).

    The people, their checklists, their audit events and the job's `done` are committed in one transaction:
    a job that fails or is stopped leaves nothing of the import behind.
    """

    __tablename__ = "people_import_jobs"

    #: the checked rows the preview showed (what is imported); emptied when the job ends
    rows: Mapped[list] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: rows with errors the user chose to skip
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    #: queued, running, done or failed
    status: Mapped[str] = mapped_column(String(20), default=IMPORT_QUEUED)
    #: 0-100 and what is being done, shown on the job's page
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    added: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_by = relationship("User")

    def audit_view(self):
        return {
            "rows": self.total,
            "skipped": self.skipped,
            "status": self.status,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
        }
