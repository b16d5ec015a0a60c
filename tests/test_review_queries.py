"""Accreditor review: queries in a thread with a state, read-only access everywhere else, access that ends."""

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.review.models import ReviewMessage, ReviewQuery
from tracker.tracking.models import SchoolYear

from .conftest import audit_count
from .world import FORM_DATA, build_worlds, sign_in, url_args

#: the only state-changing routes an accreditor may use
ACCREDITOR_MAY_POST = {"review.raise_query", "review.reply", "review.close"}
TABLES = (
    "items",
    "evidence",
    "comments",
    "answer_versions",
    "people",
    "reports",
    "review_queries",
    "review_messages",
    "memberships",
    "school_years",
    "training_sessions",
)


def _row_counts():
    return {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def _actions(school):
    return (
        db.session.execute(
            sa.select(AuditEvent.action).where(AuditEvent.school_id == school.id).order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def test_an_accreditor_raises_a_query_the_lead_answers_in_the_thread_and_it_is_closed(app):
    a, _ = build_worlds()
    slug = a.school.slug
    accreditor = sign_in(app.test_client(), a.members["accreditor"].user)
    item_page = accreditor.get(f"/s/{slug}/items/{a.objects['item_id']}").get_data(as_text=True)
    assert 'id="queries"' in item_page and "Raise a query" in item_page
    response = accreditor.post(
        f"/s/{slug}/review/items/{a.objects['item_id']}/queries", data={"body": "Where are the minutes?"}
    )
    assert response.status_code == 302
    query = (
        db.session.execute(
            sa.select(ReviewQuery)
            .where(ReviewQuery.school_id == a.school.id)
            .order_by(ReviewQuery.created_at.desc())
        )
        .scalars()
        .first()
    )
    assert query.state == "open" and query.messages[0].body == "Where are the minutes?"

    lead = sign_in(app.test_client(), a.members["lead"].user)
    assert "Where are the minutes?" in lead.get(f"/s/{slug}/review/queries/{query.id}").get_data(as_text=True)
    assert (
        lead.post(f"/s/{slug}/review/queries/{query.id}/reply", data={"body": "Attached."}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(ReviewQuery, query.id).state == "answered"
    assert (
        accreditor.post(
            f"/s/{slug}/review/queries/{query.id}/reply", data={"body": "And the dates?"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(ReviewQuery, query.id).state == "open"
    assert accreditor.post(f"/s/{slug}/review/queries/{query.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewQuery, query.id).state == "closed"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewMessage))
    lead.post(f"/s/{slug}/review/queries/{query.id}/reply", data={"body": "Too late"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewMessage)) == before
    actions = _actions(a.school)
    for action in ("query.raised", "query.answered", "query.followed_up", "query.closed"):
        assert action in actions
    listing = lead.get(f"/s/{slug}/review/?state=closed").get_data(as_text=True)
    assert a.item.title in listing


def test_an_empty_query_is_refused_and_staff_cannot_see_queries(app):
    a, _ = build_worlds()
    accreditor = sign_in(app.test_client(), a.members["accreditor"].user)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewQuery))
    accreditor.post(f"/s/{a.school.slug}/review/items/{a.objects['item_id']}/queries", data={"body": "  "})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewQuery)) == before
    staff = sign_in(app.test_client(), a.members["staff"].user)
    assert staff.get(f"/s/{a.school.slug}/review/").status_code == 403
    assert staff.get(f"/s/{a.school.slug}/review/queries/{a.objects['query_id']}").status_code == 403


def test_an_accreditor_is_refused_on_every_other_state_changing_route_and_nothing_changes(app):
    a, _ = build_worlds()
    refused = []
    for rule in app.url_map.iter_rules():
        if "school" not in rule.arguments or rule.endpoint in ACCREDITOR_MAY_POST:
            continue
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            client = sign_in(app.test_client(), a.members["accreditor"].user)
            with app.test_request_context():
                url = url_for(rule.endpoint, **url_args(rule, a.school.slug, a))
            before, counts = audit_count(), _row_counts()
            response = client.open(url, method=method, data=FORM_DATA)
            db.session.rollback()
            assert response.status_code == 403, (url, response.status_code)
            assert audit_count() == before and _row_counts() == counts, url
            refused.append(url)
    assert len(refused) > 20


def test_an_accreditor_sees_signed_reports_but_not_drafts_and_each_download_is_audited(app):
    a, _ = build_worlds()
    lead = sign_in(app.test_client(), a.members["lead"].user)
    assert (
        lead.get(f"/s/{a.school.slug}/reports/years/{a.objects['year_id']}/accreditation.pdf").status_code
        == 200
    )
    from tracker.reports.models import Report

    draft = (
        db.session.execute(sa.select(Report).where(Report.school_id == a.school.id, Report.frozen.is_(False)))
        .scalars()
        .one()
    )
    accreditor = sign_in(app.test_client(), a.members["accreditor"].user)
    assert accreditor.get(f"/s/{a.school.slug}/reports/files/{draft.id}").status_code == 404
    assert (
        accreditor.get(
            f"/s/{a.school.slug}/reports/years/{a.objects['year_id']}/accreditation.pdf"
        ).status_code
        == 403
    )
    page = accreditor.get(f"/s/{a.school.slug}/reports/").get_data(as_text=True)
    assert f"/reports/files/{a.objects['report_id']}" in page and f"/reports/files/{draft.id}" not in page
    assert accreditor.get(f"/s/{a.school.slug}/reports/files/{a.objects['report_id']}").status_code == 200
    assert (
        accreditor.get(
            f"/s/{a.school.slug}/items/{a.objects['item_id']}/evidence/{a.objects['evidence_id']}"
        ).status_code
        == 200
    )
    actions = _actions(a.school)
    assert actions[-2:] == ["report.downloaded", "evidence.downloaded"]


def test_an_accreditor_loses_access_the_day_after_the_end_date(app):
    a, _ = build_worlds()
    membership = a.members["accreditor"]
    membership.access_until = a.school.today()
    db.session.commit()
    client = sign_in(app.test_client(), membership.user)
    assert client.get(f"/s/{a.school.slug}/reports/").status_code == 200  # the last day still works
    membership.access_until = a.school.today() - timedelta(days=1)
    db.session.commit()
    for url in (
        f"/s/{a.school.slug}/reports/",
        f"/s/{a.school.slug}/reports/files/{a.objects['report_id']}",
        f"/s/{a.school.slug}/review/queries/{a.objects['query_id']}",
        f"/s/{a.school.slug}/",
    ):
        assert client.get(url).status_code == 404, url
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewQuery))
    response = client.post(
        f"/s/{a.school.slug}/review/items/{a.objects['item_id']}/queries", data={"body": "x"}
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewQuery)) == before


def test_the_managers_reports_page_shows_how_to_grant_an_accreditor_access(app):
    a, _ = build_worlds()
    page = (
        sign_in(app.test_client(), a.members["head"].user)
        .get(f"/s/{a.school.slug}/reports/")
        .get_data(as_text=True)
    )
    assert "Accreditor access" in page and f"/s/{a.school.slug}/members" in page
    assert a.members["accreditor"].user.email in page
    year = db.session.get(SchoolYear, a.objects["year_id"])
    assert year.label in page
