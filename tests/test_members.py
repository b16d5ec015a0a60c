"""Managing a school's people: invitations, roles, removal, the last lead, switching schools, settings,
and platform admins adding schools."""

import html
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.schools.models import Invitation
from tracker.tenancy import Membership, School

from .conftest import audit_count, login

NEW_PASSWORD = "a brand new long passphrase"


def text(response):
    return html.unescape(response.get_data(as_text=True))


def school_events(school, action):
    db.session.expire_all()
    return (
        db.session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.school_id == school.id, AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def school_event_count(school):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.school_id == school.id)
    )


def signed_in(app, who):
    browser = app.test_client()
    response = login(browser, getattr(who, "user", who).email)
    assert response.status_code == 302
    return browser


def test_a_lead_invites_someone_and_sees_the_one_time_link(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    browser = signed_in(app, lead)
    response = browser.post(
        f"/s/{school.slug}/members/invite", data={"email": "New.Person@example.org", "role": "staff"}
    )
    assert response.status_code == 302
    page = text(browser.get(response.headers["Location"]))
    assert "Invitation created for new.person@example.org" in page
    links = re.findall(r"https?://tracker\.test(/invitations/[A-Za-z0-9_\-]+)", page)
    assert len(links) == 1
    [event] = school_events(school, "member.invited")
    assert event.actor_id == lead.user_id
    assert event.after == {"email": "new.person@example.org", "role": "staff", "access_until": None}

    # the link shown is the working one
    newcomer = app.test_client()
    assert newcomer.get(links[0]).status_code == 200
    response = newcomer.post(
        links[0], data={"name": "New Person", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert newcomer.get(f"/s/{school.slug}/").status_code == 200


def test_a_role_change_is_audited_with_before_and_after(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    member = make_member(school, "staff", email="sam@example.org")
    browser = signed_in(app, lead)
    response = browser.post(f"/s/{school.slug}/members/{member.id}", data={"role": "hr"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, member.id).role == "hr"
    [event] = school_events(school, "member.role_changed")
    assert event.before == {"role": "staff"}
    assert event.after == {"role": "hr"}
    assert event.actor_id == lead.user_id
    assert event.subject_id == str(member.id)


def test_a_removed_member_loses_the_school(app, make_school, make_member):
    """Removal is audited; signing in again, the removed person gets 404 on that school."""
    school = make_school()
    lead = make_member(school, "lead")
    member = make_member(school, "staff", email="leaver@example.org")
    member_id, leaver_user = member.id, member.user
    browser = signed_in(app, lead)
    response = browser.post(f"/s/{school.slug}/members/{member_id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, member_id) is None
    [event] = school_events(school, "member.removed")
    assert event.before == {"user": "leaver@example.org", "role": "staff", "access_until": None}
    assert event.actor_id == lead.user_id

    leaver = signed_in(app, leaver_user)
    assert leaver.get(f"/s/{school.slug}/").status_code == 404
    assert leaver.get(f"/s/{school.slug}/items").status_code == 404
    assert school.name not in leaver.get("/schools").get_data(as_text=True)


def test_the_only_lead_cannot_be_demoted(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    make_member(school, "head")
    browser = signed_in(app, lead)
    before = audit_count()
    response = browser.post(f"/s/{school.slug}/members/{lead.id}", data={"role": "staff"})
    assert response.status_code == 400
    assert "A school needs at least one safeguarding lead" in text(response)
    db.session.expire_all()
    assert db.session.get(Membership, lead.id).role == "lead"
    assert audit_count() == before


def test_the_only_lead_cannot_be_removed(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    head = make_member(school, "head")
    before = school_event_count(school)
    for actor in (lead, head):  # neither the lead themself nor the head can remove the only lead
        browser = signed_in(app, actor)
        response = browser.post(f"/s/{school.slug}/members/{lead.id}/remove")
        assert response.status_code == 400
        assert "You cannot remove the school's only safeguarding lead." in text(response)
    db.session.expire_all()
    assert db.session.get(Membership, lead.id).role == "lead"
    assert school_event_count(school) == before
    assert school_events(school, "member.removed") == []


def test_a_lead_whose_access_has_ended_does_not_count_as_the_remaining_lead(app, make_school, make_member):
    """A second lead whose access ended yesterday cannot look after the school: the last current lead is
    still the last one."""
    school = make_school()
    lead = make_member(school, "lead")
    make_member(school, "lead", access_until=school.today() - timedelta(days=1))
    browser = signed_in(app, lead)
    response = browser.post(f"/s/{school.slug}/members/{lead.id}", data={"role": "staff"})
    assert response.status_code == 400
    assert "A school needs at least one safeguarding lead" in text(response)
    response = browser.post(f"/s/{school.slug}/members/{lead.id}/remove", follow_redirects=True)
    assert "You cannot remove the school's only safeguarding lead." in text(response)
    db.session.expire_all()
    assert db.session.get(Membership, lead.id).role == "lead"


def test_the_only_lead_cannot_end_their_own_access(app, make_school, make_member):
    """Giving the only lead an end date in the past would leave the school without a lead, too."""
    school = make_school()
    lead = make_member(school, "lead")
    browser = signed_in(app, lead)
    yesterday = (school.today() - timedelta(days=1)).isoformat()
    response = browser.post(
        f"/s/{school.slug}/members/{lead.id}", data={"role": "lead", "access_until": yesterday}
    )
    assert response.status_code == 400
    assert "A school needs at least one safeguarding lead" in text(response)
    db.session.expire_all()
    assert db.session.get(Membership, lead.id).access_until is None


def test_making_someone_an_accreditor_needs_an_end_date_on_that_field(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    member = make_member(school, "staff")
    browser = signed_in(app, lead)
    response = browser.post(f"/s/{school.slug}/members/{member.id}", data={"role": "accreditor"})
    assert response.status_code == 400
    assert re.search(
        r'id="access_until-error"[^>]*>.*Give the last day of the accreditor\'s access\.', text(response)
    )
    db.session.expire_all()
    assert db.session.get(Membership, member.id).role == "staff"


def test_one_of_two_leads_can_step_down(app, make_school, make_member):
    """The rule is about the last lead, not every lead (the other lead makes the change: nobody changes their
    own role)."""
    school = make_school()
    lead = make_member(school, "lead")
    other = make_member(school, "lead")
    browser = signed_in(app, other)
    assert browser.post(f"/s/{school.slug}/members/{lead.id}", data={"role": "head"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, lead.id).role == "head"


def test_an_accreditor_invitation_without_an_end_date_is_refused(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    browser = signed_in(app, lead)
    before = audit_count()
    response = browser.post(
        f"/s/{school.slug}/members/invite",
        data={"email": "auditor@example.org", "role": "accreditor", "access_until": ""},
    )
    assert response.status_code == 400
    body = text(response)
    assert re.search(r'id="access_until-error"[^>]*>.*Give the last day of the accreditor\'s access\.', body)
    db.session.expire_all()
    assert db.session.execute(sa.select(Invitation).where(Invitation.school_id == school.id)).first() is None
    assert audit_count() == before

    end = (school.today() + timedelta(days=30)).isoformat()
    response = browser.post(
        f"/s/{school.slug}/members/invite",
        data={"email": "auditor@example.org", "role": "accreditor", "access_until": end},
    )
    assert response.status_code == 302
    db.session.expire_all()
    invitation = db.session.execute(
        sa.select(Invitation).where(Invitation.school_id == school.id)
    ).scalar_one()
    assert invitation.access_until == date.fromisoformat(end)


def test_a_person_in_two_schools_picks_one_and_can_switch(app, make_school, make_member, make_user):
    north = make_school(name="North Academy")
    south = make_school(name="South Academy")
    elsewhere = make_school(name="Elsewhere College")
    user = make_user()
    make_member(north, "staff", user=user)
    make_member(south, "head", user=user)
    browser = signed_in(app, user)

    response = browser.get("/", follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "Your schools" in page
    assert "North Academy" in page and "South Academy" in page
    assert "Elsewhere College" not in page

    response = browser.post("/switch", data={"school": south.slug})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/s/{south.slug}/"
    assert browser.get(f"/s/{south.slug}/").status_code == 200

    response = browser.post("/switch", data={"school": elsewhere.slug})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/schools"
    assert "You are not a member of that school." in text(browser.get("/schools"))
    assert browser.get(f"/s/{elsewhere.slug}/").status_code == 404


def test_a_person_in_one_school_goes_straight_there(app, make_school, make_member):
    school = make_school()
    member = make_member(school, "staff")
    response = signed_in(app, member).get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/s/{school.slug}/"


def test_switching_to_a_school_whose_access_has_ended_is_refused(app, make_school, make_member, make_user):
    current = make_school()
    ended = make_school()
    user = make_user()
    make_member(current, "staff", user=user)
    make_member(ended, "accreditor", user=user, access_until=ended.today() - timedelta(days=1))
    browser = signed_in(app, user)
    response = browser.post("/switch", data={"school": ended.slug})
    assert urlsplit(response.headers["Location"]).path == "/schools"


def test_a_settings_change_is_audited_with_before_and_after(app, make_school, make_member):
    school = make_school(name="Old Name", country="Thailand", timezone="Asia/Bangkok", year_start_month=8)
    lead = make_member(school, "lead")
    browser = signed_in(app, lead)
    response = browser.post(
        f"/s/{school.slug}/settings",
        data={"name": "New Name", "country": "Thailand", "timezone": "Asia/Bangkok", "year_start_month": "9"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(School, school.id)
    assert (saved.name, saved.year_start_month) == ("New Name", 9)
    [event] = school_events(school, "school.settings_changed")
    assert event.before == {"name": "Old Name", "year_start_month": 8}
    assert event.after == {"name": "New Name", "year_start_month": 9}
    assert event.actor_id == lead.user_id

    # saving without a change records nothing
    browser.post(
        f"/s/{school.slug}/settings",
        data={"name": "New Name", "country": "Thailand", "timezone": "Asia/Bangkok", "year_start_month": "9"},
    )
    assert len(school_events(school, "school.settings_changed")) == 1


def test_a_platform_admin_creates_a_school_with_its_first_lead(app, make_user):
    admin = make_user(is_platform_admin=True)
    browser = signed_in(app, admin)
    assert browser.get("/admin/schools/new").status_code == 200
    response = browser.post(
        "/admin/schools/new",
        data={
            "name": "Hillside School",
            "slug": "hillside",
            "country": "Kenya",
            "timezone": "Africa/Nairobi",
            "year_start_month": "1",
            "lead_email": "Lead@Hillside.example",
        },
    )
    assert response.status_code == 302
    page = text(browser.get(response.headers["Location"]))
    [link] = re.findall(r"https?://tracker\.test(/invitations/[A-Za-z0-9_\-]+)", page)

    db.session.expire_all()
    school = db.session.execute(sa.select(School).where(School.slug == "hillside")).scalar_one()
    assert (school.name, school.country, school.timezone, school.year_start_month) == (
        "Hillside School",
        "Kenya",
        "Africa/Nairobi",
        1,
    )
    invitation = db.session.execute(
        sa.select(Invitation).where(Invitation.school_id == school.id)
    ).scalar_one()
    assert (invitation.email, invitation.role) == ("lead@hillside.example", "lead")
    assert [e.action for e in school_events(school, "school.created")] == ["school.created"]

    newcomer = app.test_client()
    response = newcomer.post(
        link, data={"name": "Hana Lead", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert newcomer.get("/s/hillside/members").status_code == 200  # a lead's page


def test_a_non_admin_cannot_create_schools(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    browser = signed_in(app, lead)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(School))
    assert browser.get("/admin/schools/new").status_code == 403
    response = browser.post(
        "/admin/schools/new",
        data={
            "name": "Rogue School",
            "slug": "rogue",
            "country": "",
            "timezone": "UTC",
            "year_start_month": "8",
            "lead_email": "me@example.org",
        },
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(School)) == count
    anonymous = app.test_client().get("/admin/schools/new")
    assert anonymous.status_code == 302 and urlsplit(anonymous.headers["Location"]).path == "/login"
