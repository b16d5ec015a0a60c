"""Evidence attached to items: files kept outside the web root, or links."""

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

FILE, LINK = "file", "link"


class Evidence(SchoolScoped, db.Model):
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

    uploaded_by = relationship("User", lazy="joined")

    def audit_view(self):
        return {
            "evidence": self.name,
            "kind": self.kind,
            "sha256": self.sha256 or None,
            "url": self.url or None,
            "applies_on": self.applies_on.isoformat() if self.applies_on else None,
        }
