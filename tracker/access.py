"""Access policies: every view states who may use it, and a test checks that none is missing."""
from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from .extensions import login_manager
from .tenancy import ACCREDITOR, require_membership_role

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: endpoints outside our blueprints that are public by design
PUBLIC_ENDPOINTS = {"static"}


def _mark(fn, policy):
    fn.access_policy = policy
    return fn


def public(fn):
    """Anyone, signed in or not."""
    return _mark(fn, "public")


def signed_in(fn):
    """Any signed-in user, whatever their schools."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return fn(*args, **kwargs)

    return _mark(wrapper, "signed_in")


def platform_admin(fn):
    """Operators of the installation only."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_platform_admin:
            abort(403)
        return fn(*args, **kwargs)

    return _mark(wrapper, "platform_admin")


def school_roles(*roles, accreditor_may_write=False):
    """Members of the school in the URL holding one of `roles`.

    Accreditors are read-only everywhere: a state-changing request from one is refused
    unless the view says otherwise (raising a query is the one case).
    """

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            require_membership_role(roles)
            if (
                g.membership.role == ACCREDITOR
                and request.method not in SAFE_METHODS
                and not accreditor_may_write
            ):
                abort(403)
            return fn(*args, **kwargs)

        return _mark(wrapper, ("school", tuple(roles)))

    return decorator


def policy_of(app, endpoint):
    """Return the stated access policy of an endpoint, or None."""
    if endpoint in PUBLIC_ENDPOINTS:
        return "public"
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)
