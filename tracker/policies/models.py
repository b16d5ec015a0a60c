"""School documents every adult reads and signs (child protection policy, code of conduct ...), their versions
and the append-only acknowledgements.

A version's `round` says which acknowledgements count for it: a material change opens a new round (everyone
acknowledges again); a minor one keeps the round of the version it follows, so earlier acknowledgements still
count. Acknowledgements are never changed or deleted (no code path does; every one is audited).
"""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow
from ..people.models import CATEGORIES, CATEGORY_LABELS
from ..tenancy import ROLE_LABELS, ROLES

KINDS = ("child_protection", "code_of_conduct", "handbook", "other")
KIND_LABELS = {
    "child_protection": "Child protection policy",
    "code_of_conduct": "Code of conduct",
    "handbook": "Staff handbook section",
    "other": "Other document",
}
DEFAULT_BUTTON = "I have read and understood"
#: how an acknowledgement was recorded: by the member themself, or from a paper sign sheet by HR or the lead
SELF, SHEET = "self", "sheet"


class PolicyDocument(SchoolScoped, db.Model):
    """A document the school asks its adults to read and acknowledge; its text or file is in its versions."""

    __tablename__ = "policy_documents"

    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    #: membership roles whose members must acknowledge it (lead, head, hr, staff)
    audience_roles: Mapped[list] = mapped_column(JSON, default=list)
    #: register categories whose people must acknowledge it (teaching, support, volunteer, contractor, board)
    audience_categories: Mapped[list] = mapped_column(JSON, default=list)
    #: the text of the acknowledgement button
    button_text: Mapped[str] = mapped_column(String(120), default=DEFAULT_BUTTON)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # selectin: a page or a digest that lists documents reads every document's versions in one query
    versions = relationship(
        "PolicyVersion",
        back_populates="document",
        order_by="PolicyVersion.number",
        cascade="all",
        lazy="selectin",
    )

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def audience_label(self):
        """Who must read it, in words: "Staff member, Teaching staff, Volunteer"."""
        roles = [ROLE_LABELS[r] for r in ROLES if r in (self.audience_roles or [])]
        categories = [CATEGORY_LABELS[c] for c in CATEGORIES if c in (self.audience_categories or [])]
        return ", ".join(roles + categories) or "nobody"

    def current_version(self):
        """The newest version that is not withdrawn, or None."""
        live = [v for v in self.versions if v.withdrawn_at is None]
        return live[-1] if live else None

    def audit_view(self):
        return {
            "title": self.title,
            "kind": self.kind,
            "audience_roles": sorted(self.audience_roles or []),
            "audience_categories": sorted(self.audience_categories or []),
            "button_text": self.button_text,
        }


class PolicyVersion(SchoolScoped, db.Model):
    """One published version of a document: a file kept in the evidence store, or text."""

    __tablename__ = "policy_versions"

    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("policy_documents.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, 3 ... in order of publication
    number: Mapped[int] = mapped_column(Integer)
    #: the school's label, e.g. "v3" or "September 2026"
    label: Mapped[str] = mapped_column(String(60))
    #: acknowledgements of any version of the same round count for this one
    round: Mapped[int] = mapped_column(Integer)
    #: whether this version changed the document materially (the first version always counts as material)
    material: Mapped[bool] = mapped_column(Boolean, default=True)
    #: what changed, in the lead's words
    change_note: Mapped[str] = mapped_column(Text, default="")
    #: the document as text (empty when it is a file)
    body: Mapped[str] = mapped_column(Text, default="")
    #: the document as a file, checked and stored like any evidence file
    file_name: Mapped[str] = mapped_column(String(300), default="")
    stored_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    #: SHA-256 of the exact content: the file's bytes, or the text as UTF-8
    sha256: Mapped[str] = mapped_column(String(64))
    #: the day by which the audience should have acknowledged it
    deadline: Mapped[date] = mapped_column(Date)
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    document = relationship("PolicyDocument", back_populates="versions")
    published_by = relationship("User", foreign_keys=[published_by_id])

    @property
    def is_file(self):
        return bool(self.stored_name)

    def audit_view(self):
        return {
            "document": self.document.title if self.document else None,
            "number": self.number,
            "label": self.label,
            "round": self.round,
            "material": self.material,
            "sha256": self.sha256,
            "file": self.file_name or None,
            "deadline": self.deadline.isoformat(),
            "withdrawn": self.withdrawn_at is not None,
        }


class PolicyAcknowledgement(SchoolScoped, db.Model):
    """One adult's acknowledgement of one version: append-only (never changed or deleted)."""

    __tablename__ = "policy_acknowledgements"

    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("policy_documents.id", ondelete="CASCADE")
    )
    version_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("policy_versions.id", ondelete="CASCADE"))
    #: the register entry, when the adult is on the register
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("people.id", ondelete="SET NULL"), nullable=True, index=True
    )
    #: the member account that acknowledged (self), when there is one
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: the name as it was when they acknowledged (kept if the person or account goes)
    name: Mapped[str] = mapped_column(String(200))
    #: the SHA-256 of the version acknowledged
    sha256: Mapped[str] = mapped_column(String(64))
    #: self (the member pressed the button) or sheet (entered from a paper sign sheet)
    method: Mapped[str] = mapped_column(String(10), default=SELF)
    #: the day they signed (the sign sheet's date; for self, the school's date)
    signed_on: Mapped[date] = mapped_column(Date)
    #: who entered a sign-sheet line (HR or the lead)
    entered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version = relationship("PolicyVersion")
    entered_by = relationship("User", foreign_keys=[entered_by_id])

    __table_args__ = (Index("ix_policy_acknowledgements_school_id_document_id", "school_id", "document_id"),)

    def audit_view(self):
        return {
            "name": self.name,
            "person": str(self.person_id) if self.person_id else None,
            "method": self.method,
            "signed_on": self.signed_on.isoformat(),
            "sha256": self.sha256,
        }
