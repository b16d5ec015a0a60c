"""A school never sees another school's data: every route x method x role of school A, aimed at school B."""

from tracker.extensions import db

from .world import FORM_DATA, MARKER, build_worlds, methods_of, sign_in, url_args

ROLES_AND_ANONYMOUS = ["anonymous", "lead", "head", "hr", "staff", "accreditor"]


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data=FORM_DATA)


def test_school_a_never_reaches_school_b(app):
    """Requests from A's members (and anonymous ones) at B's school or objects get 403/404 or a sign-in
    redirect, and B's marker never appears in any response."""
    a, b = build_worlds()
    tried = 0
    failures = []
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    for role in ROLES_AND_ANONYMOUS:
        for rule in rules:
            object_params = [n for n in rule.arguments if n != "school" and n in b.objects]
            targets = []
            if object_params:
                targets.append(("B's objects under A's address", url_args(rule, a.school.slug, b)))
            if "school" in rule.arguments:
                targets.append(("B's address", url_args(rule, b.school.slug, b)))
            if not targets:
                targets.append(("global page", url_args(rule, "", a)))
            for method in methods_of(rule):
                for label, args in targets:
                    client = app.test_client()
                    if role != "anonymous":
                        sign_in(client, a.members[role].user)
                    with app.test_request_context():
                        from flask import url_for

                        url = url_for(rule.endpoint, **args)
                    response = _request(client, method, url)
                    db.session.rollback()  # drop identity-map state between requests
                    tried += 1
                    body = response.get_data(as_text=True)
                    if MARKER in body or MARKER.lower() in body:
                        failures.append(f"{role} {method} {url}: B's marker in the response")
                    if response.status_code >= 500:
                        failures.append(
                            f"{role} {method} {url} ({label}): server error {response.status_code}"
                        )
                    if label == "global page":
                        continue
                    ok = response.status_code in (403, 404) or (
                        role == "anonymous"
                        and response.status_code == 302
                        and "/login" in response.headers.get("Location", "")
                    )
                    if not ok:
                        failures.append(f"{role} {method} {url} ({label}): status {response.status_code}")
    print(f"cross-tenant matrix: {tried} requests tried")
    assert tried > 50
    assert failures == [], "\n".join(failures)
