"""Retention rows: a school's rules, holds on records, files to delete once a removal committed, and the
tombstones that say a record was removed (who, when, why; never what it held)."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

#: what a hold or a tombstone is about
PERSON, CHECK, YEAR = "person", "check", "year"
RECORD_TYPES = (PERSON, CHECK, YEAR)
#: what a tombstone says was done
PSEUDONYMISED, ERASED, CERTIFICATES_REMOVED, PROGRAMME_REMOVED = (
    "pseudonymised",
    "erased",
    "certificates_removed",
    "programme_removed",
)


class RetentionRule(SchoolScoped, db.Model):
    """A school's own period for one kind of record (tracker/retention/rules.py lists the kinds)."""

    __tablename__ = "retention_rules"

    kind: Mapped[str] = mapped_column(String(30))
    #: kept this many months after the record's starting date (leaving, the check's verification, year end)
    months: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("school_id", "kind"),)


class RetentionHold(SchoolScoped, db.Model):
    """A lead's hold on one record: nothing of it is removed while the hold stands (lifted_at empty)."""

    __tablename__ = "retention_holds"

    #: person, check (an item) or year
    record_type: Mapped[str] = mapped_column(String(20))
    #: no foreign key: the hold outlives nothing, but must not block a school's deletion either
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(String(500))
    placed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    placed_by = relationship("User", foreign_keys=[placed_by_id])

    __table_args__ = (Index("ix_retention_holds_school_id_record_id", "school_id", "record_id"),)

    def audit_view(self):
        return {"record_type": self.record_type, "record_id": str(self.record_id), "reason": self.reason}


class PendingFileDeletion(SchoolScoped, db.Model):
    """An evidence file whose row a committed removal deleted; the file goes after the commit, and a re-run
    finishes what a crash left (the row is deleted with the file)."""

    __tablename__ = "pending_file_deletions"

    stored_name: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tombstone(SchoolScoped, db.Model):
    """A record removed by a rule or erased by a lead or HR: what kind, when, who, why. No personal data."""

    __tablename__ = "retention_tombstones"

    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: pseudonymised, erased, certificates_removed, programme_removed
    action: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: who erased it; empty for the daily job
    by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: how many rows and files went, by kind
    counts: Mapped[dict] = mapped_column(JSON, default=dict)

    by = relationship("User")

    __table_args__ = (Index("ix_retention_tombstones_school_id_record_id", "school_id", "record_id"),)
