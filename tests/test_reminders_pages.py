"""Reminder settings, the private calendar feed and the lead's view of who has reminders off."""

import re
from datetime import date, timedelta

import icalendar
from sqlalchemy import select

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.reminders.models import CalendarFeed, ReminderSetting

from .reminders_helpers import add_item


def _feed_url(client, school):
    page = client.get(f"/s/{school.slug}/reminders/").get_data(as_text=True)
    match = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page)
    return match.group(1) if match else None


def _events(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.data)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_a_member_changes_how_often_reminders_come_and_the_change_is_audited(
    make_school, make_member, login_as
):
    school = make_school()
    staff = make_member(school, "staff")
    client = login_as(staff)
    page = client.get(f"/s/{school.slug}/reminders/").get_data(as_text=True)
    assert 'checked id="frequency-0" name="frequency" type="radio" value="daily"' in page
    response = client.post(f"/s/{school.slug}/reminders/", data={"frequency": "weekly"})
    assert response.status_code == 302
    setting = db.session.execute(
        select(ReminderSetting).where(ReminderSetting.user_id == staff.user_id)
    ).scalar_one()
    assert setting.frequency == "weekly" and setting.school_id == school.id
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "reminders.frequency_changed")
    ).scalar_one()
    assert (event.before["frequency"], event.after["frequency"]) == ("daily", "weekly")
    page = client.get(f"/s/{school.slug}/reminders/").get_data(as_text=True)
    assert 'checked id="frequency-1" name="frequency" type="radio" value="weekly"' in page


def test_an_unknown_frequency_is_refused_with_an_error_tied_to_the_field(make_school, make_member, login_as):
    school = make_school()
    client = login_as(make_member(school, "staff"))
    response = client.post(f"/s/{school.slug}/reminders/", data={"frequency": "hourly"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="frequency-error"' in body and 'aria-describedby="frequency-hint frequency-error"' in body
    assert db.session.execute(select(ReminderSetting)).first() is None


def test_the_lead_sees_who_has_reminders_off(make_school, make_member, login_as):
    school = make_school()
    lead = make_member(school, "lead")
    quiet = make_member(school, "staff", name="Quentin Quiet")
    make_member(school, "staff", name="Lou Loud")
    login_as(quiet).post(f"/s/{school.slug}/reminders/", data={"frequency": "off"})
    page = login_as(lead).get(f"/s/{school.slug}/reminders/outbox").get_data(as_text=True)
    section = page.split("Members with reminders off")[1]
    assert "Quentin Quiet" in section and "Lou Loud" not in section


def test_the_calendar_feed_lists_my_open_items_and_parses_as_icalendar(
    make_school, make_member, login_as, client
):
    school = make_school()
    staff = make_member(school, "staff")
    other = make_member(school, "staff")
    today = school.today()
    add_item(school, "My task", today + timedelta(days=5), owner=staff.user, owner_role="staff")
    add_item(
        school,
        "My finished task",
        today + timedelta(days=6),
        owner=staff.user,
        owner_role="staff",
        status="done",
    )
    add_item(school, "Someone else's task", today + timedelta(days=5), owner=other.user, owner_role="staff")
    login_as(staff)
    assert _feed_url(client, school) is None
    assert client.post(f"/s/{school.slug}/reminders/calendar").status_code == 302
    url = _feed_url(client, school)
    assert url and "/calendar/" in url and url.endswith(".ics")
    feed = db.session.execute(select(CalendarFeed)).scalar_one()
    token = url.rsplit("/", 1)[1][:-4]
    assert token not in (feed.token_hash, feed.salt), "only a hash of the token is stored"

    anonymous = client.application.test_client()
    events = _events(anonymous.get(url.replace("http://tracker.test", "")))
    assert set(events) == {"Due: My task"}
    event = events["Due: My task"]
    assert event.decoded("dtstart") == today + timedelta(days=5)
    assert f"/s/{school.slug}/items/" in str(event["url"])


def test_a_revoked_or_replaced_calendar_link_gets_404(make_school, make_member, login_as, client):
    school = make_school()
    staff = make_member(school, "staff")
    login_as(staff)
    client.post(f"/s/{school.slug}/reminders/calendar")
    first = _feed_url(client, school).replace("http://tracker.test", "")
    anonymous = client.application.test_client()
    assert anonymous.get(first).status_code == 200

    client.post(f"/s/{school.slug}/reminders/calendar")  # a new link replaces the old one
    second = _feed_url(client, school).replace("http://tracker.test", "")
    assert second != first
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200

    assert client.post(f"/s/{school.slug}/reminders/calendar/revoke").status_code == 302
    assert anonymous.get(second).status_code == 404
    actions = (
        db.session.execute(
            select(AuditEvent.action).where(AuditEvent.school_id == school.id).order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )
    assert actions[-3:] == [
        "reminders.calendar_link_created",
        "reminders.calendar_link_replaced",
        "reminders.calendar_link_revoked",
    ]
    assert anonymous.get("/calendar/not-a-real-token.ics").status_code == 404


def test_a_calendar_link_of_one_school_never_shows_another_schools_items(
    make_school, make_member, login_as, client
):
    school_a, school_b = make_school(), make_school()
    user = make_member(school_a, "lead").user
    make_member(school_b, "lead", user=user)  # the same person leads both schools
    add_item(school_a, "A's item", date.today() + timedelta(days=3), owner=user)
    add_item(school_b, "B's item", date.today() + timedelta(days=3), owner=user)
    login_as(user)
    client.post(f"/s/{school_a.slug}/reminders/calendar")
    events = _events(
        client.application.test_client().get(_feed_url(client, school_a).replace("http://tracker.test", ""))
    )
    assert set(events) == {"Due: A's item"}


def test_a_calendar_link_stops_working_when_the_member_leaves_the_school(
    make_school, make_member, login_as, client
):
    school = make_school()
    staff = make_member(school, "staff")
    login_as(staff)
    client.post(f"/s/{school.slug}/reminders/calendar")
    url = _feed_url(client, school).replace("http://tracker.test", "")
    db.session.delete(db.session.merge(staff))
    db.session.commit()
    assert client.application.test_client().get(url).status_code == 404


def test_accreditors_have_no_reminder_settings(make_school, make_member, login_as):
    school = make_school()
    client = login_as(make_member(school, "accreditor"))
    assert client.get(f"/s/{school.slug}/reminders/").status_code == 403
