"""Evidence attached to items: files kept outside the web root, or links; and `Verifiable`, the verification
state that evidence and self-submitted training share (pending until HR or the lead verifies it)."""

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

FILE, LINK = "file", "link"

VERIFIED, PENDING, REJECTED = "verified", "pending", "rejected"
VERIFICATION_LABELS = {
    VERIFIED: "Verified",
    PENDING: "Pending verification",
    REJECTED: "Rejected",
}
MAX_REASON_CHARS = 500


class Verifiable:
    """Something a staff member submitted that counts only once HR or the lead verified it.

    Rows added by a lead, head or HR are verified at once; a staff member's own uploads start pending. Only
    verified rows count (coverage, reports, "done"); a rejected row keeps its reason for the uploader."""

    #: verified (counts), pending (waits for HR or the lead) or rejected (see rejected_reason)
    verification: Mapped[str] = mapped_column(String(10), default=VERIFIED, server_default=VERIFIED)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rejected_reason: Mapped[str] = mapped_column(String(MAX_REASON_CHARS), default="", server_default="")

    @declared_attr
    def reviewed_by_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    @declared_attr
    def reviewed_by(cls):
        return relationship("User", foreign_keys=f"{cls.__name__}.reviewed_by_id")

    @property
    def is_verified(self) -> bool:
        return self.verification == VERIFIED

    @property
    def is_pending(self) -> bool:
        return self.verification == PENDING

    @property
    def is_rejected(self) -> bool:
        return self.verification == REJECTED

    @property
    def verification_label(self) -> str:
        return VERIFICATION_LABELS.get(self.verification, self.verification)


class Evidence(Verifiable, SchoolScoped, db.Model):
    __tablename__ = "evidence"

    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    #: file or link
    kind: Mapped[str] = mapped_column(String(10))
    #: the display name: the checked file name, or the link's title
    name: Mapped[str] = mapped_column(String(300))
    #: generated name on disk (32 hex characters); the user's file name is never used on disk
    stored_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    #: the date the evidence applies to (e.g. the training day), as the uploader states it
    applies_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User", lazy="joined", foreign_keys=[uploaded_by_id])

    def audit_view(self):
        return {
            "evidence": self.name,
            "kind": self.kind,
            "sha256": self.sha256 or None,
            "url": self.url or None,
            "applies_on": self.applies_on.isoformat() if self.applies_on else None,
            "verification": self.verification,
        }
