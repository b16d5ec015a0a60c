"""Accounts and their server-side sign-in sessions."""

import hashlib
import secrets
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, UUIDPk, db, utcnow


class User(UUIDPk, UserMixin, db.Model):
    __tablename__ = "users"

    #: stored lower-cased; the sign-in name
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: argon2id hash; empty until the person accepts an invitation
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    #: set by sign-in or the session loader; Flask-Login puts it in the session and remember cookie
    session_token = None

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        # The cookie carries the sign-in session, not the user id: revoking the session row
        # (logout, password change, removal) makes every copy of the old cookies useless.
        return self.session_token

    @property
    def display_name(self):
        return self.name or self.email


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginSession(db.Model):
    """One signed-in browser. Deleting the row signs that browser out, cookies and all."""

    __tablename__ = "login_sessions"

    #: SHA-256 of the random token held in the cookie; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: last request seen with this session, updated at most every few minutes (services.TOUCH_EVERY)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: opened with "keep me signed in": a longer idle limit applies (TRACKER_SESSION_REMEMBER_IDLE_DAYS)
    remembered: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    #: when this session last confirmed who it is (signing in, or the step-up page: auth/step_up.py)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    @classmethod
    def open(cls, user, ip="", user_agent="", remembered=False):
        """Create a session row for `user` and return its raw token."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        db.session.add(
            cls(
                token_hash=token_digest(token),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                confirmed_at=now,
                remembered=remembered,
                ip=ip,
                user_agent=user_agent[:255],
            )
        )
        return token
