"""Marking a person as left (people/leavers.py): the date and reason recorded, open checks closed, the leaving
tasks created for that person at that date and owned by HR; refused input re-renders the form."""

from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from tracker.extensions import db
from tracker.people import services as people
from tracker.people.leavers import leaving_tasks
from tracker.people.models import Person
from tracker.tracking.holders import set_holders
from tracker.tracking.models import Item

from .conftest import audit_count
from .world import sign_in

TODAY = date(2026, 11, 23)


@pytest.fixture
def staff_member(make_school, make_member):
    with time_machine.travel(TODAY, tick=False):
        school = make_school(timezone="UTC", country="Kenya")
        members = {role: make_member(school, role) for role in ("lead", "head", "hr")}
        set_holders(school, {"hr": members["hr"].user})
        person = people.add_person(
            school,
            full_name="Lee Leaver",
            email=None,
            category="support",
            start_on=date(2026, 1, 10),
            countries=["Peru"],
        )
        done = db.session.execute(
            sa.select(Item).where(Item.person_id == person.id, Item.requirement_key == "identity-verified")
        ).scalar_one()
        people.update_check(
            school, done, version=done.version, check_status="verified", user=members["hr"].user
        )
        db.session.commit()
        yield school, members, person


def _checks(person):
    return db.session.execute(
        sa.select(Item).where(Item.person_id == person.id, Item.kind == "check")
    ).scalars()


def test_hr_marks_a_person_as_left_and_gets_their_leaving_tasks(app, staff_member):
    school, members, person = staff_member
    client = sign_in(app.test_client(), members["hr"].user)
    with time_machine.travel(TODAY, tick=False):
        response = client.post(
            f"/s/{school.slug}/people/{person.id}/leave",
            data={"left_on": "2026-12-18", "leave_reason": "resigned", "leave_note": ""},
        )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert (person.leave_on, person.leave_reason) == (date(2026, 12, 18), "resigned")
    checks = list(_checks(person))
    verified = [i for i in checks if i.check_status == "verified"]
    assert len(verified) == 1 and verified[0].status == "done", "a done check stays done"
    closed = [i for i in checks if i.check_status != "verified"]
    assert closed and all(i.status == "not_applicable" for i in closed)
    assert all(i.na_reason.startswith("Left on 18 December 2026") for i in closed)
    tasks = leaving_tasks(school, person)
    assert sorted(t.requirement_key for t in tasks) == ["leaver-access-removed", "leaver-record-transfer"]
    assert all(t.due_on == date(2026, 12, 18) and t.owner_id == members["hr"].user_id for t in tasks)
    assert all(t.kind == "task" and t.person_id == person.id for t in tasks)
    page = client.get(f"/s/{school.slug}/people/{person.id}").get_data(as_text=True)
    assert "Left on 18 December 2026" in page and "Remove the leaver" in page
    assert "Mark as left</button>" not in page
    # marking again is refused and adds nothing
    before = audit_count()
    again = client.post(
        f"/s/{school.slug}/people/{person.id}/leave",
        data={"left_on": "2026-12-19", "leave_reason": "resigned", "leave_note": ""},
    )
    assert again.status_code == 400 and "already marked as left" in again.get_data(as_text=True)
    assert audit_count() == before and len(leaving_tasks(school, person)) == 2


@pytest.mark.parametrize(
    "data,message",
    [
        ({"left_on": "2026-12-18", "leave_reason": "other", "leave_note": ""}, "Say why they left."),
        ({"left_on": "", "leave_reason": "resigned", "leave_note": "Keep me"}, "Give the leaving date."),
        ({"left_on": "2026-12-18", "leave_reason": "fired-for-fun", "leave_note": "Keep me"}, "Not a valid"),
        ({"left_on": "2025-12-01", "leave_reason": "resigned", "leave_note": "Keep me"}, "before the start"),
    ],
)
def test_refused_leaving_input_re_renders_with_the_values_and_changes_nothing(
    app, staff_member, data, message
):
    school, members, person = staff_member
    before = audit_count()
    response = sign_in(app.test_client(), members["lead"].user).post(
        f"/s/{school.slug}/people/{person.id}/leave", data=data
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if data["leave_note"]:
        assert data["leave_note"] in page
    db.session.expire_all()
    assert db.session.get(Person, person.id).leave_reason == ""
    assert audit_count() == before and not leaving_tasks(school, person)


def test_only_hr_and_the_lead_mark_people_as_left(app, staff_member):
    school, members, person = staff_member
    response = sign_in(app.test_client(), members["head"].user).post(
        f"/s/{school.slug}/people/{person.id}/leave",
        data={"left_on": "2026-12-18", "leave_reason": "resigned"},
    )
    assert response.status_code == 403
