"""Templates ask `can(endpoint, method)` who may do what; it reads the views' own policies, so it agrees
with the role matrix, and no template decides by comparing role names itself."""

import pathlib
import re

import pytest
from flask import g, render_template_string

from tracker.auth.models import User
from tracker.templating import can
from tracker.tenancy import Membership

from .test_role_matrix import ALL, ROLE_MATRIX

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"


def _as(role):
    """Set up the request as a signed-in member of the page's school holding `role` (no database needed)."""
    g._login_user = User(email=f"{role}@can.example", name=role, active=True, is_platform_admin=False)
    g.membership = Membership(role=role)


def test_can_agrees_with_the_role_matrix(app):
    """For every school endpoint, method and role, `can` answers what the role matrix says the view allows."""
    wrong = []
    for role in sorted(ALL):
        with app.test_request_context():
            _as(role)
            for endpoint, methods in ROLE_MATRIX.items():
                for method, allowed in methods.items():
                    if can(endpoint, method) != (role in allowed):
                        wrong.append((endpoint, method, role, role in allowed))
    assert wrong == [], "can() disagrees with ROLE_MATRIX on (endpoint, method, role, matrix says)"


def test_can_in_a_template_and_its_edges(app):
    """`can` is a template global; outside a school, for a method the route does not take, or for a stranger
    it says no; a misspelt endpoint is an error, not a silent no."""
    with app.test_request_context():
        _as("lead")
        shown = render_template_string("{{ can('people.add') }}|{{ can('people.add', 'POST') }}")
        assert shown == "True|True"
        assert can("tracking.sign_off", "GET") is False  # the route takes POST only
        with pytest.raises(LookupError):
            can("people.nonexistent")
        g.membership = None
        assert can("people.add") is False
        assert can("picker.index") is True  # signed in is enough there
    with app.test_request_context():
        g.pop("_login_user", None)  # the test's app context outlives the request above: sign out
        g.membership = None
        assert can("picker.index") is False  # not signed in
        assert can("auth.login") is True  # public


#: a role name compared, or the membership's role read, inside a template
ROLE_CHECK = re.compile(
    r"""membership\.role\b|\.role\s*(in|not\s+in)\b|\brole\s*(==|!=)"""
    r"""|['"](lead|head|hr|staff|accreditor)['"]"""
)
#: the only places a role name may appear: labelling who wrote a query message (display, not a permission)
DISPLAY_ONLY = {
    "review/thread.html": ["'accreditor' if m.author_role == 'accreditor' else 'school'"],
    "reports/pdf/_macros.html": ["'accreditor' if m.role == 'accreditor' else 'school'"],
}


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def test_no_template_compares_role_names():
    """Who may see a link, button or form is `can(...)`; a template comparing role strings fails here."""
    found = []
    for path in _templates():
        name = path.relative_to(TEMPLATES).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for allowed in DISPLAY_ONLY.get(name, ()):
                line = line.replace(allowed, "")
            if ROLE_CHECK.search(line):
                found.append(f"{name}:{number}: {line.strip()[:100]}")
    assert found == [], "use can('endpoint', 'METHOD') or a named property instead:\n" + "\n".join(found)


CAN_CALL = re.compile(r"""\bcan\(\s*'([\w.]+)'\s*(?:,\s*'(\w+)')?\s*\)""")


def test_templates_ask_can_about_real_routes(app):
    """Every can(...) in the templates names an existing endpoint and a method its route takes (a misspelt
    name would hide the link from everyone)."""
    calls = [
        (path.relative_to(TEMPLATES).as_posix(), m.group(1), m.group(2) or "GET")
        for path in _templates()
        for m in CAN_CALL.finditer(path.read_text())
    ]
    assert len(calls) >= 30, "the templates decide what to show through can()"
    methods = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods)
    wrong = [c for c in calls if c[2] not in methods.get(c[1], ())]
    assert wrong == []
