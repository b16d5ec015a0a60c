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
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import redirect, session, url_for

from .models import User


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


def enrolled_methods(user: User) -> list[str]:
    return [m.name for m in _METHODS.values() if m.has_method(user)]


def pending_user() -> User | None:
    return None  # filled in by the two-factor work


def finish_primary_sign_in(user: User, *, remember: bool, via: str, next_url: str | None):
    from .services import sign_in

    sign_in(user, remember=remember)
    session["second_factor_at"] = None
    return redirect(next_url or url_for("picker.index"))


def second_factor_passed(user: User, *, method: str):
    raise NotImplementedError  # filled in by the two-factor work
