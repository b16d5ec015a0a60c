"""A document behind a library resource: the installation's copy (school_id empty) or a school's own copy or
translation. Each is a checked file (stored like evidence) or a web address."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, UUIDPk, db, utcnow

FILE, LINK = "file", "link"


class ResourceFile(UUIDPk, db.Model):
    __tablename__ = "resource_files"

    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("resources.id", ondelete="CASCADE"))
    #: the school whose copy this is; empty for the installation's copy (one per shared resource)
    school_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("schools.id", ondelete="CASCADE"), nullable=True, index=True
    )
    #: file or link
    kind: Mapped[str] = mapped_column(String(10))
    #: what a school's copy is, e.g. "Thai translation"; empty for the installation's copy
    label: Mapped[str] = mapped_column(String(200), default="")
    #: language code from the library's vocabulary (tracker/library/vocabulary.py); empty when not given
    language: Mapped[str] = mapped_column(String(20), default="")
    #: the checked file name (download name) or the address shown
    name: Mapped[str] = mapped_column(String(300))
    #: generated name on disk (32 hex characters)
    stored_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource = relationship("Resource", lazy="joined")

    __table_args__ = (Index("ix_resource_files_resource_id_school_id", "resource_id", "school_id"),)

    @property
    def is_file(self):
        return self.kind == FILE

    def audit_view(self):
        return {
            "resource": self.resource.key if self.resource else None,
            "kind": self.kind,
            "name": self.name,
            "label": self.label or None,
            "language": self.language or None,
            "sha256": self.sha256 or None,
            "url": self.url or None,
        }
