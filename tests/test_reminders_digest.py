"""Who gets which reminders, when: digest content at fixed times in the schools' own timezones."""

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.reminders.digest import run_daily_digests
from tracker.reminders.models import DigestState, OutboxMessage
from tracker.reminders.settings import set_frequency

from .reminders_helpers import add_item, add_person, digests

# 2026-11-23 is a Monday. 00:30 UTC is 07:30 in Bangkok (UTC+7).
BANGKOK_MORNING = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def _team(make_school, make_member, tz="Asia/Bangkok"):
    school = make_school(timezone=tz)
    team = {
        role: make_member(school, role, name=f"{role.title()} Person")
        for role in ("lead", "head", "hr", "staff", "accreditor")
    }
    return school, team


def _run(at):
    with time_machine.travel(at, tick=False):
        return run_daily_digests()


def test_each_member_gets_one_digest_of_their_own_reminders_and_nobody_gets_an_empty_one(
    make_school, make_member
):
    school, team = _team(make_school, make_member)
    lead, head, hr, staff = (team[r].user for r in ("lead", "head", "hr", "staff"))
    add_item(school, "Staff item in a fortnight", TODAY + timedelta(days=14), owner=staff, owner_role="staff")
    add_item(school, "Unassigned HR item in a week", TODAY + timedelta(days=7), owner_role="hr")
    add_item(school, "Lead item due today", TODAY, owner=lead)
    add_item(school, "Lead item one day late", TODAY - timedelta(days=1), owner=lead)
    add_item(school, "Lead item three days late", TODAY - timedelta(days=3), owner=lead)
    add_item(school, "Lead item eight days late", TODAY - timedelta(days=8), owner=lead)
    add_item(school, "Finished staff item", TODAY, owner=staff, owner_role="staff", status="done")
    add_item(school, "Head item in ten days", TODAY + timedelta(days=10), owner=head, owner_role="head")
    newcomer = add_person(school, "Nia Newcomer", TODAY + timedelta(days=10))
    add_item(
        school, "Police check", TODAY - timedelta(days=5), person=newcomer, owner_role="hr", kind="check"
    )
    later = add_person(school, "Larry Later", TODAY + timedelta(days=20))
    add_item(
        school, "Police check later", TODAY + timedelta(days=3), person=later, owner_role="hr", kind="check"
    )

    report = _run(BANGKOK_MORNING)

    got = digests(school)
    assert set(got) == {lead.email, hr.email, staff.email}, "head had nothing due: no e-mail; accreditor none"
    assert report.messages == 3
    staff_text = got[staff.email].body_text
    assert "Staff item in a fortnight" in staff_text and "Due in the next 14 days" in staff_text
    assert "Finished staff item" not in staff_text
    assert "Unassigned HR item in a week" in got[hr.email].body_text
    lead_text = got[lead.email].body_text
    for title in ("Lead item due today", "Lead item one day late", "Lead item eight days late"):
        assert title in lead_text
    assert "Lead item three days late" not in lead_text, "overdue reminders come on day one, then weekly"
    for who in (lead, hr):
        body = got[who.email].body_text
        assert "Nia Newcomer: 1 check still open" in body and "Police check" in body
        assert "Larry Later" not in body, "starting in 20 days: not yet"
    assert "Nia Newcomer" not in staff_text


def test_every_line_links_to_its_item_in_text_and_html(make_school, make_member):
    school, team = _team(make_school, make_member)
    lead = team["lead"].user
    item = add_item(school, "Review <the> policy & code", TODAY, owner=lead)
    _run(BANGKOK_MORNING)
    message = digests(school)[lead.email]
    link = f"/s/{school.slug}/items/{item.id}"
    assert link in message.body_text and link in message.body_html
    assert "Review &lt;the&gt; policy &amp; code" in message.body_html, "titles are escaped in HTML"
    assert "Review <the> policy & code" in message.body_text
    assert message.subject.endswith("1 safeguarding reminder for 23 November 2026")


def test_digests_wait_for_seven_in_the_morning_in_each_schools_own_timezone(make_school, make_member):
    bangkok, bteam = _team(make_school, make_member, "Asia/Bangkok")
    new_york, nteam = _team(make_school, make_member, "America/New_York")
    add_item(bangkok, "Bangkok today", TODAY, owner=bteam["lead"].user)
    add_item(new_york, "New York today", TODAY, owner=nteam["lead"].user)

    _run(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # 06:30 in Bangkok, 18:30 on the 22nd in New York
    assert digests(bangkok) == {}
    ny_first = digests(new_york)  # New York's 22nd: the item is due tomorrow, not a reminder day
    assert ny_first == {}

    _run(datetime(2026, 11, 23, 0, 5, tzinfo=UTC))  # 07:05 in Bangkok
    assert "Bangkok today" in digests(bangkok)[bteam["lead"].user.email].body_text
    assert digests(new_york) == {}

    _run(datetime(2026, 11, 23, 11, 55, tzinfo=UTC))  # 06:55 in New York
    assert digests(new_york) == {}
    _run(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # 07:00 in New York
    body = digests(new_york)[nteam["lead"].user.email].body_text
    assert "Due today" in body and "New York today" in body


def test_running_the_daily_job_three_times_queues_each_digest_once(make_school, make_member):
    school, team = _team(make_school, make_member)
    add_item(school, "Due today", TODAY, owner=team["lead"].user)
    add_item(school, "Staff due today", TODAY, owner=team["staff"].user, owner_role="staff")
    reports = [
        _run(BANGKOK_MORNING),
        _run(BANGKOK_MORNING + timedelta(minutes=15)),
        _run(BANGKOK_MORNING + timedelta(hours=12)),
    ]
    assert [r.messages for r in reports] == [2, 0, 0]
    count = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.school_id == school.id)
    )
    assert count == 2


def test_a_builder_that_saw_an_old_day_queues_no_second_copy_of_a_digest(make_school, make_member):
    """Even past the day claim (a builder working from stale state), the idempotency key stops a duplicate."""
    from tracker.reminders.digest import build_school_digests

    school, team = _team(make_school, make_member)
    add_item(school, "Due today", TODAY, owner=team["lead"].user)
    assert build_school_digests(school, BANGKOK_MORNING) == 1
    assert build_school_digests(school, BANGKOK_MORNING) is None, "the day is already claimed"
    state = db.session.execute(select(DigestState).where(DigestState.school_id == school.id)).scalar_one()
    state.last_digest_on = TODAY - timedelta(
        days=1
    )  # as a builder that read the state before the claim sees it
    db.session.flush()
    build_school_digests(school, BANGKOK_MORNING)
    db.session.commit()
    assert list(digests(school)) == [team["lead"].user.email]


def test_after_the_scheduler_was_down_only_todays_digest_is_built_and_it_covers_the_missed_days(
    make_school, make_member
):
    school, team = _team(make_school, make_member)
    lead = team["lead"].user
    _run(BANGKOK_MORNING)  # Monday: nothing due, nothing sent, the day is recorded
    assert digests(school) == {}
    # reminder days that fall while the scheduler is down (Tuesday to Thursday)
    add_item(school, "Fourteen days from Tuesday", TODAY + timedelta(days=1 + 14), owner=lead)
    add_item(school, "Due on Wednesday", TODAY + timedelta(days=2), owner=lead)
    add_item(school, "Not yet a reminder day", TODAY + timedelta(days=4 + 10), owner=lead)

    _run(BANGKOK_MORNING + timedelta(days=4))  # back on Friday
    _run(BANGKOK_MORNING + timedelta(days=4, hours=1))
    rows = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.school_id == school.id)).scalars().all()
    )
    assert [(m.to_address, m.digest_on) for m in rows] == [(lead.email, TODAY + timedelta(days=4))]
    body = rows[0].body_text
    assert "Fourteen days from Tuesday" in body
    assert "Due on Wednesday" in body and "Overdue" in body
    assert "Not yet a reminder day" not in body
    state = db.session.execute(select(DigestState).where(DigestState.school_id == school.id)).scalar_one()
    assert state.last_digest_on == TODAY + timedelta(days=4)


def test_weekly_members_hear_on_mondays_only_and_members_with_reminders_off_never(make_school, make_member):
    school, team = _team(make_school, make_member)
    staff, hr = team["staff"].user, team["hr"].user
    set_frequency(school, staff, "weekly")
    set_frequency(school, hr, "off")
    db.session.commit()
    add_item(school, "Staff task in ten days", TODAY + timedelta(days=10), owner=staff, owner_role="staff")
    add_item(school, "Staff task in two days", TODAY + timedelta(days=2), owner=staff, owner_role="staff")
    add_item(school, "HR task today", TODAY, owner=hr, owner_role="hr")

    _run(BANGKOK_MORNING - timedelta(days=1))  # Sunday
    assert digests(school) == {}
    _run(BANGKOK_MORNING)  # Monday: the week ahead, not only today's reminder days
    got = digests(school)
    assert set(got) == {staff.email}
    assert "Staff task in ten days" in got[staff.email].body_text
    assert "Staff task in two days" in got[staff.email].body_text
    assert "weekly summary" in got[staff.email].body_text


def test_training_expiry_goes_to_the_person_and_to_the_lead_and_hr(make_school, make_member):
    from tracker.training.models import TrainingAttendance, TrainingSession
    from tracker.training.services import activities, expiry

    school, team = _team(make_school, make_member)
    staff = team["staff"].user
    yearly = next(a for a in activities() if a.repeat == "yearly" and "all_staff" in a.audience)
    person = add_person(school, "Tara Trained", date(2020, 1, 6), user=staff)
    held = date(2025, 12, 23)  # expires a year later: 30 days after TODAY
    assert expiry(held, "yearly") == TODAY + timedelta(days=30)
    session = TrainingSession(school_id=school.id, requirement_key=yearly.key, held_on=held)
    db.session.add(session)
    db.session.flush()
    db.session.add(TrainingAttendance(school_id=school.id, session_id=session.id, person_id=person.id))
    db.session.commit()

    _run(BANGKOK_MORNING)
    got = digests(school)
    assert set(got) == {team["lead"].user.email, team["hr"].user.email, staff.email}
    assert "Tara Trained: expires 23 December 2026" in got[team["lead"].user.email].body_text
    assert "Yours: expires 23 December 2026" in got[staff.email].body_text
    assert f"/s/{school.slug}/people/me" in got[staff.email].body_text

    _run(BANGKOK_MORNING + timedelta(days=1))  # 29 days left: not a reminder day, so no new digests
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.school_id == school.id)
        )
        == 3
    )


def test_a_school_never_reminds_about_another_schools_items(make_school, make_member):
    school_a, team_a = _team(make_school, make_member)
    school_b, team_b = _team(make_school, make_member)
    add_item(school_b, "Secret B item", TODAY, owner_role="lead")
    add_item(school_a, "A item", TODAY, owner_role="lead")
    _run(BANGKOK_MORNING)
    body = digests(school_a)[team_a["lead"].user.email].body_text
    assert "A item" in body and "Secret B item" not in body
    assert set(digests(school_b)) == {team_b["lead"].user.email}


def test_an_unassigned_item_reminds_the_holders_of_its_role_only_when_they_can_open_it(
    make_school, make_member, client, login_as
):
    """HR may open unassigned HR items, so HR is reminded of them and the link works; staff see only their own
    items, so an unassigned staff item reminds the leads, who assign owners, rather than every member of
    staff."""
    school, team = _team(make_school, make_member)
    hr_item = add_item(school, "Unassigned HR item today", TODAY, owner_role="hr")
    staff_item = add_item(school, "Unassigned staff item today", TODAY, owner_role="staff")
    lead_item = add_item(school, "Unassigned lead item today", TODAY, owner_role="lead")

    _run(BANGKOK_MORNING)

    got = digests(school)
    hr_text = got[team["hr"].user.email].body_text
    lead_text = got[team["lead"].user.email].body_text
    assert "Unassigned HR item today" in hr_text and "Unassigned staff item today" not in hr_text
    assert "Unassigned staff item today" in lead_text and "Unassigned lead item today" in lead_text
    assert team["staff"].user.email not in got, "staff could not open that item: no reminder for them"

    from tracker.tracking.services import start_year

    year = start_year(school, 2026)  # the item list shows a school year's items
    for item in (hr_item, staff_item, lead_item):
        item.year_id = year.id
    db.session.commit()
    login_as(team["hr"].user)
    assert client.get(f"/s/{school.slug}/items/{hr_item.id}").status_code == 200, "the reminder's link opens"
    assert client.get(f"/s/{school.slug}/items/{staff_item.id}").status_code == 404
    assert client.get(f"/s/{school.slug}/items/{lead_item.id}").status_code == 404
    listed = client.get(f"/s/{school.slug}/items").get_data(as_text=True)
    assert "Unassigned HR item today" in listed and "Unassigned lead item today" not in listed
