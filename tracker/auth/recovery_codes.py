"""One-time recovery codes: ten at a time, shown once, stored as SHA-256 digests; each signs in once when the
phone or key is lost. They are a fallback, not a method of their own (second_factor.py)."""

import hashlib
import re
import secrets

from .. import audit
from ..db import db, utcnow
from .models import User
from .two_factor_models import RecoveryCode

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt


def _normal(code: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (code or "").lower())


def _digest(code: str) -> str:
    return hashlib.sha256(f"recovery:{_normal(code)}".encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def remaining(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def remove(user: User) -> None:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def generate(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones and return them (the only time they are seen)."""
    remove(user)
    now = utcnow()
    codes = [_new_code() for _ in range(COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(c), created_at=now) for c in codes)
    db.session.flush()
    audit.record("auth.recovery_codes_generated", actor=user, subject=user, after={"count": COUNT})
    return codes


def use(user: User, code: str) -> bool:
    """Spend `code` if it is one of the user's unused codes (audited `auth.recovery_code_used`)."""
    if len(_normal(code)) != 10:
        return False
    row = db.session.execute(
        db.select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return False
    row.used_at = utcnow()
    db.session.flush()
    audit.record("auth.recovery_code_used", actor=user, subject=user, after={"left": remaining(user)})
    return True
