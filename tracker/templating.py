"""Template globals: the current school, the user's schools, role names, and `can` (who may do what)."""

from urllib.parse import quote

from flask import current_app, g, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .access import policy_allows
from .group_access import current_group_visit, groups_for
from .tenancy import MANAGERS, ROLE_LABELS, memberships_for


def register_templating(app):
    app.add_template_filter(lambda values, mapping: [mapping.get(v, v) for v in values], "labels")
    app.add_template_global(url_pattern)  # a global, so that imported macros see it too
    app.add_template_global(can)
    app.add_template_global(school_nav)

    @app.context_processor
    def globals_():
        school = getattr(g, "school", None)
        membership = getattr(g, "membership", None)

        def my_schools():
            return memberships_for(current_user) if current_user.is_authenticated else []

        return {
            "tag_params": tag_params,
            "school": school,
            "membership": membership,
            "my_schools": my_schools,
            # a group reader on one of the group's schools: the page shows "Viewing as group … read only"
            "group_visit": current_group_visit(),
            "my_groups": lambda: groups_for(current_user) if current_user.is_authenticated else [],
            "role_labels": ROLE_LABELS,
            "is_manager": membership is not None and membership.role in MANAGERS,
        }


def can(endpoint, method="GET"):
    """Whether the current user, in the school of this page, may use `endpoint` with `method`: the view's own
    stated policy (tracker/access.py), so a template shows a link, button or form only to those its view lets
    through. `{% if can('people.add') %}`, `{% if can('tracking.comment', 'POST') %}`."""
    app = current_app._get_current_object()
    if endpoint not in app.view_functions:
        raise LookupError(f"can(): there is no endpoint {endpoint!r}")
    user = current_user._get_current_object()
    membership = getattr(g, "membership", None)
    # the answer depends on nothing else (access.policy_allows), so each is worked out once per process
    key = (
        endpoint,
        method,
        bool(user is not None and user.is_authenticated),
        bool(getattr(user, "is_platform_admin", False)),
        type(membership).__name__,
        getattr(membership, "role", None),
        getattr(membership, "group_role", None),
        getattr(g, "group_role", None),
    )
    answers = app.extensions.setdefault("tracker.can", {})
    allowed = answers.get(key)
    if allowed is None:
        allowed = answers[key] = policy_allows(app, endpoint, method, user, membership)
    return allowed


#: how many school navigations a process keeps (school x role x page); when full it starts over
SCHOOL_NAV_KEPT = 4096


def school_nav():
    """The links of a school page's navigation (templates/_schoolnav.html), rendered once per process for each
    key below and kept: building them (a dozen `can` and `url_for`) was a fifth of a cached page's time.

    The key holds all the links depend on: the school's address (url_for through g.school.slug, under the
    script root), the caller's role in the school (or, for a group reader, the group role: `can`), whether
    they are a platform admin (`can` of an admin-only page), and the page (which link is current). The
    school's name and the role badge are drawn by base.html itself, each time."""
    app = current_app._get_current_object()
    membership = g.membership
    key = (
        request.script_root,
        g.school.slug,
        type(membership).__name__,
        membership.role,
        getattr(membership, "group_role", None),
        bool(current_user.is_authenticated and current_user.is_platform_admin),
        request.endpoint,
    )
    kept = app.extensions.setdefault("tracker.school_nav", {})
    html = kept.get(key)
    if html is None:
        html = Markup(app.jinja_env.get_template("_schoolnav.html").render())
        if len(kept) >= SCHOOL_NAV_KEPT:
            kept.clear()
        kept[key] = html
    return html


_SLOT = "__URL_SLOT__"


def url_pattern(endpoint, slot, **values):
    """url_for once for a list of links that differ in one value:
    `url_pattern('tracking.item', 'item_id')(i.id)`. A page with dozens of item links builds each in
    microseconds instead of a full url_for (a profile of the dashboard found url_for to be a tenth of its
    time). The value is quoted as url_for would quote it."""
    base = url_for(endpoint, **{slot: _SLOT}, **values)
    head, _, tail = base.partition(_SLOT)

    def build(value):
        return f"{head}{quote(str(value), safe='-._~')}{tail}"

    return build


def tag_params(tags, toggle=None):
    """Library tag filters as ?tag=kind:value parameters, with `toggle` added or removed."""
    current = list(tags)
    if toggle is not None:
        current = [t for t in current if t != toggle] if toggle in current else [*current, toggle]
    return [f"{kind}:{value}" for kind, value in current] or None
