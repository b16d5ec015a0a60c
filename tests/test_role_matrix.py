"""What each role may and may not do on each school page, from one table."""

import pytest
from flask import url_for

from tracker.extensions import db

from .world import FORM_DATA, methods_of, sign_in, url_args

ALL = {"lead", "head", "hr", "staff", "accreditor"}
MANAGERS = {"lead", "head"}
WRITERS = ALL - {"accreditor"}
#: roles that see only the items assigned to them: the matrix assigns the item to them first
OWN_ITEMS_ONLY = {"hr", "staff"}

#: endpoint -> method -> the roles allowed; every school endpoint must be listed here
ROLE_MATRIX = {
    "tracking.home": {"GET": ALL},
    "schools.members": {"GET": MANAGERS},
    "schools.invite_member": {"POST": MANAGERS},
    "schools.revoke": {"POST": MANAGERS},
    "schools.member": {"GET": MANAGERS, "POST": MANAGERS},
    "schools.remove": {"POST": MANAGERS},
    "schools.reset_factor": {"POST": {"lead"}},
    "schools.settings": {"GET": MANAGERS, "POST": MANAGERS},
    "schools.sign_in_domains": {"GET": {"lead"}, "POST": {"lead"}},
    "schools.audit_trail": {"GET": MANAGERS},
    "library.index": {"GET": ALL},
    "library.resource": {"GET": ALL},
    "library.add": {"GET": MANAGERS, "POST": MANAGERS},
    "library.edit": {"GET": MANAGERS, "POST": MANAGERS},
    "library.delete": {"POST": MANAGERS},
    "library_files.download": {"GET": ALL},
    "library_files.add_copy": {"POST": MANAGERS},
    "library_files.remove_copy": {"POST": MANAGERS},
    "tracking.years": {"GET": ALL},
    "tracking.start_year": {"POST": MANAGERS},
    "tracking.setup_year": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.setup_roles": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.setup_past": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.setup_invite": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.role_holders": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.rollover": {"POST": MANAGERS},
    "tracking.sign_off": {"POST": {"head"}},
    "tracking.sign_off_page": {"GET": MANAGERS},
    "tracking.upgrade": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.year_terms": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.items": {"GET": ALL},
    "tracking.bulk_items": {"POST": MANAGERS},
    "tracking.export_items": {"GET": ALL},
    "tracking.add_item": {"GET": MANAGERS, "POST": MANAGERS},
    "tracking.item": {"GET": ALL, "POST": WRITERS},
    "tracking.answer": {"POST": WRITERS},
    "tracking.comment": {"POST": WRITERS},
    "evidence.add": {"POST": WRITERS},
    "evidence.download": {"GET": ALL},
    "evidence.remove": {"POST": MANAGERS},
    "people.index": {"GET": {"lead", "head", "hr", "accreditor"}},
    "people.export": {"GET": {"lead", "head", "hr", "accreditor"}},
    "people.check": {"GET": {"lead", "head", "hr", "accreditor"}},
    "people.add": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
    "people.edit": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
    "people.person": {"GET": {"lead", "head", "hr", "accreditor"}},
    "people.update_check": {"GET": {"lead", "head", "hr", "accreditor"}, "POST": {"lead", "head", "hr"}},
    "people.leave": {"POST": {"lead", "hr"}},
    "people.risk": {"POST": {"lead", "hr"}},
    "people.sign_risk": {"POST": {"head"}},
    "people.import_people": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
    "people.confirm_import": {"POST": {"lead", "hr"}},
    "people.import_job": {"GET": {"lead", "hr"}},
    "people.import_job_status": {"GET": {"lead", "hr"}},
    "people.me": {"GET": WRITERS},
    "training.index": {"GET": {"lead", "head", "hr", "accreditor"}},
    "training.who": {"GET": {"lead", "head", "hr", "accreditor"}},
    "training.record": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
    "training.certificate": {"GET": {"lead", "head", "hr", "accreditor"}},
    "training.edit": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
    "training.delete": {"POST": {"lead", "hr"}},
    "training.my_certificate": {"GET": WRITERS, "POST": WRITERS},
    "training.to_verify": {"GET": {"lead", "head", "hr"}},
    "training.verify_certificate": {"POST": {"lead", "hr"}},
    "training.reject_certificate": {"POST": {"lead", "hr"}},
    "training.verify_evidence": {"POST": MANAGERS},
    "training.reject_evidence": {"POST": MANAGERS},
    "policies.index": {"GET": {"lead", "head", "hr", "accreditor"}},
    "policies.add": {"GET": MANAGERS, "POST": MANAGERS},
    "policies.document": {"GET": {"lead", "head", "hr", "accreditor"}},
    "policies.new_version": {"GET": MANAGERS, "POST": MANAGERS},
    "policies.withdraw": {"POST": MANAGERS},
    "policies.sign_sheet": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
    "policies.download": {"GET": ALL},
    "policies.read": {"GET": ALL},
    "policies.acknowledge": {"POST": WRITERS},
    "policies.mine": {"GET": WRITERS},
    "frameworks.index": {"GET": {"lead", "head", "hr"}},
    "frameworks.detail": {"GET": {"lead", "head", "hr"}},
    "reminders.settings": {"GET": WRITERS, "POST": WRITERS},
    "reminders.new_feed": {"POST": WRITERS},
    "reminders.revoke_feed": {"POST": WRITERS},
    "reminders.outbox": {"GET": MANAGERS},
    "reminders.retry": {"POST": MANAGERS},
    "reports.index": {"GET": MANAGERS | {"accreditor"}},
    "reports.accreditation": {"GET": MANAGERS},
    "reports.framework": {"GET": MANAGERS},
    "reports.register": {"GET": MANAGERS},
    "reports.training_record": {"GET": MANAGERS},
    "reports.download": {"GET": MANAGERS | {"accreditor"}},
    "reports.job": {"GET": MANAGERS},
    "reports.status": {"GET": MANAGERS},
    "archive.index": {"GET": MANAGERS},
    "archive.make": {"POST": MANAGERS},
    "archive.job": {"GET": MANAGERS},
    "archive.status": {"GET": MANAGERS},
    "archive.download": {"GET": MANAGERS},
    "review.index": {"GET": MANAGERS | {"accreditor"}},
    "review.raise_query": {"POST": {"accreditor"}},
    "review.thread": {"GET": MANAGERS | {"accreditor"}},
    "review.reply": {"POST": MANAGERS | {"accreditor"}},
    "review.close": {"POST": MANAGERS | {"accreditor"}},
    "retention.index": {"GET": MANAGERS},
    "retention.rules": {"POST": {"lead"}},
    "retention.hold": {"POST": {"lead"}},
    "retention.lift": {"POST": {"lead"}},
    "retention.export_person": {"GET": {"lead", "hr"}},
    "retention.erase_person": {"GET": {"lead", "hr"}, "POST": {"lead", "hr"}},
}


def _school_rules(app):
    return [r for r in app.url_map.iter_rules() if "school" in r.arguments]


def test_every_school_page_is_in_the_role_matrix(app):
    """Adding a school page without deciding who may use it fails here."""
    listed = {(e, m) for e, methods in ROLE_MATRIX.items() for m in methods}
    actual = {(r.endpoint, m) for r in _school_rules(app) for m in methods_of(r)}
    assert actual - listed == set(), "add these to ROLE_MATRIX"
    assert listed - actual == set(), "ROLE_MATRIX lists routes that do not exist"


CASES = [
    (endpoint, method, role, role in allowed)
    for endpoint, methods in ROLE_MATRIX.items()
    for method, allowed in methods.items()
    for role in sorted(ALL)
]


@pytest.mark.parametrize(
    "endpoint,method,role,allowed", CASES, ids=[f"{e}-{m}-{r}-{'yes' if a else 'no'}" for e, m, r, a in CASES]
)
def test_role_matrix(app, worlds, endpoint, method, role, allowed):
    """Allowed roles get through (no 403/404, never a 5xx); every other role gets 403 and changes nothing."""
    from .conftest import audit_count

    a, _ = worlds
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)
    with app.test_request_context():
        url = url_for(endpoint, **url_args(rule, a.school.slug, a))
    if "item_id" in rule.arguments and role in OWN_ITEMS_ONLY:
        a.item.owner_id = a.members[role].user_id
        db.session.commit()
    client = sign_in(app.test_client(), a.members[role].user)
    before = audit_count()
    response = client.open(url, method=method, data=FORM_DATA if method != "GET" else None)
    db.session.rollback()
    assert response.status_code < 500, f"{method} {url} as {role}: {response.status_code}"
    if allowed:
        assert response.status_code not in (403, 404), response.status_code
    else:
        assert response.status_code == 403
        assert audit_count() == before
