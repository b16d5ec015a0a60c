"""Sign-in, sign-out, password reset and the user's own account; the `auth` blueprint.

The invitation page is on this blueprint too, but its code is in tracker/schools/invitations.py (accepting
an invitation is a schools service, and schools builds on auth).
"""

from flask import Blueprint, flash, g, redirect, request
from flask_login import current_user
from flask_login.utils import login_url

from ..extensions import login_manager

bp = Blueprint("auth", __name__)


@bp.before_app_request
def load_user_first():
    """Load the signed-in user before any view runs: the session loader may write (last-seen time, expiry)
    and commits that at once, which is only safe while the request has changed nothing else."""
    current_user._get_current_object()


@login_manager.unauthorized_handler
def send_to_sign_in():
    """Flask-Login's own answer (a redirect to sign in, back here afterwards), without its "Sign in to see
    that page" when the loader has just said the session expired: one message, the one that says why."""
    if not g.get("session_expired"):
        flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


from . import oidc_views, passkey_views, sessions_views, two_factor_views, views  # noqa: E402,F401
