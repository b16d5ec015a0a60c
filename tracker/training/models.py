"""Training sessions: one record for everyone who attended, with expiry from the activity's repeat rule."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow
from ..evidence.models import Verifiable


class TrainingSession(Verifiable, SchoolScoped, db.Model):
    """A session, or a certificate a member submitted for themselves (one attendee, pending until HR or the
    lead verifies it: only verified sessions count in coverage and reports)."""

    __tablename__ = "training_sessions"

    #: the training-plan activity (requirement key, stable across framework versions)
    requirement_key: Mapped[str] = mapped_column(String(80))
    requirement_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("requirements.id", ondelete="SET NULL"), nullable=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    #: the certificate or attendance sheet, checked and stored like any evidence file
    certificate_name: Mapped[str] = mapped_column(String(300), default="")
    certificate_stored: Mapped[str | None] = mapped_column(String(32), nullable=True)
    certificate_sha256: Mapped[str] = mapped_column(String(64), default="")
    certificate_type: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requirement = relationship("Requirement")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    attendances = relationship("TrainingAttendance", cascade="all, delete-orphan", back_populates="session")


class TrainingAttendance(SchoolScoped, db.Model):
    __tablename__ = "training_attendances"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )

    session = relationship("TrainingSession", back_populates="attendances")
    person = relationship("Person")

    __table_args__ = (UniqueConstraint("session_id", "person_id"),)
