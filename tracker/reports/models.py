"""Generated PDF reports: cached drafts, background jobs and the frozen report of a signed-off year."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

ACCREDITATION, FRAMEWORK, REGISTER, TRAINING_RECORD = (
    "accreditation",
    "framework",
    "register",
    "training_record",
)
KINDS = (ACCREDITATION, FRAMEWORK, REGISTER, TRAINING_RECORD)
KIND_LABELS = {
    ACCREDITATION: "Accreditation report",
    FRAMEWORK: "Framework report",
    REGISTER: "Recruitment register",
    TRAINING_RECORD: "Training record",
}
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Report(SchoolScoped, db.Model):
    """One rendered (or rendering) PDF. A frozen report is never changed or removed by the app.

    The PDF bytes live in the database: a frozen report commits in the same transaction as the sign-off and
    its audit event, is backed up with the database, and a rolled-back request leaves no file behind.
    """

    __tablename__ = "reports"

    kind: Mapped[str] = mapped_column(String(20))
    year_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("school_years.id", ondelete="CASCADE"), nullable=True
    )
    #: what the report is about beyond the year: a framework key or a person id; "" for whole-year reports
    subject: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(300))
    #: SHA-256 of the data the report shows (the cache key together with school, kind and subject)
    data_hash: Mapped[str] = mapped_column(String(64))
    #: the school's audit-chain head (and date) when this draft was last known current: a cheap cache check
    change_stamp: Mapped[str] = mapped_column(String(64), default="", server_default="")
    #: the report at the head's sign-off: kept as it was, whatever changes later
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    #: queued, running, done or failed (background jobs); small reports are done when the row is written
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    #: 0-100, shown while a background job runs
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    #: SHA-256 of the PDF bytes, shown beside a signed report so a filed copy can be checked
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_by = relationship("User")
    year = relationship("SchoolYear")

    __table_args__ = (
        Index("ix_reports_school_id_kind_subject_data_hash", "school_id", "kind", "subject", "data_hash"),
        Index("ix_reports_school_id_year_id_frozen", "school_id", "year_id", "frozen"),
    )

    @property
    def filename(self):
        base = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in self.title)[:80].strip("-")
        return f"{base or 'report'}{'-signed' if self.frozen else ''}.pdf"

    def audit_view(self):
        return {
            "kind": self.kind,
            "title": self.title,
            "frozen": self.frozen,
            "data_hash": self.data_hash,
            "pdf_sha256": self.pdf_sha256 or None,
            "pages": self.pages,
        }
