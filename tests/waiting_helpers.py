"""A school with something waiting for every role ("Waiting for you", tracker/waiting.py): accreditor queries,
risk assessments to sign, checks due before start dates, members' own items due and overdue, years to sign
off; `n` of each kind, so tests can compare 1 with 30."""

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta

from tracker.extensions import db
from tracker.people.checks import record_risk_assessment
from tracker.review.services import raise_query
from tracker.tenancy import Membership
from tracker.tracking import services

from .reminders_helpers import add_item, add_person

ROLES = ("lead", "head", "hr", "staff", "accreditor")


@dataclass
class Waiting:
    school: object
    members: dict
    year: object
    queries: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    extra_staff: list = field(default_factory=list)


def academic_start(school):
    today = school.today()
    return today.year if today.month >= school.year_start_month else today.year - 1


def waiting_school(make_school, make_member, n=1, extra_staff=0):
    """A school whose every role has something waiting, `n` things per kind."""
    school = make_school(timezone="UTC", year_start_month=8)
    members = {role: make_member(school, role, name=f"{role.title()} Member") for role in ROLES}
    today = school.today()
    start = academic_start(school)
    year = services._create_year(school, start)  # the year, without its framework items
    for k in range(1, n + 1):  # years that have ended and are not signed off: ready for the head
        services._create_year(school, start - k)
    world = Waiting(school, members, year)
    lead, hr, staff, accreditor = (members[r].user for r in ("lead", "hr", "staff", "accreditor"))
    for i in range(n):
        for title, due, owner in (
            (f"Staff overdue {i}", today - timedelta(days=3 + i % 20), staff),
            (f"Staff due soon {i}", today + timedelta(days=7 + i % 20), staff),
            (f"Lead overdue {i}", today - timedelta(days=2 + i % 20), lead),
        ):
            item = add_item(school, title, due, owner=owner)
            item.year_id = year.id
        asked = add_item(school, f"Asked about {i}", today + timedelta(days=200), owner=lead)
        asked.year_id = year.id
        world.queries.append(
            raise_query(school, asked, body=f"Where is the evidence {i}?", user=accreditor, role="accreditor")
        )
        person = add_person(school, f"Newcomer {i:02d}", today + timedelta(days=10))
        check = add_item(
            school, "Police check", today + timedelta(days=7), person=person, owner_role="hr", kind="check"
        )
        record_risk_assessment(school, check, summary="No certificate can be had.", user=hr)
        world.checks.append(check)
    for i in range(extra_staff):  # more members, each with an item due today: no query per member
        member = make_member(school, "staff", name=f"Extra Staff {i}")
        item = add_item(school, f"Extra due today {i}", today, owner=member.user)
        item.year_id = year.id
        world.extra_staff.append(member)
    db.session.commit()
    return world


def add_member(school, user, role):
    db.session.add(Membership(school_id=school.id, user_id=user.id, role=role))
    db.session.commit()


def school_links(page: str, slug: str) -> list[str]:
    """Every distinct link into the school on a page (anchors dropped)."""
    found = []
    for href in re.findall(r'href="([^"]+)"', page):
        href = html.unescape(href).split("#")[0]
        if href.startswith(f"/s/{slug}/") and href not in found:
            found.append(href)
    return found
