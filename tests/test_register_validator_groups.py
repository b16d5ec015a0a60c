"""The register's validator ("Check the register", people.check): a check under way (requested or received,
not yet verified) is "Not done yet", not "Blank"; the gaps are grouped by person, with each person's count."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.people import register
from tracker.people import services as people
from tracker.tracking.models import Item

from .world import sign_in


def _items(person):
    return (
        db.session.execute(
            sa.select(Item).where(Item.person_id == person.id).order_by(Item.requirement_key, Item.country)
        )
        .scalars()
        .all()
    )


def _set(item, **values):
    db.session.execute(sa.update(Item).where(Item.id == item.id).values(**values))


@pytest.fixture
def register_with_gaps(make_school, make_member):
    """Three teachers, every check verified; then Ana has three gaps (not started, requested, received, all
    due later), Ben one (received), Cleo none."""
    school = make_school(timezone="UTC")
    hr = make_member(school, "hr")
    today = school.today()
    persons = {
        name: people.add_person(
            school,
            full_name=name,
            email=f"{name.lower()}@example.org",
            category="teaching",
            start_on=today - timedelta(days=100),
            countries=["Kenya"],
        )
        for name in ("Ana Alpha", "Ben Beta", "Cleo Gamma")
    }
    db.session.execute(
        sa.update(Item)
        .where(Item.school_id == school.id)
        .values(
            check_status="verified",
            status="done",
            verified_on=today - timedelta(days=5),
            completed_on=today - timedelta(days=5),
        )
    )
    due = today + timedelta(days=9)
    ana = _items(persons["Ana Alpha"])
    for item, stage, status in (
        (ana[0], "not_started", "not_started"),
        (ana[1], "requested", "in_progress"),
        (ana[2], "received", "in_progress"),
    ):
        _set(item, check_status=stage, status=status, verified_on=None, due_on=due)
    ben = _items(persons["Ben Beta"])[3]
    _set(ben, check_status="received", status="in_progress", verified_on=None, due_on=due)
    db.session.commit()
    db.session.expire_all()
    return school, hr, persons, ana[:3], ben


def test_a_check_under_way_is_not_done_yet_and_a_check_not_started_is_blank(app, register_with_gaps):
    school, _hr, _persons, (not_started, requested, received), _ben = register_with_gaps
    cols, rows, _ = register.build(school)
    problems = {gap.item.id: gap.problem for gap in register.gaps(school, cols, rows)}
    assert problems[not_started.id].startswith("Blank: not started, due ")
    assert problems[requested.id].startswith("Not done yet: requested, due ")
    assert problems[received.id].startswith("Not done yet: received, due ")


def test_the_validator_groups_the_gaps_by_person_with_a_count_each(app, register_with_gaps):
    school, hr, persons, ana_items, ben_item = register_with_gaps
    cols, rows, _ = register.build(school)
    groups = register.gaps_by_person(register.gaps(school, cols, rows))
    assert [(p.full_name, [g.item.id for g in found]) for p, found in groups] == [
        ("Ana Alpha", [i.id for i in ana_items]),
        ("Ben Beta", [ben_item.id]),
    ]

    client = sign_in(app.test_client(), hr.user)
    page = client.get(f"/s/{school.slug}/people/check?view=process").get_data(as_text=True)
    assert "4 gaps" in page and "2 of 3 people with gaps" in page
    bodies = re.findall(r'<tbody class="gap-group" id="gaps-([^"]+)">(.*?)</tbody>', page, re.S)
    assert [person_id for person_id, _ in bodies] == [
        str(persons["Ana Alpha"].id),
        str(persons["Ben Beta"].id),
    ]
    ana, ben = (body for _, body in bodies)
    assert "Ana Alpha" in ana and "3 gaps" in ana and ana.count('class="gap-link"') == 3
    assert all(f"/checks/{i.id}" in ana for i in ana_items)
    assert ana.count("Not done yet: ") == 2 and ana.count("Blank: ") == 1
    assert "Ben Beta" in ben and "1 gap<" in ben and ben.count('class="gap-link"') == 1
    assert f"/checks/{ben_item.id}" in ben and "Not done yet: received" in ben
    assert "Cleo Gamma" not in page
