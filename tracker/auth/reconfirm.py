"""Confirming again who is signed in before an act that cannot be undone (the head's sign-off of a year).

One small function, so a second factor (the identity issue) plugs in here. The caller throttles attempts as
sign-in does (per account, `TRACKER_LOGIN_LIMIT_ACCOUNT`) and commits the failed attempt's audit event.
"""

from .. import audit
from ..passwords import check_password

RECONFIRM_FAILED = "That is not your password. Nothing has been signed off."


def confirm_identity(user, password: str, *, purpose: str, school=None) -> bool:
    """Whether `password` is the signed-in `user`'s own; a wrong one is recorded (`auth.reconfirm_failed`)."""
    ok = bool(password) and user is not None and user.active and check_password(user, password)
    if not ok:
        audit.record(
            "auth.reconfirm_failed",
            school=school,
            actor=user,
            actor_email=getattr(user, "email", "")[:254],
            subject=user,
            after={"purpose": purpose},
        )
    return ok
