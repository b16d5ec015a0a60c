"""The first-year setup (tracker/tracking/setup.py, setup_views.py, holders.py): the year it offers, owners
from the role holders, what already happened (done before we started, not applicable, catch up, the plan),
invitations; bad input is a 4xx with nothing saved, and every change is audited."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.frameworks.models import Framework
from tracker.reminders.models import OutboxMessage
from tracker.schools.models import Invitation
from tracker.tracking import holders, services, setup, setup_queries
from tracker.tracking.models import DONE, NOT_APPLICABLE, OPEN_STATUSES, Item, SchoolYear

from .conftest import audit_count
from .world import sign_in

#: "today" for every test here: 30 November 2026, a quarter into the school year that began in August 2026
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 30)
CATCH_UP = TODAY + timedelta(days=30)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def school(make_school):
    return make_school(timezone="UTC", year_start_month=8)


@pytest.fixture
def lead(school, make_member):
    return make_member(school, "lead", name="Lena Lead")


@pytest.fixture
def head(school, make_member):
    return make_member(school, "head", name="Hugo Head")


@pytest.fixture
def hr(school, make_member):
    return make_member(school, "hr", name="Hana HR")


@pytest.fixture
def lead_client(app, lead):
    return sign_in(app.test_client(), lead.user)


def _url(school, path=""):
    return f"/s/{school.slug}/setup{path}"


def _year(school):
    db.session.expire_all()
    return db.session.execute(db.select(SchoolYear).where(SchoolYear.school_id == school.id)).scalar_one()


def _items(year, *where):
    db.session.expire_all()
    return db.session.execute(db.select(Item).where(Item.year_id == year.id, *where)).scalars().all()


def _events(school, action):
    db.session.expire_all()
    return (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.school_id == school.id, AuditEvent.action == action)
        )
        .scalars()
        .all()
    )


def _overdue(year):
    return _items(year, Item.status.in_(OPEN_STATUSES), Item.due_on < TODAY)


def _start(client, school, start=2026):
    response = client.post(_url(school), data={"start_year": str(start)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    year = _year(school)
    assert response.headers["Location"].endswith(f"/setup/{year.id}/roles")
    return year


def _saved(response):
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response


# --- step 1: the year ---------------------------------------------------------------------------------------


def test_the_setup_offers_the_current_year_first_and_never_one_that_exists(app, school, lead_client):
    assert [c.start_year for c in setup_queries.offered_years(school)] == [2026, 2027]
    html = lead_client.get(_url(school)).get_data(as_text=True)
    assert "Step 1 of 4" in html
    assert 'value="2026" checked' in html and "2026–27" in html and "(the current year)" in html

    services.start_year(school, 2026)
    db.session.commit()
    assert [c.start_year for c in setup_queries.offered_years(school)] == [2027, 2028]
    html = lead_client.get(_url(school)).get_data(as_text=True)
    assert 'value="2026"' not in html
    assert 'value="2027" checked' in html

    services.start_year(school, 2027)
    db.session.commit()
    assert [c.start_year for c in setup_queries.offered_years(school)] == [2028, 2029]


def test_a_year_not_offered_is_refused_with_a_clear_error_and_nothing_saved(app, school, lead_client):
    services.start_year(school, 2026)
    db.session.commit()
    before = audit_count()
    for start in ("2026", "2025", "1999", "", "not-a-year"):
        response = lead_client.post(_url(school), data={"start_year": start})
        assert response.status_code == 400, start
        assert "There is a problem" in response.get_data(as_text=True)
    assert audit_count() == before
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(SchoolYear).where(SchoolYear.school_id == school.id)
        )
        == 1
    )


def test_step_one_starts_the_year_and_nothing_due_before_today_reads_overdue(app, school, lead, lead_client):
    year = _start(lead_client, school)
    moved = _items(year, Item.planned_due_on.is_not(None))
    assert moved, "a year that began in August has items due before 30 November"
    assert all(i.planned_due_on < TODAY and i.due_on == CATCH_UP for i in moved)
    assert _overdue(year) == []
    # the dashboard, the list's overdue filter and the digest all use `due_on < today`: nothing there
    home = lead_client.get(f"/s/{school.slug}/?year={year.id}").get_data(as_text=True)
    assert "Nothing is overdue" in home
    listed = lead_client.get(f"/s/{school.slug}/items?year={year.id}&overdue=1").get_data(as_text=True)
    assert not any(i.title in listed for i in moved)
    # each move is audited on the item, with the planned date
    changed = {e.subject_id: e for e in _events(school, "item.changed")}
    for item in moved:
        event = changed[str(item.id)]
        assert event.after == {
            "due_on": CATCH_UP.isoformat(),
            "planned_due_on": item.planned_due_on.isoformat(),
        }
        assert event.before["due_on"] == item.planned_due_on.isoformat()
    assert len(_events(school, "year.started")) == 1


def test_the_catch_up_date_stays_inside_the_year(app, make_school, make_member):
    school = make_school(timezone="UTC", year_start_month=12)  # the year Dec 2025 - Nov 2026 ends today
    make_member(school, "lead")
    year, moved = setup.start_first_year(school, 2025)
    assert year.ends_on == TODAY
    assert moved and setup.default_catch_up(school, year) == TODAY
    assert {i.due_on for i in _items(year, Item.planned_due_on.is_not(None))} == {TODAY}
    assert _overdue(year) == []


# --- step 2: role holders -----------------------------------------------------------------------------------


def _holders_data(lead=None, head=None, hr=None, reassign=True):
    data = {
        "holder_lead": str(lead.user_id) if lead else "",
        "holder_head": str(head.user_id) if head else "",
        "holder_hr": str(hr.user_id) if hr else "",
    }
    if reassign:
        data["reassign"] = "y"
    return data


def test_holders_give_every_item_of_their_role_an_owner(app, school, lead, head, hr, lead_client):
    year = _start(lead_client, school)
    html = lead_client.get(_url(school, f"/{year.id}/roles")).get_data(as_text=True)
    assert "Step 2 of 4" in html
    response = _saved(lead_client.post(_url(school, f"/{year.id}/roles"), data=_holders_data(lead, head, hr)))
    assert response.headers["Location"].endswith(f"/setup/{year.id}/past")
    items = _items(year)
    assert items and all(i.owner_id is not None for i in items)
    owner_of = {"lead": lead.user_id, "head": head.user_id, "hr": hr.user_id}
    assert all(i.owner_id == owner_of[i.owner_role] for i in items)
    assert {e.after["role"] for e in _events(school, "school.role_holder_changed")} == {"lead", "head", "hr"}
    owner_events = [e for e in _events(school, "item.changed") if "owner" in e.after]
    assert len(owner_events) == len(items)


def test_later_years_and_roll_over_take_owners_from_the_holders(app, school, lead, head, hr, make_member):
    holders.set_holders(school, {"lead": lead.user, "head": head.user, "hr": hr.user})
    year = services.start_year(school, 2026)
    owner_of = {"lead": lead.user_id, "head": head.user_id, "hr": hr.user_id}
    assert all(i.owner_id == owner_of[i.owner_role] for i in _items(year))

    # a new head, and last year's head items without an owner: the next year gives them to the new head,
    # while items that had an owner keep them (roll-over stays as it is)
    new_head = make_member(school, "head", name="Nia New Head")
    holders.set_holders(school, {"head": new_head.user})
    for item in _items(year, Item.owner_role == "head"):
        item.owner_id = None
    db.session.flush()
    nxt = services.roll_over(school, year)
    rolled = _items(nxt)
    assert rolled
    for item in rolled:
        if item.owner_role == "head":
            assert item.owner_id == new_head.user_id
        elif item.owner_role in owner_of:
            assert item.owner_id == owner_of[item.owner_role]


def test_items_a_framework_upgrade_adds_get_their_owner_from_the_holders(app, school, lead, tmp_path):
    from tracker.seeding import import_framework

    from .test_tracking import ADDED_KEY, _write_new_policy_form

    holders.set_holders(school, {"lead": lead.user})
    year = services.start_year(school, 2026)
    import_framework(_write_new_policy_form(app, tmp_path))
    db.session.flush()
    new = db.session.execute(
        db.select(Framework).where(Framework.key == "policy-form", Framework.version == "2099.1")
    ).scalar_one()
    services.upgrade_framework(school, year, new)
    [added] = _items(year, Item.requirement_key == ADDED_KEY)
    assert added.owner_id == lead.user_id


def test_a_holder_who_left_gives_no_owner(app, school, lead, head):
    holders.set_holders(school, {"head": head.user})
    db.session.delete(head)
    db.session.flush()
    assert "head" not in holders.owner_ids(school)
    year = services.start_year(school, 2026)
    assert all(i.owner_id is None for i in _items(year, Item.owner_role == "head"))


def test_the_role_holders_page_reassigns_only_when_asked(app, school, lead, head, lead_client):
    year = services.start_year(school, 2026)
    db.session.commit()
    _saved(lead_client.post(f"/s/{school.slug}/roles", data=_holders_data(lead, head, reassign=False)))
    assert all(i.owner_id is None for i in _items(year))
    assert set(holders.owner_ids(school)) == {"lead", "head"}
    _saved(lead_client.post(f"/s/{school.slug}/roles", data=_holders_data(lead, head, reassign=True)))
    assert all(i.owner_id == head.user_id for i in _items(year, Item.owner_role == "head"))
    assert all(i.owner_id is None for i in _items(year, Item.owner_role == "hr"))


def test_a_holder_must_be_a_current_member_not_an_accreditor(app, school, lead, lead_client, make_member):
    year = _start(lead_client, school)
    accreditor = make_member(school, "accreditor")
    before = audit_count()
    response = lead_client.post(
        _url(school, f"/{year.id}/roles"),
        data={**_holders_data(lead), "holder_head": str(accreditor.user_id)},
    )
    assert response.status_code == 400
    response = lead_client.post(
        _url(school, f"/{year.id}/roles"), data={**_holders_data(lead), "holder_hr": "not-a-uuid"}
    )
    assert response.status_code == 400
    assert audit_count() == before
    assert holders.holders(school) == {}


# --- step 3: what already happened --------------------------------------------------------------------------


def _past(school, year, key="action-plan"):
    db.session.expire_all()
    ids = set(db.session.execute(db.select(Framework.id).where(Framework.key == key)).scalars())
    return [i for i in setup_queries.past_items(school, year) if i.framework_id in ids]


def test_the_past_step_lists_items_due_before_today_grouped_by_framework(app, school, lead_client):
    year = _start(lead_client, school)
    html = lead_client.get(_url(school, f"/{year.id}/past")).get_data(as_text=True)
    assert "Step 3 of 4" in html
    assert "Annual Safeguarding Action Plan" in html
    past = setup_queries.past_items(school, year)
    assert past and all(f'value="{i.id}"' in html for i in past)
    assert 'data-select-group="g1"' in html
    assert all(i.id not in {p.id for p in past} for i in _items(year, Item.planned_due_on.is_(None)))


def test_done_before_we_started_with_a_date_marks_a_whole_group_done(app, school, lead_client):
    year = _start(lead_client, school)
    group = _past(school, year)
    before = audit_count()
    response = _saved(
        lead_client.post(
            _url(school, f"/{year.id}/past"),
            data={"items": [str(i.id) for i in group], "action": "done_before", "done_on": "2026-09-15"},
        )
    )
    assert response.headers["Location"].endswith(f"/setup/{year.id}/past")
    for item in _items(year, Item.id.in_([i.id for i in group])):
        assert item.status == DONE and item.completed_on == date(2026, 9, 15)
        assert item.planned_due_on is None and item.due_on < TODAY  # back on its planned date, and done
    assert audit_count() == before + len(group) + 1
    [summary] = _events(school, "year.past_items_settled")
    assert summary.after == {"action": "done_before", "items": len(group)}
    assert _past(school, year) == []


def test_done_before_without_a_date_uses_each_items_planned_date(app, school, lead_client):
    year = _start(lead_client, school)
    group = _past(school, year, "training-plan")
    planned = {i.id: i.planned_due_on for i in group}
    _saved(
        lead_client.post(
            _url(school, f"/{year.id}/past"),
            data={"items": [str(i) for i in planned], "action": "done_before"},
        )
    )
    for item in _items(year, Item.id.in_(planned)):
        assert item.status == DONE and item.completed_on == planned[item.id] == item.due_on


def test_not_applicable_needs_a_reason_and_then_saves_it(app, school, lead_client):
    year = _start(lead_client, school)
    group = _past(school, year)[:3]
    ids = [str(i.id) for i in group]
    before = audit_count()
    response = lead_client.post(
        _url(school, f"/{year.id}/past"), data={"items": ids, "action": "not_applicable"}
    )
    assert response.status_code == 400
    assert "Say why these items do not apply" in response.get_data(as_text=True)
    assert audit_count() == before
    _saved(
        lead_client.post(
            _url(school, f"/{year.id}/past"),
            data={"items": ids, "action": "not_applicable", "reason": "We have no boarding house."},
        )
    )
    for item in _items(year, Item.id.in_([i.id for i in group])):
        assert item.status == NOT_APPLICABLE and item.na_reason == "We have no boarding house."


def test_catch_up_moves_the_due_date_and_keeps_the_planned_one(app, school, lead_client):
    year = _start(lead_client, school)
    group = _past(school, year)[:4]
    planned = {i.id: i.planned_due_on for i in group}
    _saved(
        lead_client.post(
            _url(school, f"/{year.id}/past"),
            data={"items": [str(i) for i in planned], "action": "catch_up", "catch_up_on": "2027-02-01"},
        )
    )
    for item in _items(year, Item.id.in_(planned)):
        assert item.due_on == date(2027, 2, 1) and item.planned_due_on == planned[item.id]
        assert item.status in OPEN_STATUSES
    assert _overdue(year) == []
    changed = [e for e in _events(school, "item.changed") if e.after.get("due_on") == "2027-02-01"]
    assert len(changed) == len(group)


def test_keeping_the_planned_date_is_the_one_way_to_make_them_overdue(app, school, lead_client):
    year = _start(lead_client, school)
    group = _past(school, year)[:2]
    _saved(
        lead_client.post(
            _url(school, f"/{year.id}/past"), data={"items": [str(i.id) for i in group], "action": "keep"}
        )
    )
    assert {i.id for i in _overdue(year)} == {i.id for i in group}
    html = lead_client.get(_url(school, f"/{year.id}/past")).get_data(as_text=True)
    assert "Overdue" in html  # still listed, so the lead can change their mind


@pytest.mark.parametrize(
    "data,message",
    [
        ({"action": "catch_up", "catch_up_on": "2026-11-01"}, "from today to the last day"),
        ({"action": "catch_up", "catch_up_on": "2027-08-01"}, "from today to the last day"),
        ({"action": "catch_up", "catch_up_on": ""}, "Give the date to catch up by"),
        ({"action": "done_before", "done_on": "2026-12-05"}, "cannot be after today"),
        ({"action": "done_before", "done_on": "9999-01-01"}, "check the year"),
        ({"action": "explode"}, "Not a valid choice"),
        ({}, "Choose what happened"),
    ],
)
def test_bad_input_on_the_past_step_is_a_400_with_nothing_saved(app, school, lead_client, data, message):
    year = _start(lead_client, school)
    group = _past(school, year)[:3]
    before = audit_count()
    response = lead_client.post(
        _url(school, f"/{year.id}/past"), data={"items": [str(i.id) for i in group], **data}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audit_count() == before
    assert all(
        i.status in OPEN_STATUSES and i.due_on == CATCH_UP
        for i in _items(year, Item.id.in_([i.id for i in group]))
    )


def test_an_item_not_on_the_list_or_none_selected_is_refused(app, school, lead_client):
    year = _start(lead_client, school)
    future = _items(year, Item.due_on > CATCH_UP)[0]
    before = audit_count()
    for items in ([str(future.id)], ["not-an-id"], []):
        response = lead_client.post(_url(school, f"/{year.id}/past"), data={"items": items, "action": "keep"})
        assert response.status_code == 400, items
    assert audit_count() == before


def test_a_signed_off_year_cannot_be_settled(app, school, lead_client):
    year = _start(lead_client, school)
    year.signed_off_at = NOW
    db.session.commit()
    group = _past(school, year)[:1]
    response = lead_client.post(
        _url(school, f"/{year.id}/past"), data={"items": [str(group[0].id)], "action": "keep"}
    )
    assert response.status_code == 400
    assert "signed off" in response.get_data(as_text=True)


# --- step 4: invitations ------------------------------------------------------------------------------------


def _invites(*rows):
    data = {}
    for n, (email, role) in enumerate(rows):
        data[f"invites-{n}-email"] = email
        data[f"invites-{n}-role"] = role
    return data


def test_invitations_are_created_and_their_links_sent_then_the_dashboard(
    app, school, lead_client, monkeypatch
):
    year = _start(lead_client, school)
    html = lead_client.get(_url(school, f"/{year.id}/invite")).get_data(as_text=True)
    assert "Step 4 of 4" in html and 'name="invites-4-email"' in html
    response = _saved(
        lead_client.post(
            _url(school, f"/{year.id}/invite"),
            data=_invites(("Dana@Example.org", "head"), ("", "staff"), ("sam@example.org", "staff")),
        )
    )
    assert response.headers["Location"].endswith(f"/s/{school.slug}/?year={year.id}")
    invitations = (
        db.session.execute(
            db.select(Invitation).where(Invitation.school_id == school.id).order_by(Invitation.email)
        )
        .scalars()
        .all()
    )
    assert [(i.email, i.role) for i in invitations] == [
        ("dana@example.org", "head"),
        ("sam@example.org", "staff"),
    ]
    assert len(_events(school, "member.invited")) == 2
    sent = [  # each invitation is e-mailed through the school's outbox
        (m.to_address, re.search(r"https?://\S+/invitations/\S+", m.body_text).group(0))
        for m in db.session.execute(
            db.select(OutboxMessage)
            .where(OutboxMessage.school_id == school.id)
            .order_by(OutboxMessage.to_address)
        ).scalars()
    ]
    assert sorted(to for to, _ in sent) == ["dana@example.org", "sam@example.org"]
    assert all("/invitations/" in url for _, url in sent)
    home = lead_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is set up" in home and sent[0][1] in home  # the links are shown to the lead too


@pytest.mark.parametrize(
    "rows,message",
    [
        ((("dana@example.org", "head"), ("DANA@example.org", "staff")), "on the list twice"),
        ((("dana@example.org", "head"), ("not an address", "staff")), "valid e-mail"),
        ((("dana@example.org", "accreditor"),), "Row 1: choose a role for dana@example.org"),
        ((("", "staff"),), "Add at least one e-mail address"),
    ],
)
def test_a_bad_invitation_row_saves_none_of_them(app, school, lead_client, rows, message):
    year = _start(lead_client, school)
    before = audit_count()
    response = lead_client.post(_url(school, f"/{year.id}/invite"), data=_invites(*rows))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audit_count() == before
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Invitation).where(Invitation.school_id == school.id)
        )
        == 0
    )


def test_a_head_cannot_invite_a_lead_from_the_setup(app, school, head):
    client = sign_in(app.test_client(), head.user)
    _start(client, school)
    year = _year(school)
    response = client.post(_url(school, f"/{year.id}/invite"), data=_invites(("x@example.org", "lead")))
    assert response.status_code == 400
    assert "Only a safeguarding lead can invite a lead" in response.get_data(as_text=True)


# --- the way in ---------------------------------------------------------------------------------------------


def test_a_new_school_points_to_the_setup_and_staff_cannot_use_it(app, school, lead_client, make_member):
    html = lead_client.get(f"/s/{school.slug}/").get_data(as_text=True)
    assert f'href="/s/{school.slug}/setup"' in html and "Set up your first year" in html
    staff = make_member(school, "staff")
    client = sign_in(app.test_client(), staff.user)
    assert "Set up your first year" not in client.get(f"/s/{school.slug}/").get_data(as_text=True)
    assert client.get(_url(school)).status_code == 403
    assert client.post(_url(school), data={"start_year": "2026"}).status_code == 403


def test_a_moved_item_says_when_it_was_planned_and_the_roles_step_points_to_term_dates(
    app, school, lead_client
):
    year = _start(lead_client, school)
    roles = lead_client.get(_url(school, f"/{year.id}/roles")).get_data(as_text=True)
    assert f"/s/{school.slug}/years/{year.id}/terms" in roles and "Term dates" in roles
    moved = _items(year, Item.planned_due_on.is_not(None))[0]
    page = lead_client.get(f"/s/{school.slug}/items/{moved.id}").get_data(as_text=True)
    planned = moved.planned_due_on.strftime("%-d %B")
    assert f"(planned for {planned}, moved when the school started using the tracker)" in page
