"""Reminder settings, the e-mail outbox, each school's digest state and calendar feed tokens."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import SchoolScoped, UTCDateTime, db, utcnow

DAILY, WEEKLY, OFF = "daily", "weekly", "off"
FREQUENCIES = (DAILY, WEEKLY, OFF)
FREQUENCY_LABELS = {
    DAILY: "Every morning (daily digest)",
    WEEKLY: "Once a week, on Monday mornings",
    OFF: "Off: no reminder e-mails",
}

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MESSAGE_STATUSES = (PENDING, SENDING, SENT, FAILED)
MESSAGE_STATUS_LABELS = {PENDING: "Pending", SENDING: "Sending", SENT: "Sent", FAILED: "Failed"}


class ReminderSetting(SchoolScoped, db.Model):
    """How often one member of a school gets the digest; no row means daily."""

    __tablename__ = "reminder_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    #: daily, weekly or off
    frequency: Mapped[str] = mapped_column(String(10), default=DAILY)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("school_id", "user_id"),)


class DigestState(SchoolScoped, db.Model):
    """The last local date a school's digests were built: missed days are never built one by one."""

    __tablename__ = "digest_states"

    #: in the school's timezone; a run builds digests only when this is before today
    last_digest_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("school_id"),)


class OutboxMessage(SchoolScoped, db.Model):
    """One e-mail to send. Written in the transaction that decides it; a sender claims and delivers it."""

    __tablename__ = "outbox_messages"

    #: the school whose outbox shows it; empty only for a password-reset e-mail (tracker/mail.py), which
    #: belongs to the person, not to a school, and so appears on no school's outbox page
    school_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("schools.id", ondelete="CASCADE"), nullable=True, index=True
    )
    #: unique within the school, e.g. "digest:<user id>:<date>": building twice adds nothing
    idempotency_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="digest")
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: the school-local date the digest is for
    digest_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: pending, sending (claimed by a sender), sent, failed (permanent, or out of attempts)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the claim of the sender working on it, so only that sender records the outcome
    claim_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the last SMTP reply or connection error, shown to the lead
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("school_id", "idempotency_key"),
        Index("ix_outbox_messages_school_id_status_created_at", "school_id", "status", "created_at"),
        # the sender works across schools, so its index cannot start with school_id
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    @property
    def status_label(self):
        return MESSAGE_STATUS_LABELS[self.status]

    @property
    def message_id(self):
        """A stable Message-ID: a resend after a crash carries the same one, so it can be recognised."""
        return f"<{self.idempotency_key.replace(':', '.')}.{self.school_id}@tracker>"

    def audit_view(self):
        return {
            "to": self.to_address,
            "subject": self.subject,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


class CalendarFeed(SchoolScoped, db.Model):
    """A member's private calendar feed of one school. Only the SHA-256 of its token is stored."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    #: random; with the app's secret key it re-derives the token, so the link can be shown again
    salt: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the token; a fetch looks the feed up by it
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("school_id", "user_id"),)
