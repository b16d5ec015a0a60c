"""Account services: sign-in and sign-out, session expiry and pruning, password changes and resets.

Callers commit, except the session loader: it commits its own last-seen update or expiry at once, since it
runs on pages (GETs) that otherwise never commit.
"""

import hashlib
import logging
import uuid
from datetime import timedelta
from functools import cache

from flask import current_app, flash, g, has_request_context, request, session
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import contains_eager, lazyload
from sqlalchemy.orm.util import identity_key

from .. import audit
from ..db import db, utcnow
from ..links import external_url
from ..mail import queue_mail
from ..passwords import check_password, hash_password
from ..tenancy import Membership, School, keep_memberships, wants_memberships
from .models import LoginSession, User, token_digest

log = logging.getLogger(__name__)

#: a session's last-seen time is written at most this often, so reading pages does not write every time
TOUCH_EVERY = timedelta(minutes=5)
SESSION_EXPIRED_MESSAGE = (
    "Your session has expired, so you have been signed out to keep the school's "
    "records safe. Sign in again to carry on."
)


def find_user(email: str) -> User | None:
    return db.session.execute(db.select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose password matches, recording the attempt either way."""
    user = find_user(email)
    ok = check_password(user, password) and user is not None and user.active
    audit.record(
        "auth.sign_in" if ok else "auth.sign_in_failed",
        actor=user if ok else None,
        actor_email=email[:254],
        subject=user if ok else None,
    )
    return user if ok else None


def sign_in(user: User, remember: bool = False) -> None:
    """Open a server-side session for this browser and set the cookies."""
    user.session_token = LoginSession.open(
        user,
        ip=request.remote_addr or "",
        remembered=remember,
        user_agent=request.headers.get("User-Agent", ""),
    )
    login_user(user, remember=remember)


def session_limits() -> tuple[timedelta, timedelta, timedelta]:
    """(idle limit, idle limit with "keep me signed in", absolute lifetime) from the settings."""
    config = current_app.config
    return (
        timedelta(minutes=config["TRACKER_SESSION_IDLE_MINUTES"]),
        timedelta(days=config["TRACKER_SESSION_REMEMBER_IDLE_DAYS"]),
        timedelta(days=config["TRACKER_SESSION_MAX_DAYS"]),
    )


def session_expired(row: LoginSession, now) -> bool:
    """True when the session has been idle too long or has reached its absolute lifetime."""
    idle, remembered_idle, lifetime = session_limits()
    if now - row.created_at >= lifetime:
        return True
    return now - row.last_seen_at >= (remembered_idle if row.remembered else idle)


@cache
def _session_row_statement():
    """The session row and its user (LoginSession.user is joined), built once: Session.get builds its
    statement anew on every call."""
    return select(LoginSession).where(LoginSession.token_hash == bindparam("token_hash"))


@cache
def _session_row_and_memberships_statement():
    """The session row and its user, with every membership of that user and its school (schools by name, as
    tenancy reads them; none, one row with no membership): a school page's first statement, built once."""
    return (
        select(LoginSession, Membership)
        .outerjoin(Membership, Membership.user_id == LoginSession.user_id)
        .outerjoin(School, School.id == Membership.school_id)
        .options(contains_eager(Membership.school), lazyload(Membership.user))
        .where(LoginSession.token_hash == bindparam("token_hash"))
        .order_by(School.name, School.id)
    )


def _session_row(digest: str) -> tuple[LoginSession | None, list | None]:
    """What `db.session.get(LoginSession, digest)` gives, for less: a row this session already holds is the
    one returned (through Session.get, as before); otherwise one SELECT by primary key. On a school page the
    same SELECT reads the user's memberships too, which the page reads next (tenancy.load_school): returned
    second (None when not read)."""
    if identity_key(LoginSession, digest) in db.session.identity_map:
        return db.session.get(LoginSession, digest), None
    if not wants_memberships():
        return db.session.execute(_session_row_statement(), {"token_hash": digest}).scalar_one_or_none(), None
    rows = db.session.execute(_session_row_and_memberships_statement(), {"token_hash": digest}).all()
    if not rows:
        return None, None
    return rows[0][0], [membership for _, membership in rows if membership is not None]


def load_session_user(token: str) -> User | None:
    """Flask-Login loader (session cookie and remember cookie alike): the user behind a live session token,
    else None. An aged session is deleted and refused; a live one has its last-seen time moved on, at most
    every TOUCH_EVERY. The memberships read with the session row are kept for the request
    (tenancy.keep_memberships), unless that write committed (and so expired them)."""
    row, memberships = _session_row(token_digest(token))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if session_expired(row, now):
        _end_expired_session(row)
        return None
    user = row.user
    if now - row.last_seen_at >= TOUCH_EVERY and _nothing_else_pending(row):
        _write_quietly("last-seen time", lambda: setattr(row, "last_seen_at", now))
    elif memberships is not None:
        keep_memberships(user.id, memberships)
    user.session_token = token
    return user


def _nothing_else_pending(row: LoginSession) -> bool:
    """The loader commits its own write only when the request has changed nothing yet (it runs first, see
    load_user_first in auth/__init__.py), so it never commits half of someone's change; otherwise the write
    is left to a later request."""
    orm = db.session
    return not orm.new and not orm.deleted and all(obj is row for obj in orm.dirty)


def _end_expired_session(row: LoginSession) -> None:
    user = row.user

    def end():
        gone = db.session.execute(db.delete(LoginSession).where(LoginSession.token_hash == row.token_hash))
        if gone.rowcount:  # two requests racing on one expired session record it once
            audit.record("auth.session_expired", actor=user, subject=user)

    if _nothing_else_pending(row):
        _write_quietly("expiry", end)
    if has_request_context():
        session.pop("_user_id", None)
        session["_remember"] = "clear"  # Flask-Login deletes the remember cookie on the way out
        flash(SESSION_EXPIRED_MESSAGE, "info")
        g.session_expired = True  # the sign-in redirect then adds no second message (auth/__init__.py)


def _write_quietly(what: str, write) -> None:
    """Make and commit the loader's own write; if the database is busy, give up: the session is refused or
    kept all the same, and the write happens on a later request (or the pruning job)."""
    try:
        write()
        db.session.commit()
    except OperationalError as exc:
        db.session.rollback()
        log.warning("session %s not saved, will retry later: %s", what, exc.orig)


def prune_sessions(now=None) -> int:
    """Delete every expired session row; return how many went. Run by the scheduler and `sessions prune`."""
    now = now or utcnow()
    idle, remembered_idle, lifetime = session_limits()
    expired = or_(
        LoginSession.created_at <= now - lifetime,
        and_(LoginSession.remembered.is_(False), LoginSession.last_seen_at <= now - idle),
        and_(LoginSession.remembered.is_(True), LoginSession.last_seen_at <= now - remembered_idle),
    )
    count = db.session.execute(db.delete(LoginSession).where(expired)).rowcount
    if count:
        audit.record("auth.sessions_pruned", after={"count": count})
    return count


def sign_out(user: User) -> None:
    """End this browser's session: the old session and remember cookies stop working."""
    if user.session_token:
        db.session.execute(
            db.delete(LoginSession).where(LoginSession.token_hash == token_digest(user.session_token))
        )
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


def queue_reset_mail(user: User) -> None:
    """Queue the password-reset e-mail for `user` (tracker/mail.py: the outbox, no school's page; the link
    is never logged) and record the request. Flushes only."""
    minutes = current_app.config["TRACKER_RESET_MINUTES"]
    now = utcnow()
    queue_mail(
        to=user.email,
        subject="Choose a new password for the Safeguarding Tracker",
        template="auth/email/password_reset",
        kind="password_reset",
        key=f"password-reset:{uuid.uuid4()}",
        user=user,
        name=user.display_name,
        schools=", ".join(sorted(m.school.name for m in user.memberships)),
        minutes=minutes,
        expires_at=now + timedelta(minutes=minutes),
        link=external_url("auth.reset_password", token=make_reset_token(user)),  # never the Host header
    )
    audit.record("auth.password_reset_requested", actor=None, subject=user)


def user_for_reset_token(token: str) -> User | None:
    """The user a reset link belongs to, if it is genuine, unexpired and unused."""
    max_age = current_app.config["TRACKER_RESET_MINUTES"] * 60
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.execute(
        db.select(User).where(User.id == _uuid_or_none(data.get("u")))
    ).scalar_one_or_none()
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        return None
    return user


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
