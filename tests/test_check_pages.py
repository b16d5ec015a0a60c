"""One page per recruitment check (people/check_views.py): the stage, date, who verified it, the document
seen, evidence, notes and risk assessment on one page; the person page's summary and next action."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker.audit import AuditEvent
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.people import services as people
from tracker.people.models import CheckRecord
from tracker.tracking.holders import set_holders
from tracker.tracking.models import Item

from .world import sign_in

TODAY = date(2026, 11, 23)


@pytest.fixture
def hire(make_school, make_member):
    with time_machine.travel(TODAY, tick=False):
        school = make_school(timezone="UTC", country="Thailand")
        members = {role: make_member(school, role) for role in ("lead", "head", "hr", "staff", "accreditor")}
        set_holders(school, {"hr": members["hr"].user})
        person = people.add_person(
            school,
            full_name="Hana Hire",
            email=None,
            category="teaching",
            start_on=TODAY + timedelta(days=10),
            countries=["Brazil"],
        )
        db.session.commit()
        yield school, members, person


def _check(person, key, country=""):
    return db.session.execute(
        sa.select(Item).where(
            Item.person_id == person.id, Item.requirement_key == key, Item.country == country
        )
    ).scalar_one()


def _url(school, person, item):
    return f"/s/{school.slug}/people/{person.id}/checks/{item.id}"


def _data(item, **values):
    prefix = f"c{item.id.hex[:8]}-"
    base = {"version": str(item.version), "check_status": "verified", "document_type": "", "notes": ""}
    return {prefix + k: v for k, v in {**base, **values}.items()}


def _events(school, action):
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.school_id == school.id, AuditEvent.action == action)
    )


def test_hr_completes_a_check_with_its_document_and_evidence_on_one_page(app, hire):
    school, members, person = hire
    item = _check(person, "identity-verified")
    client = sign_in(app.test_client(), members["hr"].user)
    page = client.get(_url(school, person, item)).get_data(as_text=True)
    assert "Record this check" in page and "Document seen" in page and "Evidence files" in page
    assert "Needed before day one" in page and "Risk assessment" in page
    data = _data(
        item,
        verified_on="2026-11-20",
        document_type="passport",
        document_reference="ends 4821",
        expires_on="2031-05-01",
        notes="Seen by video call.",
    )
    data[f"c{item.id.hex[:8]}-files"] = (io.BytesIO(b"identity check record"), "identity.txt")
    response = client.post(_url(school, person, item), data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith(_url(school, person, item))
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert (item.check_status, item.status, item.verified_on) == ("verified", "done", date(2026, 11, 20))
    assert item.verified_by_id == members["hr"].user_id and item.expires_on == date(2031, 5, 1)
    record = db.session.execute(sa.select(CheckRecord).where(CheckRecord.item_id == item.id)).scalar_one()
    assert (record.document_type, record.document_reference) == ("passport", "ends 4821")
    files = db.session.execute(sa.select(Evidence).where(Evidence.item_id == item.id)).scalars().all()
    assert [f.name for f in files] == ["identity.txt"]
    assert _events(school, "check.changed") == 1
    page = client.get(_url(school, person, item)).get_data(as_text=True)
    assert "identity.txt" in page and "ends 4821" in page and members["hr"].user.display_name in page


def test_a_refused_save_shows_the_values_sent_and_saves_nothing(app, hire):
    school, members, person = hire
    item = _check(person, "right-to-work")
    client = sign_in(app.test_client(), members["lead"].user)
    before = _events(school, "check.changed")
    response = client.post(
        _url(school, person, item),
        data=_data(item, check_status="not_required", document_reference="WP-77120", notes="Visa pending"),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Say why this check is not required" in page and "error-summary" in page
    assert "WP-77120" in page and "Visa pending" in page
    db.session.expire_all()
    assert db.session.get(Item, item.id).check_status == "not_started"
    assert _events(school, "check.changed") == before
    assert not db.session.execute(sa.select(CheckRecord).where(CheckRecord.item_id == item.id)).first()


def test_readers_see_the_page_without_the_form_and_cannot_save(app, hire):
    school, members, person = hire
    item = _check(person, "police-check-country", "Brazil")
    accreditor = sign_in(app.test_client(), members["accreditor"].user)
    page = accreditor.get(_url(school, person, item))
    assert page.status_code == 200 and "Save the check" not in page.get_data(as_text=True)
    assert accreditor.post(_url(school, person, item), data=_data(item)).status_code == 403
    staff = sign_in(app.test_client(), members["staff"].user)
    assert staff.get(_url(school, person, item)).status_code == 403
    other = _check(person, "identity-verified")
    url = f"/s/{school.slug}/people/{person.id}/checks/{other.id}"
    assert accreditor.get(url).status_code == 200
    leaving_like = Item(
        school_id=school.id, person_id=None, kind="task", title="Not a check", due_on=TODAY, owner_role="hr"
    )
    db.session.add(leaving_like)
    db.session.commit()
    assert accreditor.get(f"/s/{school.slug}/people/{person.id}/checks/{leaving_like.id}").status_code == 404


def test_the_person_page_sums_up_the_checks_and_links_the_next_action(app, hire):
    school, members, person = hire
    hr = members["hr"].user
    with time_machine.travel(TODAY, tick=False):
        done = _check(person, "identity-verified")
        people.update_check(school, done, version=done.version, check_status="verified", user=hr)
        gone = _check(person, "online-search")
        people.update_check(
            school,
            gone,
            version=gone.version,
            check_status="not_required",
            na_reason="Internal move",
            user=hr,
        )
        db.session.commit()
        page = (
            sign_in(app.test_client(), hr).get(f"/s/{school.slug}/people/{person.id}").get_data(as_text=True)
        )
    items = db.session.execute(sa.select(Item).where(Item.person_id == person.id)).scalars().all()
    open_items = [i for i in items if i.is_open]
    assert "1 done" in page and "1 not required" in page and "0 overdue" in page
    assert f"{len(open_items)} due" in page
    first = min(open_items, key=lambda i: i.due_on)
    assert "Next action:" in page and _url(school, person, first) in page
    assert all(_url(school, person, i) in page for i in items)
    assert "needed before day one" in page
    assert "Update this check" not in page  # the stage is set on the check's own page now


def test_a_risk_assessment_is_written_and_signed_on_the_check_page(app, hire):
    school, members, person = hire
    item = _check(person, "police-check-country", "Brazil")
    url = _url(school, person, item)
    hr = sign_in(app.test_client(), members["hr"].user)
    refused = hr.post(url + "/risk", data={"summary": ""})
    assert refused.status_code == 400 and "Summarise the assessment" in refused.get_data(as_text=True)
    response = hr.post(url + "/risk", data={"summary": "Statement from the former school; supervised."})
    assert response.status_code == 302 and url in response.location
    head = sign_in(app.test_client(), members["head"].user)
    assert head.post(url + "/risk/sign").status_code == 302
    page = head.get(url).get_data(as_text=True)
    assert "Statement from the former school" in page and "Signed by" in page
