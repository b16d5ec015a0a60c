"""A recruitment check's evidence on its check page (people/check.html) is the item page's list
(evidence/_list.html): a staff upload shows as pending (or rejected, with why), those who may verify, reject
or remove do it there, and every form sends them back to the check page. The item page of a check links to
the check page."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.people import services as people
from tracker.tracking.holders import set_holders
from tracker.tracking.models import Item

from .world import sign_in

TODAY = date(2026, 11, 23)
PDF = b"%PDF-1.4\n% a scanned passport page\n"


@pytest.fixture
def evidence_dir(app, tmp_path):
    original = app.config["TRACKER_EVIDENCE_DIR"]
    app.config["TRACKER_EVIDENCE_DIR"] = str(tmp_path / "evidence")
    try:
        yield tmp_path / "evidence"
    finally:
        app.config["TRACKER_EVIDENCE_DIR"] = original


@pytest.fixture
def upload(make_school, make_member, evidence_dir, app):
    """A hire whose identity check is assigned to a staff member, who sent a file for it (pending)."""
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
        item = db.session.execute(
            sa.select(Item).where(Item.person_id == person.id, Item.requirement_key == "identity-verified")
        ).scalar_one()
        item.owner_id = members["staff"].user_id
        db.session.commit()
        staff = sign_in(app.test_client(), members["staff"].user)
        response = staff.post(
            f"/s/{school.slug}/items/{item.id}/evidence",
            content_type="multipart/form-data",
            data={
                "files": [(io.BytesIO(PDF), "passport.pdf")],
                "url": "",
                "link_title": "",
                "applies_on": "",
            },
        )
        assert response.status_code == 302
        [row] = _evidence(item)
        assert row.verification == "pending"
        yield school, members, person, item, row


def _evidence(item):
    db.session.expire_all()
    return db.session.execute(sa.select(Evidence).where(Evidence.item_id == item.id)).scalars().all()


def _check_url(school, person, item):
    return f"/s/{school.slug}/people/{person.id}/checks/{item.id}"


def _verify_url(school, item, row, action="verify"):
    return f"/s/{school.slug}/training/to-verify/items/{item.id}/evidence/{row.id}/{action}"


def test_hr_sees_a_staff_upload_as_pending_on_the_check_page(app, upload):
    school, members, person, item, row = upload
    hr = sign_in(app.test_client(), members["hr"].user)
    page = hr.get(_check_url(school, person, item)).get_data(as_text=True)
    evidence = page[page.index('id="evidence"') : page.index('id="risk"')]
    assert "passport.pdf" in evidence and "Pending verification" in evidence
    assert "Not counted until the safeguarding lead or the head verifies it" in evidence
    # HR verifies certificates, not evidence, and does not remove evidence: no buttons for either
    assert _verify_url(school, item, row) not in evidence and "/remove" not in evidence


def test_the_lead_verifies_a_staff_upload_on_the_check_page_and_comes_back_to_it(app, upload):
    school, members, person, item, row = upload
    lead = sign_in(app.test_client(), members["lead"].user)
    page = lead.get(_check_url(school, person, item)).get_data(as_text=True)
    evidence = page[page.index('id="evidence"') : page.index('id="risk"')]
    assert "Pending verification" in evidence
    assert f'action="{_verify_url(school, item, row)}"' in evidence
    assert f'action="{_verify_url(school, item, row, "reject")}"' in evidence
    assert f"/items/{item.id}/evidence/{row.id}/remove" in evidence
    assert 'name="back" value="check"' in evidence and 'value="item"' not in evidence

    response = lead.post(_verify_url(school, item, row), data={"back": "check"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_check_url(school, person, item) + "#evidence")
    [row] = _evidence(item)
    assert row.verification == "verified" and row.reviewed_by_id == members["lead"].user_id
    page = lead.get(_check_url(school, person, item)).get_data(as_text=True)
    assert "verified. It now counts" in page and "Pending verification" not in page


def test_a_rejection_without_a_reason_shows_the_check_page_again(app, upload):
    school, members, person, item, row = upload
    lead = sign_in(app.test_client(), members["lead"].user)
    response = lead.post(_verify_url(school, item, row, "reject"), data={"back": "check", "reason": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Record this check" in page and "Say why the upload is rejected" in page
    assert _evidence(item)[0].verification == "pending"

    response = lead.post(
        _verify_url(school, item, row, "reject"), data={"back": "check", "reason": "The page is unreadable."}
    )
    assert response.headers["Location"].endswith(_check_url(school, person, item) + "#evidence")
    page = sign_in(app.test_client(), members["hr"].user).get(_check_url(school, person, item))
    text = page.get_data(as_text=True)
    assert "Rejected" in text and "The page is unreadable." in text


def test_the_lead_removes_evidence_on_the_check_page_and_comes_back_to_it(app, upload):
    school, members, person, item, row = upload
    lead = sign_in(app.test_client(), members["lead"].user)
    response = lead.post(f"/s/{school.slug}/items/{item.id}/evidence/{row.id}/remove", data={"back": "check"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_check_url(school, person, item) + "#evidence")
    assert _evidence(item) == []
    # from the item page (no `back`, or `back=item`), the removal still returns to the item page
    hr = sign_in(app.test_client(), members["hr"].user)
    response = hr.post(
        f"/s/{school.slug}/people/{person.id}/checks/{item.id}",
        content_type="multipart/form-data",
        data={
            f"c{item.id.hex[:8]}-{k}": v
            for k, v in {
                "version": str(item.version),
                "check_status": "received",
                "document_type": "",
                "notes": "",
            }.items()
        }
        | {f"c{item.id.hex[:8]}-files": [(io.BytesIO(PDF), "again.pdf")]},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [again] = _evidence(item)
    response = lead.post(
        f"/s/{school.slug}/items/{item.id}/evidence/{again.id}/remove", data={"back": "item"}
    )
    assert response.headers["Location"].endswith(f"/items/{item.id}#evidence")


def test_the_item_page_of_a_check_links_to_the_check_page(app, upload):
    school, members, person, item, row = upload
    for role in ("lead", "hr"):
        client = sign_in(app.test_client(), members[role].user)
        page = client.get(f"/s/{school.slug}/items/{item.id}").get_data(as_text=True)
        assert f'href="{_check_url(school, person, item)}"' in page
        assert f"#check-{item.id}" not in page
        # the item page's list is the same partial: the pending upload shows as such there too
        assert "Pending verification" in page
