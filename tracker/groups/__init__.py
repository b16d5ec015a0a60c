"""Groups of schools (a trust or network): the group's dashboard, templates, digest and report, and the
operator pages that make groups. The models and the group readers' way into a school are core
(tracker/group_access.py); this package sits above every feature it reads."""

from flask import Blueprint, abort, g
from flask_login import current_user

from ..group_access import groups_for

bp = Blueprint("groups", __name__, url_prefix="/g/<group>")
admin_bp = Blueprint("group_admin", __name__, url_prefix="/admin/groups")


@bp.url_value_preprocessor
def load_group(endpoint, values):
    """Resolve <group> to g.group and the caller's group role; a group they hold no role in is a 404 (the
    access decorator sends anonymous callers to sign in first)."""
    slug = values.pop("group", None) if values else None
    g.group = None
    g.group_role = None
    if slug is None or not current_user.is_authenticated:
        return
    found = next(((grp, role) for grp, role in groups_for(current_user) if grp.slug == slug), None)
    if found is None:
        abort(404)
    g.group, g.group_role = found


@bp.url_defaults
def add_group_url_default(endpoint, values):
    if "group" not in values and getattr(g, "group", None) is not None:
        values["group"] = g.group.slug


from . import admin_views, digest, views  # noqa: E402,F401
