"""A school's archive being made in the background, and the ZIP it left (kept for a while, then removed)."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"


class ArchiveJob(SchoolScoped, db.Model):
    """One archive of a school: its progress while it is made, then where its ZIP is kept until it expires.

    The ZIP lives on disk (TRACKER_ARCHIVE_DIR/<school id hex>/<stored_name>.zip), not in the database: it
    holds the school's every row and file, and must not be copied into every backup."""

    __tablename__ = "archive_jobs"

    #: queued, running, done, failed or expired (its file removed)
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    #: 0-100, shown while the job runs
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    #: generated file name on disk (32 hex characters); empty until the ZIP is written
    stored_name: Mapped[str] = mapped_column(String(32), default="")
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    #: SHA-256 of the ZIP, shown beside the download so a kept copy can be checked
    sha256: Mapped[str] = mapped_column(String(64), default="")
    #: the school's audit anchor ("SEQ:HASH") written in the archive's manifest
    anchor: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: when the ZIP is removed (TRACKER_ARCHIVE_KEEP_DAYS after it was made)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_by = relationship("User")

    __table_args__ = (Index("ix_archive_jobs_school_id_created_at", "school_id", "created_at"),)

    @property
    def filename(self):
        return f"archive-{self.created_at:%Y%m%d-%H%M}.zip"

    def audit_view(self):
        return {
            "status": self.status,
            "sha256": self.sha256 or None,
            "size": self.size,
            "anchor": self.anchor,
        }
