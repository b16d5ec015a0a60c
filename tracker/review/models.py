"""Accreditor queries on items: a thread of messages with a state (open, answered, closed)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
STATES = (OPEN, ANSWERED, CLOSED)
STATE_LABELS = {OPEN: "Open", ANSWERED: "Answered", CLOSED: "Closed"}


class ReviewQuery(SchoolScoped, db.Model):
    """A question an accreditor raises about one item; the school answers in the same thread."""

    __tablename__ = "review_queries"

    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("items.id", ondelete="CASCADE"))
    #: open (waiting for the school), answered (waiting for the accreditor) or closed
    state: Mapped[str] = mapped_column(String(20), default=OPEN)
    raised_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("Item", lazy="joined")
    raised_by = relationship("User", lazy="joined")
    messages = relationship(
        "ReviewMessage",
        order_by="ReviewMessage.created_at",
        back_populates="thread",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index("ix_review_queries_school_id_item_id", "school_id", "item_id"),
        Index("ix_review_queries_school_id_state", "school_id", "state"),
    )

    @property
    def state_label(self):
        return STATE_LABELS[self.state]

    def audit_view(self):
        return {"item": self.item.title if self.item else str(self.item_id), "state": self.state}


class ReviewMessage(SchoolScoped, db.Model):
    __tablename__ = "review_messages"

    query_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("review_queries.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: the author's role when writing, so the thread reads "accreditor" / "school" after roles change
    author_role: Mapped[str] = mapped_column(String(20))
    #: plain text, never rendered as HTML
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User", lazy="joined")
    thread = relationship("ReviewQuery", back_populates="messages")
