"""Waiting for you: each role's dashboard and digest start with exactly what waits for that member, as
counts, each line linking to a page that member may open; the dashboard and the digest job run a fixed number
of queries however much is waiting."""

import re
from contextlib import contextmanager
from datetime import timedelta

import icalendar
import pytest
from blinker import ANY
from sqlalchemy import select

from tracker.extensions import db
from tracker.links import base_url
from tracker.people.checks import sign_risk_assessment
from tracker.reminders.calendar import feed_url, new_feed
from tracker.reminders.digest import build_school_digests
from tracker.reminders.models import DigestState, OutboxMessage
from tracker.review.services import raise_query, reply
from tracker.signals import waiting_for
from tracker.tracking import services
from tracker.waiting import lines_for

from .reminders_helpers import add_item, add_person
from .test_tracking_queries import counted_queries
from .waiting_helpers import ROLES, academic_start, school_links, waiting_school
from .world import sign_in

#: the kinds of line each role gets from waiting_school()
EXPECTED = {
    "lead": {"queries", "checks", "own_overdue"},
    "head": {"queries", "risk_sign", "year_sign_off"},
    "hr": {"checks"},
    "staff": {"own_overdue", "own_due_soon"},
    "accreditor": set(),
}


def _lines(world, role):
    return lines_for(world.school, world.members[role], world.school.today())


def test_each_role_gets_exactly_its_lines_as_counts(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=1)
    with app.test_request_context():
        got = {role: _lines(world, role) for role in ROLES}
    assert {role: {line.kind for line in lines} for role, lines in got.items()} == EXPECTED
    texts = {role: {line.kind: line.text for line in lines} for role, lines in got.items()}
    assert texts["lead"]["queries"] == "1 accreditor query to answer"
    assert texts["head"]["risk_sign"] == "1 risk assessment to sign"
    assert texts["head"]["year_sign_off"].endswith("is ready to sign off")
    assert texts["hr"]["checks"] == "1 recruitment check due before a start date"
    assert texts["staff"] == {
        "own_overdue": "1 of your items is overdue",
        "own_due_soon": "1 of your items is due in the next 30 days",
    }


def test_thirty_of_each_kind_are_counted_not_listed(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=30)
    with app.test_request_context():
        lead = {line.kind: line for line in _lines(world, "lead")}
        head = {line.kind: line for line in _lines(world, "head")}
        staff = {line.kind: line for line in _lines(world, "staff")}
        ready = [line for line in _lines(world, "head") if line.kind == "year_sign_off"]
    assert lead["queries"].text == "30 accreditor queries to answer" and lead["queries"].count == 30
    assert lead["queries"].url.endswith("/review/?state=open"), "many: the filtered list, not one thread"
    assert lead["checks"].text == "30 recruitment checks due before start dates (30 people)"
    assert lead["checks"].url.endswith("/people/?filter=incomplete")
    assert head["risk_sign"].text == "30 risk assessments to sign"
    assert len(ready) == 30, "one line per year to sign off, each naming its year"
    assert staff["own_overdue"].text == "30 of your items are overdue" and staff["own_overdue"].count == 30


def test_a_signed_off_year_and_a_signed_assessment_wait_no_more(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=1)
    head = world.members["head"].user
    sign_risk_assessment(world.school, world.checks[0], user=head)
    world.year.signed_off_at = _now()
    db.session.commit()
    with app.test_request_context():
        head_kinds = {line.kind for line in _lines(world, "head")}
        staff_kinds = {line.kind for line in _lines(world, "staff")}
    assert "risk_sign" not in head_kinds
    assert staff_kinds == set(), "the items of a signed-off year wait for nobody"


@pytest.mark.parametrize("role", ROLES)
def test_the_dashboard_starts_with_the_panel_and_every_link_on_it_opens_for_that_member(
    app, make_school, make_member, role
):
    world = waiting_school(make_school, make_member, n=2)
    slug = world.school.slug
    # a member of staff given a recruitment check: its pages must not send them to the register (403)
    check = world.checks[0]
    check.owner_id = world.members["staff"].user_id
    db.session.commit()
    client = sign_in(app.test_client(), world.members[role].user)
    response = client.get(f"/s/{slug}/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    panel = page.index('id="waiting-heading"')
    assert panel < page.index('class="tiles"') and panel < page.index("<h2>Progress</h2>"), "the panel first"
    with app.test_request_context():
        lines = _lines(world, role)
    for line in lines:
        assert f'href="{line.url}"'.replace("&", "&amp;") in page, line
        assert line.text in page
    if not lines:
        assert "Nothing is waiting for you." in page
    links = school_links(page, slug)
    if role == "staff":
        links.append(f"/s/{slug}/items/{check.id}")
    for href in links:
        if "/reports/" in href and "accreditation" in href:
            continue  # the PDF download: the report tests open it
        got = client.get(href)
        assert got.status_code == 200, f"{role}: {href} answered {got.status_code}"
        if href.endswith(f"/items/{check.id}"):
            assert f"/people/{check.person_id}" not in got.get_data(as_text=True), "no link to the register"


def _digests(school) -> dict:
    rows = db.session.execute(select(OutboxMessage).where(OutboxMessage.school_id == school.id)).scalars()
    return {m.user_id: m for m in rows}


def test_every_link_in_every_digest_opens_for_its_reader(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=2)
    world.checks[0].owner_id = world.members["staff"].user_id  # a check given to a member of staff
    db.session.commit()
    assert build_school_digests(world.school, _now()) == 4, "everyone but the accreditor"
    with app.app_context():
        base = base_url()
    for role in ("lead", "head", "hr", "staff"):
        member = world.members[role]
        message = _digests(world.school)[member.user_id]
        text = message.body_text
        assert text.index("Waiting for you") < text.index("http"), "the waiting lines come first"
        urls = set(re.findall(r"https?://\S+", text)) | set(re.findall(r'href="([^"]+)"', message.body_html))
        assert urls and all(u.startswith(base + "/") for u in urls), urls
        client = sign_in(app.test_client(), member.user)
        for url in sorted(urls):
            path = url.replace("&amp;", "&")[len(base) :].split("#")[0]
            got = client.get(path)
            assert got.status_code == 200, f"{role}: {path} answered {got.status_code}"


def _now():
    from tracker.db import utcnow

    return utcnow()


def test_the_lead_hears_of_a_new_query_in_the_digest_even_with_nothing_due(app, make_school, make_member):
    school = make_school(timezone="UTC")
    members = {role: make_member(school, role) for role in ("lead", "staff", "accreditor")}
    year = services._create_year(school, academic_start(school))
    item = add_item(school, "Asked about", school.today() + timedelta(days=100))  # no reminder due
    item.year_id = year.id
    db.session.commit()
    assert build_school_digests(school, _now()) == 0, "nothing waiting, nothing due: no e-mail"
    db.session.execute(db.delete(DigestState).where(DigestState.school_id == school.id))
    raise_query(school, item, body="Why?", user=members["accreditor"].user, role="accreditor")
    db.session.commit()
    assert build_school_digests(school, _now()) == 1
    lead = _digests(school)[members["lead"].user_id]
    assert "1 accreditor query to answer" in lead.body_text and "/review/queries/" in lead.body_text
    assert "1 accreditor query to answer" in lead.body_html
    assert "waiting for you" in lead.subject


def test_answering_the_query_takes_the_line_away(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=1)
    lead = world.members["lead"].user
    reply(world.school, world.queries[0], body="Here it is.", user=lead, role="lead")
    db.session.commit()
    with app.test_request_context():
        assert "queries" not in {line.kind for line in _lines(world, "lead")}
        accreditor = _lines(world, "accreditor")
    assert [line.kind for line in accreditor] == ["queries_answered"], "now it waits for the accreditor"


# --- query counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "head", "hr", "staff"])
def test_the_dashboard_runs_as_many_queries_with_thirty_things_waiting_as_with_one(
    app, make_school, make_member, role
):
    measured = {}
    for n in (1, 30):
        world = waiting_school(make_school, make_member, n=n)
        client = sign_in(app.test_client(), world.members[role].user)
        url = f"/s/{world.school.slug}/"
        client.get(url)
        with counted_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        measured[n] = statements
    assert len(measured[1]) == len(measured[30]), "\n".join(measured[30])


#: the receivers of this feature (each other feature tests its own)
OURS = ("tracker.review.waiting", "tracker.people.waiting", "tracker.tracking.waiting")


@contextmanager
def only_our_receivers():
    """The digest job with the waiting lines of queries, the register and the years only."""
    others = [r for r in waiting_for.receivers_for(ANY) if r.__module__ not in OURS]
    for receiver in others:
        waiting_for.disconnect(receiver)
    try:
        yield
    finally:
        for receiver in others:
            waiting_for.connect(receiver)


def test_the_digest_job_reads_our_waiting_lines_once_per_school_not_once_per_member(
    app, make_school, make_member
):
    measured = {}
    with only_our_receivers():
        for n, extra in ((1, 1), (30, 25)):
            world = waiting_school(make_school, make_member, n=n, extra_staff=extra)
            with counted_queries() as statements:
                built = build_school_digests(world.school, _now())
            assert built == 4 + extra
            measured[n] = statements
    assert len(measured[1]) == len(measured[30]), "\n".join(measured[30])


def test_the_digest_job_runs_as_many_queries_for_many_members_and_things_as_for_few(
    app, make_school, make_member
):
    """Every feature's receivers together: a receiver that queries once per member fails this (read what is
    school-wide through waiting.per_school, and every member's rows at once when waiting.is_batched())."""
    measured = {}
    for n, extra in ((1, 1), (30, 25)):
        world = waiting_school(make_school, make_member, n=n, extra_staff=extra)
        with counted_queries() as statements:
            built = build_school_digests(world.school, _now())
        assert built == 4 + extra
        measured[n] = statements
    assert len(measured[1]) == len(measured[30]), "\n".join(measured[30])


@pytest.mark.parametrize("role", ["lead", "head", "hr", "staff"])
def test_every_link_in_a_members_calendar_feed_opens_for_them(app, make_school, make_member, role):
    """The calendar feed lists a member's items the same way. An unassigned staff item (only the lead can
    open it, and give it an owner) is in no member of staff's feed: it was in all of theirs, and answered 404.
    A check given to a member of staff links to its item page, not to the register (403)."""
    world = waiting_school(make_school, make_member, n=1)
    school = world.school
    unassigned = add_item(
        school, "Unassigned staff task", school.today() + timedelta(days=3), owner_role="staff"
    )
    unassigned.year_id = world.year.id
    world.checks[0].owner_id = world.members["staff"].user_id
    db.session.commit()
    member = world.members[role]
    with app.test_request_context():
        url = feed_url(new_feed(school, member.user))
    db.session.commit()
    feed = app.test_client().get(url.replace(base_url(), ""))
    assert feed.status_code == 200
    events = icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
    titles = {str(e["summary"]) for e in events}
    assert "Due: Unassigned staff task" not in titles, "nobody's: it waits for the lead to give it an owner"
    if role == "staff":
        assert "Due: Police check" in titles, "the check given to them is in their feed"
    client = sign_in(app.test_client(), member.user)
    for event in events:
        path = str(event["url"])[len(base_url()) :]
        assert client.get(path).status_code == 200, f"{role}: {event['summary']} {path}"


def test_before_any_year_the_home_page_still_starts_with_what_waits(app, make_school, make_member):
    school = make_school(timezone="UTC")
    hr, staff = make_member(school, "hr"), make_member(school, "staff")
    person = add_person(school, "Early Starter", school.today() + timedelta(days=20))
    add_item(school, "Identity check", school.today() + timedelta(days=10), person=person, kind="check")
    pages = {}
    for member in (hr, staff):
        response = sign_in(app.test_client(), member.user).get(f"/s/{school.slug}/")
        assert response.status_code == 200
        pages[member.role] = response.get_data(as_text=True)
    assert "No school year is being tracked yet" in pages["hr"]
    assert "1 recruitment check due before a start date" in pages["hr"]
    assert pages["hr"].index("Waiting for you") < pages["hr"].index("No school year is being tracked yet")
    assert "Nothing is waiting for you." in pages["staff"]
