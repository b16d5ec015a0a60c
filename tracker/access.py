"""Access policies: every view states who may use it, and a test checks that none is missing."""

from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from .extensions import login_manager
from .group_access import GROUP_READS, GroupVisit
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


def school_roles(*roles, accreditor_may_write=False, group=()):
    """Members of the school in the URL holding one of `roles`.

    Accreditors are read-only everywhere: a state-changing request from one is refused
    unless the view says otherwise (raising a query is the one case).

    `group` names the group roles (group_access.py) that may READ the page when the school is in their
    group and they are not its members: GET and HEAD only; any other request from a group reader is a 403.
    "programme" (every group role) and "registers" (group lead and group HR) name the usual sets.
    """
    group = GROUP_READS[group] if isinstance(group, str) else tuple(group)

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            visit = getattr(g, "membership", None)
            if isinstance(visit, GroupVisit):
                if visit.group_role not in group or request.method not in SAFE_METHODS:
                    abort(403)
                return fn(*args, **kwargs)
            require_membership_role(roles)
            if (
                g.membership.role == ACCREDITOR
                and request.method not in SAFE_METHODS
                and not accreditor_may_write
            ):
                abort(403)
            return fn(*args, **kwargs)

        wrapper.accreditor_may_write = accreditor_may_write
        wrapper.group_roles = tuple(group)
        return _mark(wrapper, ("school", tuple(roles)))

    return decorator


def group_roles(*roles):
    """Holders of one of `roles` (group_access.py) in the group in the URL (/g/<group>/): the group's own
    pages. The group's blueprint loads g.group and g.group_role; a group the caller holds no role in is a
    404."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if getattr(g, "group", None) is None:
                abort(404)
            if g.group_role not in roles:
                abort(403)
            return fn(*args, **kwargs)

        return _mark(wrapper, ("group", tuple(roles)))

    return decorator


def policy_of(app, endpoint):
    """Return the stated access policy of an endpoint, or None."""
    if endpoint in PUBLIC_ENDPOINTS:
        return "public"
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def policy_allows(app, endpoint, method, user, membership) -> bool:
    """Whether the stated policy of `endpoint` lets `user` (with `membership` in the school of the page, or
    None) send a `method` request to it: what the view's decorator would decide, read without calling it.

    Templates ask this (through `can`) before showing a link, button or form, so that what a page offers
    and what its view accepts come from the same place. An endpoint that does not take `method` is refused.
    """
    method = method.upper()
    if not any(method in rule.methods for rule in app.url_map.iter_rules(endpoint)):
        return False
    policy = policy_of(app, endpoint)
    if policy == "public":
        return True
    if not (user is not None and user.is_authenticated):
        return False
    if policy == "signed_in":
        return True
    if policy == "platform_admin":
        return bool(user.is_platform_admin)
    if isinstance(policy, tuple) and policy[0] == "group":
        return getattr(g, "group_role", None) in policy[1]
    if isinstance(policy, tuple) and policy[0] == "school":
        if isinstance(membership, GroupVisit):
            readers = getattr(app.view_functions[endpoint], "group_roles", ())
            return membership.group_role in readers and method in SAFE_METHODS
        if membership is None or membership.role not in policy[1]:
            return False
        if membership.role == ACCREDITOR and method not in SAFE_METHODS:
            return bool(getattr(app.view_functions[endpoint], "accreditor_may_write", False))
        return True
    return False
