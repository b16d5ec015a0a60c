"""The second step of signing in: after a password (or a provider) proved who someone is, a member who has a
second factor, or whose school requires one, passes it before the session opens.

CONTRACT (shared by the two-factor, passkey and OpenID Connect work; keep these names and signatures):

- `register_method(name, label, has_method, *, reset=None)`: a second-factor method registers itself when its
  module is imported (`has_method(user) -> bool`: the user has enrolled it). TOTP ("totp") and passkeys
  ("passkey") register; recovery codes are a fallback, not a method. `reset(user) -> None` (optional) deletes
  every credential of that method for `user` (no commit: it runs inside the caller's `saving()`); a lead's
  "reset second factor" calls every registered `reset`, then removes the recovery codes.
- `enrolled_methods(user) -> list[str]`: the names of the methods `user` has enrolled, in registration order.
- `finish_primary_sign_in(user, *, remember, via, next_url) -> Response`: call this once the first step
  succeeded (`via`: "password" or "oidc:<provider>"). It either opens the session and redirects to `next_url`
  (or the school picker), or keeps the user pending in the Flask session and redirects to the challenge or
  the enrolment page.
- `pending_user() -> User | None`: the user between the first step and the second (None if none, or expired).
- `second_factor_passed(user, *, method) -> Response`: a challenge handler calls this when the pending user
  passed `method` ("totp", "passkey", "recovery-code"); it opens the session, records the time (for step-up)
  and redirects where sign-in was going.
- `must_enrol(user) -> bool`: the user holds a role in `tenancy.TWO_FACTOR_ROLES` in a school that requires
  two-factor and has no method yet; they are signed in, sent to enrolment, and kept off that school's pages
  (the gate in two_factor_views.py) until they enrol.
- `reset_second_factor(user)`: every registered `reset`, then the recovery codes (no commit, no audit: the
  caller records `auth.second_factor_reset` with its school).

The pending user lives in the Flask session (signed cookie) for TRACKER_TWO_FACTOR_PENDING_MINUTES: their id,
"keep me signed in", where to go afterwards and how the first step was passed.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, flash, redirect, session, url_for

from .. import audit
from ..db import db, utcnow
from ..tenancy import TWO_FACTOR_ROLES, memberships_for
from .models import User
from .services import sign_in
from .two_factor_models import RecoveryCode

PENDING_KEY = "two_factor_pending"


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    has_method: Callable[[User], bool]
    reset: Callable[[User], None] | None = None


_METHODS: dict[str, Method] = {}


def register_method(
    name: str,
    label: str,
    has_method: Callable[[User], bool],
    *,
    reset: Callable[[User], None] | None = None,
) -> None:
    _METHODS[name] = Method(name, label, has_method, reset)


def methods() -> list[Method]:
    return list(_METHODS.values())


def method_labels(names: list[str]) -> list[str]:
    return [_METHODS[n].label for n in names if n in _METHODS]


def enrolled_methods(user: User) -> list[str]:
    return [m.name for m in _METHODS.values() if m.has_method(user)]


def requiring_schools(user: User) -> list:
    """The schools that require `user` to sign in with a second factor (their role there is one that must)."""
    return [
        m.school for m in memberships_for(user) if m.role in TWO_FACTOR_ROLES and m.school.require_two_factor
    ]


def must_enrol(user: User) -> bool:
    return bool(requiring_schools(user)) and not enrolled_methods(user)


def reset_second_factor(user: User) -> list[str]:
    """Remove every second factor of `user` and their recovery codes; return the methods they had."""
    had = enrolled_methods(user)
    for method in _METHODS.values():
        if method.reset is not None:
            method.reset(user)
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    return had


def _now() -> float:
    return utcnow().timestamp()


def pending_user() -> User | None:
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    if _now() > float(state.get("until", 0)):
        session.pop(PENDING_KEY, None)
        return None
    try:
        user = db.session.get(User, uuid.UUID(str(state.get("user"))))
    except ValueError:
        return None
    return user if user is not None and user.active else None


def pending_state() -> dict:
    state = session.get(PENDING_KEY)
    return state if isinstance(state, dict) else {}


def clear_pending() -> None:
    session.pop(PENDING_KEY, None)


def finish_primary_sign_in(user: User, *, remember: bool, via: str, next_url: str | None):
    if enrolled_methods(user):
        minutes = current_app.config["TRACKER_TWO_FACTOR_PENDING_MINUTES"]
        session[PENDING_KEY] = {
            "user": str(user.id),
            "until": _now() + minutes * 60,
            "remember": bool(remember),
            "next": next_url or "",
            "via": via,
        }
        return redirect(url_for("auth.two_factor_challenge"))
    clear_pending()
    sign_in(user, remember=remember)
    if must_enrol(user):
        names = ", ".join(s.name for s in requiring_schools(user))
        flash(
            f"{names} asks you to sign in with a second factor. Set up an authenticator app now: "
            "it takes a minute, and the school's pages open once it is done.",
            "info",
        )
        return redirect(
            url_for("auth.two_factor_app", next=next_url) if next_url else url_for("auth.two_factor_app")
        )
    return redirect(next_url or url_for("picker.index"))


def second_factor_passed(user: User, *, method: str):
    pending = pending_user()
    state = pending_state()
    clear_pending()
    if pending is None or pending.id != user.id:
        flash("Your sign-in took too long. Sign in again.", "error")
        return redirect(url_for("auth.login"))
    sign_in(user, remember=bool(state.get("remember")))
    audit.record("auth.second_factor_passed", actor=user, subject=user, after={"method": method})
    return redirect(state.get("next") or url_for("picker.index"))
