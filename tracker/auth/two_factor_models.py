"""What a second factor keeps: a user's authenticator-app (TOTP) secret and their one-time recovery codes.
Passkeys keep their own table (the passkey work)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, UUIDPk, db, utcnow


class TotpCredential(db.Model):
    """A user's authenticator app: one per user, written once its first code was confirmed."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: base32 secret shared with the app (RFC 6238)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the 30-second time step of the last code accepted: a code is never accepted twice
    last_counter: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(UUIDPk, db.Model):
    """One of a user's one-time recovery codes; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
