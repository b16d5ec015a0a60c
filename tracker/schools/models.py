"""Invitations to join a school."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow


class Invitation(SchoolScoped, db.Model):
    """A signed, single-use, expiring link that makes its holder a member with a role."""

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    #: for accreditors: the last day their access works
    access_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: SHA-256 of the random token in the link; the link itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    school = relationship("School", lazy="joined")
    invited_by = relationship("User")

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "pending" if self.expires_at > utcnow() else "expired"

    def audit_view(self) -> dict:
        return {
            "email": self.email,
            "role": self.role,
            "access_until": self.access_until.isoformat() if self.access_until else None,
        }
