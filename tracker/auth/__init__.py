"""Sign-in, sign-out, password reset and the user's own account; the `auth` blueprint.

The invitation page is on this blueprint too, but its code is in tracker/schools/invitations.py (accepting
an invitation is a schools service, and schools builds on auth).
"""

from flask import Blueprint
from flask_login import current_user

bp = Blueprint("auth", __name__)


@bp.before_app_request
def load_user_first():
    """Load the signed-in user before any view runs: the session loader may write (last-seen time, expiry)
    and commits that at once, which is only safe while the request has changed nothing else."""
    current_user._get_current_object()


from . import views  # noqa: E402,F401
