"""The "Waiting for you" statements built once per process (`waiting.prepared`, issue #21): a page for one
school and the digest job's batch of schools give each school the same lines, another school's rows never
count, and a second page builds no statement."""

from datetime import timedelta

from tracker import waiting
from tracker.extensions import db
from tracker.tracking import services
from tracker.tracking import waiting as tracking_waiting
from tracker.waiting import batched, lines_for

from .reminders_helpers import add_item
from .waiting_helpers import ROLES, academic_start, waiting_school


def _as_tuples(lines):
    return [(line.kind, line.text, line.url, line.count, line.due_on, line.nudge) for line in lines]


def test_a_page_and_a_batch_of_schools_give_each_school_the_same_lines(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=2)
    # a second school with the same kinds of things waiting, and more of them: never counted for the first
    other = waiting_school(make_school, make_member, n=3)
    # one of the first school's staff owns an item of the other school's year: not theirs to do here
    stray = add_item(
        other.school, "Other school's item", other.school.today(), owner=world.members["staff"].user
    )
    stray.year_id = other.year.id
    db.session.commit()
    today = world.school.today()
    assert other.school.today() == today
    with app.test_request_context():
        page = {
            (w.school.id, role): _as_tuples(lines_for(w.school, w.members[role], today))
            for w in (world, other)
            for role in ROLES
        }
        with batched({world.school.id: today, other.school.id: today}):
            digest = {
                (w.school.id, role): _as_tuples(lines_for(w.school, w.members[role], today))
                for w in (world, other)
                for role in ROLES
            }
    assert page == digest
    first = {role: {line[0]: line for line in page[(world.school.id, role)]} for role in ROLES}
    assert first["staff"]["own_overdue"][1] == "2 of your items are overdue"
    assert first["staff"]["own_due_soon"][1] == "2 of your items are due in the next 30 days"
    assert first["lead"]["queries"][1] == "2 accreditor queries to answer"
    assert first["lead"]["checks"][1] == "2 recruitment checks due before start dates (2 people)"
    assert first["head"]["risk_sign"][1] == "2 risk assessments to sign"
    assert len([line for line in page[(world.school.id, "head")] if line[0] == "year_sign_off"]) == 2
    assert len([line for line in page[(other.school.id, "head")] if line[0] == "year_sign_off"]) == 3


def test_own_items_of_one_member_read_on_a_page_match_every_owner_read_at_once(app, make_school, make_member):
    world = waiting_school(make_school, make_member, n=2)
    school, today = world.school, world.school.today()
    staff = world.members["staff"].user
    earlier = services._create_year(
        school, academic_start(school) - 5
    )  # a second year: lines name their year
    item = add_item(school, "Staff overdue, earlier year", today - timedelta(days=40), owner=staff)
    item.year_id = earlier.id
    db.session.commit()
    one = tracking_waiting._own_items([school.id], today, staff.id)
    every = tracking_waiting._own_items([school.id], today)
    assert one[school.id][staff.id] == every[school.id][staff.id]
    assert set(every[school.id]) == {staff.id, world.members["lead"].user_id}
    assert sorted(count for *_, overdue, count, _first in one[school.id][staff.id] if overdue) == [1, 2]


def test_a_second_page_builds_no_statement(app, make_school, make_member, monkeypatch):
    world = waiting_school(make_school, make_member, n=1)
    today = world.school.today()
    built = []

    class Recording(dict):
        def __setitem__(self, key, value):
            built.append(key)
            super().__setitem__(key, value)

    monkeypatch.setattr(waiting, "_statements", Recording())
    with app.test_request_context():
        first = {role: _as_tuples(lines_for(world.school, world.members[role], today)) for role in ROLES}
        assert built, "the receivers' statements are built through waiting.prepared"
        built.clear()
        again = {role: _as_tuples(lines_for(world.school, world.members[role], today)) for role in ROLES}
    assert again == first
    assert built == []
