"""Group roles are a second, explicit way into a school: every school route x method x group role, aimed at a
school of the group (read only where the view says so; every write refused and nothing changed) and at a
school of another group (403/404, never a leak)."""

from flask import url_for

from tracker.extensions import db
from tracker.group_access import GROUP_HR, GROUP_LEAD, GROUP_ROLES, GROUP_VIEWER

from .conftest import audit_count
from .test_role_matrix import ROLE_MATRIX
from .world import FORM_DATA, MARKER, build_worlds, sign_in, url_args

#: the school pages a group role may read (GET only); every other school route and method is a 403
PROGRAMME = {
    "tracking.home",
    "tracking.years",
    "tracking.items",
    "tracking.export_items",
    "tracking.item",
    "library.index",
    "library.resource",
    "training.index",
    "review.index",
    "review.thread",
}
REGISTERS = {"people.index", "people.person", "training.who"}
GROUP_MATRIX = {
    GROUP_LEAD: PROGRAMME | REGISTERS,
    GROUP_HR: PROGRAMME | REGISTERS,
    GROUP_VIEWER: PROGRAMME,
}


def _url(app, endpoint, method, slug, world):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)
    with app.test_request_context():
        return url_for(endpoint, **url_args(rule, slug, world))


def test_every_group_role_on_every_school_route(app):
    """A's group roles on A's pages: the group-readable GETs answer 200 with the read-only banner, everything
    else 403 and writes nothing. On B's pages (another group): 403/404 and never B's marker."""
    a, b = build_worlds()
    assert set(GROUP_MATRIX[GROUP_LEAD]) <= set(ROLE_MATRIX), "GROUP_MATRIX names a route that does not exist"
    clients = {role: sign_in(app.test_client(), a.group_members[role]) for role in GROUP_ROLES}
    failures, tried, reads = [], 0, 0
    for endpoint, methods in ROLE_MATRIX.items():
        for method in methods:
            for role in GROUP_ROLES:
                client = clients[role]
                allowed = method == "GET" and endpoint in GROUP_MATRIX[role]
                url = _url(app, endpoint, method, a.school.slug, a)
                before = audit_count()
                response = client.open(url, method=method, data=FORM_DATA if method != "GET" else None)
                db.session.rollback()
                tried += 1
                body = response.get_data(as_text=True)
                if allowed:
                    reads += 1
                    if response.status_code != 200:
                        failures.append(f"{role} {method} {url}: {response.status_code}, expected 200")
                    elif response.mimetype == "text/html" and "Viewing as group" not in body:
                        failures.append(f"{role} {method} {url}: no read-only banner")
                elif response.status_code != 403:
                    failures.append(f"{role} {method} {url}: {response.status_code}, expected 403")
                if audit_count() != before:
                    failures.append(f"{role} {method} {url}: something was written")
                # the same role aimed at B's school (another group) and at B's objects under A's address
                for target in (_url(app, endpoint, method, b.school.slug, b),):
                    response = client.open(target, method=method, data=FORM_DATA if method != "GET" else None)
                    db.session.rollback()
                    tried += 1
                    text = response.get_data(as_text=True)
                    if response.status_code not in (403, 404):
                        failures.append(f"{role} {method} {target} (B): {response.status_code}")
                    if MARKER in text or MARKER.lower() in text:
                        failures.append(f"{role} {method} {target} (B): B's marker in the response")
    print(f"group access matrix: {tried} requests, {reads} group reads")
    assert reads >= 3 * len(REGISTERS)
    assert failures == [], "\n".join(failures)
