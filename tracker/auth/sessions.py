"""The signed-in user's own sessions ("My sessions"): every signed-in device, and signing one or all the
others out. Deleting a session row signs that browser out at its next request (services.load_session_user).
Services flush and audit; the view commits."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .. import audit
from ..db import db
from ..transactions import DomainError
from .devices import describe
from .models import LoginSession, User, token_digest


class SessionError(DomainError):
    """A session that cannot be signed out from here; the message says why."""


def public_id(row: LoginSession) -> str:
    """The session's name in addresses: derived from the stored hash, it cannot be used to sign in."""
    return hashlib.sha256(f"session:{row.token_hash}".encode()).hexdigest()[:24]


@dataclass
class SessionLine:
    id: str
    device: str
    ip: str
    signed_in_at: datetime
    last_seen_at: datetime
    remembered: bool
    current: bool


def _rows(user: User) -> list[LoginSession]:
    return (
        db.session.execute(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.created_at.desc())
        )
        .scalars()
        .all()
    )


def _current_hash(user: User) -> str | None:
    return token_digest(user.session_token) if user.session_token else None


def my_sessions(user: User) -> list[SessionLine]:
    """Every live session of `user`, this device first, then by last use."""
    current = _current_hash(user)
    lines = [
        SessionLine(
            id=public_id(row),
            device=describe(row.user_agent),
            ip=row.ip or "unknown address",
            signed_in_at=row.created_at,
            last_seen_at=row.last_seen_at,
            remembered=row.remembered,
            current=row.token_hash == current,
        )
        for row in _rows(user)
    ]
    return sorted(lines, key=lambda line: not line.current)


def _revoke(user: User, row: LoginSession) -> None:
    db.session.delete(row)
    db.session.flush()
    audit.record(
        "auth.session_revoked",
        actor=user,
        subject=user,
        before={
            "device": describe(row.user_agent),
            "ip": row.ip,
            "signed_in_at": row.created_at.isoformat(),
        },
    )


def revoke_session(user: User, session_id: str) -> str:
    """Sign out one other session of `user`; returns its device in words. Flushes only."""
    current = _current_hash(user)
    for row in _rows(user):
        if public_id(row) == session_id:
            if row.token_hash == current:
                raise SessionError("That is this device. To sign out here, use “Sign out” at the top.")
            device = describe(row.user_agent)
            _revoke(user, row)
            return device
    raise SessionError("That session has already ended (signed out or expired).")


def revoke_other_sessions(user: User) -> int:
    """Sign out every session of `user` except this one; returns how many. Flushes only."""
    current = _current_hash(user)
    others = [row for row in _rows(user) if row.token_hash != current]
    for row in others:
        _revoke(user, row)
    return len(others)
