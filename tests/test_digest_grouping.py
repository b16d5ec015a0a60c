"""Digests that help: a member with a hundred reminders gets a short digest in which every reminder is counted
(long sections grouped by school year and framework, each group linking to the filtered item list); signed-off
years are left out; every link starts with TRACKER_BASE_URL."""

import re
from datetime import timedelta

from sqlalchemy import select

from tracker.db import utcnow
from tracker.extensions import db
from tracker.reminders.digest import build_school_digests
from tracker.reminders.digest_mail import GROUP_OVER
from tracker.reminders.models import OutboxMessage
from tracker.review.services import raise_query
from tracker.tracking import services
from tracker.tracking.models import Item

from .reminders_helpers import add_item, add_person
from .waiting_helpers import academic_start
from .world import sign_in


def _digest(school, user):
    return db.session.execute(
        select(OutboxMessage).where(OutboxMessage.school_id == school.id, OutboxMessage.user_id == user.id)
    ).scalar_one_or_none()


def _item(school, year, title, due, owner, requirement=None):
    item = Item(
        school_id=school.id,
        year_id=year.id,
        framework_id=requirement.framework_id if requirement else None,
        requirement_id=requirement.id if requirement else None,
        requirement_key=requirement.key if requirement else None,
        kind=requirement.answer_type if requirement else "own",
        section_title=requirement.section.title if requirement else "School's own items",
        title=title,
        owner_role="lead",
        owner_id=owner.id,
        due_on=due,
    )
    db.session.add(item)
    return item


def _hundred(make_school, make_member):
    """A lead with 100 reminders today: 60 due today (two frameworks and the school's own), 40 one day
    overdue (two frameworks)."""
    school = make_school(timezone="UTC")
    lead = make_member(school, "lead", name="Lena Lead").user
    today = school.today()
    year = services._create_year(school, academic_start(school))
    first, second = (f.requirements[0] for f in year.frameworks[:2])
    plan = [
        (25, today, first),
        (20, today, second),
        (15, today, None),
        (20, today - timedelta(days=1), first),
        (20, today - timedelta(days=1), second),
    ]
    for n, due, requirement in plan:
        for i in range(n):
            _item(
                school,
                year,
                f"Task {due:%d}-{i} of {requirement.key if requirement else 'own'}",
                due,
                lead,
                requirement,
            )
    db.session.commit()
    return school, lead, year, (first, second)


def test_a_hundred_reminders_make_a_short_digest_that_counts_every_one(app, make_school, make_member):
    school, lead, year, frameworks = _hundred(make_school, make_member)
    assert build_school_digests(school, utcnow()) == 1
    message = _digest(school, lead)
    text = message.body_text
    assert message.subject.startswith(f"{school.name}: 100 safeguarding reminders")
    assert "100 items" in text
    bullets = [line for line in text.splitlines() if line.startswith("* ")]
    assert len(bullets) <= 8, "five groups (and what is waiting), not a hundred lines:\n" + text
    counted = 0
    for bullet in bullets:
        found = re.match(r"\* (.+?): (\d+) items \(", bullet)
        if found:
            counted += int(found.group(2))
    assert counted == 100, "every reminder is in a group's count:\n" + text
    for fw in frameworks:
        assert f"* {fw.framework.title}: 25 items" in text or f"* {fw.framework.title}: 20 items" in text
    assert "* School's own items: 15 items" in text
    # each group links to the item list filtered to exactly its items
    client = sign_in(app.test_client(), lead)
    groups = re.findall(r"\* .+?: (\d+) items \(.+?\)\n  (\S+)", text)
    assert len(groups) == 5
    base = app.config["TRACKER_BASE_URL"]
    for count, url in groups:
        assert url.startswith(base + f"/s/{school.slug}/items?"), url
        page = client.get(url[len(base) :])
        assert page.status_code == 200, url
        listed = set(re.findall(rf"/s/{school.slug}/items/([0-9a-f-]{{36}})", page.get_data(as_text=True)))
        assert len(listed) == int(count), (url, len(listed))


def test_a_short_section_still_lists_each_reminder(make_school, make_member):
    school = make_school(timezone="UTC")
    lead = make_member(school, "lead").user
    year = services._create_year(school, academic_start(school))
    for i in range(GROUP_OVER):
        _item(school, year, f"Listed task {i}", school.today(), lead)
    db.session.commit()
    build_school_digests(school, utcnow())
    text = _digest(school, lead).body_text
    assert all(f"* Listed task {i} (" in text for i in range(GROUP_OVER))


def test_signed_off_years_are_left_out(make_school, make_member):
    school = make_school(timezone="UTC")
    lead = make_member(school, "lead").user
    staff = make_member(school, "staff").user
    start = academic_start(school)
    old = services._create_year(school, start - 1)
    current = services._create_year(school, start)
    today = school.today()
    _item(school, old, "Left over from a signed-off year", today, lead)
    _item(school, old, "Staff work of the signed-off year", today, staff)
    _item(school, current, "This year's task", today, lead)
    old.signed_off_at = utcnow()
    db.session.commit()
    assert build_school_digests(school, utcnow()) == 1, "the member of staff had only signed-off work"
    text = _digest(school, lead).body_text
    assert "This year's task" in text
    assert "Left over from a signed-off year" not in text
    assert _digest(school, staff) is None


def test_every_link_starts_with_the_base_url(app, make_school, make_member, monkeypatch):
    public = "https://tracker.example.org/safeguarding"
    monkeypatch.setitem(app.config, "TRACKER_BASE_URL", public)
    monkeypatch.setitem(app.config, "SERVER_NAME", None)  # as in production: no host but the base URL's
    school, lead, year, _ = _hundred(make_school, make_member)
    accreditor = make_member(school, "accreditor").user
    asked = _item(school, year, "Asked about", school.today() + timedelta(days=90), lead)
    db.session.flush()
    raise_query(school, asked, body="Where is it?", user=accreditor, role="accreditor")
    db.session.commit()
    build_school_digests(school, utcnow())
    message = _digest(school, lead)
    assert "1 accreditor query to answer" in message.body_text
    urls = re.findall(r"https?://\S+", message.body_text) + re.findall(r'href="([^"]+)"', message.body_html)
    assert len(urls) >= 8
    bad = [u for u in urls if not u.startswith(public + "/s/")]
    assert not bad, bad
    assert f"{public}/s/{school.slug}/review/queries/" in message.body_text


def test_many_people_starting_soon_make_one_line_that_opens_the_register(app, make_school, make_member):
    school = make_school(timezone="UTC")
    hr = make_member(school, "hr").user
    today = school.today()
    for i in range(GROUP_OVER + 2):
        person = add_person(school, f"Starter {i:02d}", today + timedelta(days=10))
        for title in ("Identity", "References"):
            add_item(school, title, today + timedelta(days=5), person=person, owner_role="hr", kind="check")
    build_school_digests(school, utcnow())
    text = _digest(school, hr).body_text
    section = text.split("Recruitment checks still open for people starting soon")[1]
    bullets = [line for line in section.splitlines() if line.startswith("* ")]
    assert bullets[0].startswith(
        f"* {GROUP_OVER + 2} people starting soon: {2 * (GROUP_OVER + 2)} checks open"
    )
    assert "Starter 00" not in text
    url = re.search(r"\n  (\S+/people/\?filter=starting)", section).group(1)
    page = sign_in(app.test_client(), hr).get(url[len(app.config["TRACKER_BASE_URL"]) :])
    assert page.status_code == 200 and "Starter 09" in page.get_data(as_text=True)
