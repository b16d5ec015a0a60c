"""Account services: sign-in and sign-out, password changes and resets. Callers commit."""
import hashlib

from flask import current_app, request
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import audit
from ..db import db, utcnow
from .models import LoginSession, User, token_digest
from .passwords import check_password, hash_password


def find_user(email: str) -> User | None:
    return db.session.execute(db.select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose password matches, recording the attempt either way."""
    user = find_user(email)
    ok = check_password(user, password) and user is not None and user.active
    audit.record("auth.sign_in" if ok else "auth.sign_in_failed", actor=user if ok else None,
                 actor_email=email[:254], subject=user if ok else None)
    return user if ok else None


def sign_in(user: User, remember: bool = False) -> None:
    """Open a server-side session for this browser and set the cookies."""
    user.session_token = LoginSession.open(
        user, ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", "")
    )
    login_user(user, remember=remember)


def load_session_user(token: str) -> User | None:
    """Flask-Login loader: the user behind a live session token, else None."""
    row = db.session.get(LoginSession, token_digest(token))
    if row is None or not row.user.active:
        return None
    row.user.session_token = token
    return row.user


def sign_out(user: User) -> None:
    """End this browser's session: the old session and remember cookies stop working."""
    if user.session_token:
        db.session.execute(db.delete(LoginSession).where(LoginSession.token_hash == token_digest(user.session_token)))
    audit.record("auth.sign_out", actor=user, subject=user)
    logout_user()


def end_all_sessions(user: User) -> None:
    db.session.execute(db.delete(LoginSession).where(LoginSession.user_id == user.id))


def set_password(user: User, password: str, *, reason: str) -> None:
    """Set a new password, end every session of the user and record it."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    audit.record(f"auth.password_{reason}", actor=user, subject=user)


def _reset_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user: User) -> str:
    # Changes whenever the password does, so a used link (or one older than a change) is void.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": str(user.id), "p": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """The user a reset link belongs to, if it is genuine, unexpired and unused."""
    max_age = current_app.config["TRACKER_RESET_MINUTES"] * 60
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.execute(db.select(User).where(User.id == _uuid_or_none(data.get("u")))).scalar_one_or_none()
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        return None
    return user


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
