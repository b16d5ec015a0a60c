"""Step-up: an act that matters (signing off a year, changing a member's role or removing them, exporting the
recruitment register) asks for the second factor (or the password, for someone without one) again when the
last one was more than `TRACKER_STEP_UP_MINUTES` ago.

CONTRACT (shared by the two-factor, passkey and register work; keep these names and signatures):

- `@step_up_required(purpose)`: a view decorator, placed *under* the access decorator. When the signed-in
  user's last confirmation is too old it redirects to the confirmation page with `next` (a GET) or refuses
  the POST with a redirect back and a message; otherwise the view runs. `fn.step_up_purpose = purpose`.
- `recently_confirmed() -> bool`: whether the last confirmation is recent enough.
- `mark_confirmed(method)`: a confirmation handler (TOTP, recovery code, passkey, password) calls this after
  success; it records the time in the session and audits `auth.step_up` with the method.

The time is kept on the sign-in session's row (`LoginSession.confirmed_at`): opening a session (the password,
or the password and the second factor) counts as a confirmation, and signing out anywhere ends it.
`@step_up_required(purpose, inline=True)`: a POST is let through even when the confirmation is stale, because
the view's own form asks for the code or password (the head's sign-off, `confirm_inline`).
`@step_up_required(purpose, writes_only=True)`: its page (a GET) opens freely; only its form asks.
"""

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from .. import audit
from ..db import db, utcnow
from ..passwords import check_password
from . import recovery_codes, totp
from .models import LoginSession, token_digest
from .second_factor import enrolled_methods

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
AGAIN = "Confirm it's you, then do that again."


def _row() -> LoginSession | None:
    token = getattr(current_user, "session_token", None) if current_user.is_authenticated else None
    return db.session.get(LoginSession, token_digest(token)) if token else None


def recently_confirmed() -> bool:
    row = _row()
    if row is None or row.confirmed_at is None:
        return False
    minutes = current_app.config["TRACKER_STEP_UP_MINUTES"]
    return utcnow() - row.confirmed_at < timedelta(minutes=minutes)


def mark_confirmed(method: str) -> None:
    row = _row()
    if row is not None:
        row.confirmed_at = utcnow()
    audit.record("auth.step_up", actor=current_user, subject=current_user, after={"method": method})


def confirmation_kind(user) -> str:
    """What the confirmation asks this user for: "code" (authenticator app or recovery code), "passkey"
    (their only method; a recovery code works too) or "password" (no second factor)."""
    enrolled = enrolled_methods(user)
    if "totp" in enrolled:
        return "code"
    return "passkey" if enrolled else "password"


def confirm_inline(user, value: str, *, purpose: str, school=None) -> str | None:
    """Check a confirmation typed into a form (a code for someone with an authenticator app, else a recovery
    code or the password for someone with no second factor); record it. The method that passed, or None."""
    value = (value or "").strip()
    kind = confirmation_kind(user)
    method = None
    if kind == "password":
        if value and check_password(user, value):
            method = "password"
    elif value and totp.has_totp(user) and totp.verify(user, value):
        method = "totp"
    elif value and recovery_codes.use(user, value):
        method = "recovery-code"
    if method is None:
        audit.record(
            "auth.step_up_failed",
            school=school,
            actor=user,
            actor_email=user.email[:254],
            subject=user,
            after={"purpose": purpose, "kind": kind},
        )
        return None
    mark_confirmed(method)
    return method


def _opens_with_get(path: str) -> bool:
    try:
        current_app.url_map.bind(request.host).match(path, method="GET")
    except HTTPException:
        return False
    return True


def _back_to_form() -> str:
    """The page the refused form was on (this site's own referrer), else the page the form was sent to when it
    opens with a GET, else the start page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return request.path if _opens_with_get(request.path) else url_for("picker.index")


def step_up_required(purpose: str, *, inline: bool = False, writes_only: bool = False):
    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            reading = request.method in SAFE_METHODS
            if recently_confirmed() or (inline and not reading) or (writes_only and reading):
                return fn(*args, **kwargs)
            if request.method in SAFE_METHODS:
                return redirect(url_for("auth.confirm", next=request.full_path.rstrip("?")))
            flash(AGAIN, "info")
            return redirect(url_for("auth.confirm", next=_back_to_form()))

        wrapper.step_up_purpose = purpose
        return wrapper

    return decorator
