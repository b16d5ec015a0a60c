"""Term dates (tracker/tracking/terms.py, terms_views.py) and due dates placed in them (schedule.py): in both
hemispheres (an August and a January start) every termly item falls inside its term and every due date on a
working day inside a term, never on 1 January or in the summer break; changing the term dates moves the open
items the old dates placed (audited per item) and leaves done items and dates a person changed."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tracker.audit import AuditEvent
from tracker.dates import add_months
from tracker.extensions import db
from tracker.frameworks.models import Requirement
from tracker.tracking import schedule, services, terms
from tracker.tracking.errors import TrackingError
from tracker.tracking.models import DONE, Item, SchoolYear
from tracker.tracking.schedule import Term
from tracker.tracking.state import set_status

from .world import sign_in

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def _items(year):
    db.session.expire_all()
    return db.session.execute(db.select(Item).where(Item.year_id == year.id)).scalars().all()


def _events(school, action):
    return (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.school_id == school.id, AuditEvent.action == action)
        )
        .scalars()
        .all()
    )


def _started(make_school, month, start=2026):
    school = make_school(timezone="UTC", year_start_month=month)
    year = services.start_year(school, start)
    db.session.commit()
    return school, year


# --- the pure placement -------------------------------------------------------------------------------------


def test_default_terms_in_both_hemispheres():
    north = schedule.default_terms(date(2026, 8, 1))
    assert [(t.starts_on, t.ends_on) for t in north] == [
        (date(2026, 8, 15), date(2026, 12, 15)),
        (date(2027, 1, 8), date(2027, 3, 28)),
        (date(2027, 4, 15), date(2027, 6, 30)),
    ]
    south = schedule.default_terms(date(2027, 1, 1))
    assert [(t.starts_on, t.ends_on) for t in south] == [
        (date(2027, 1, 15), date(2027, 5, 15)),
        (date(2027, 6, 8), date(2027, 8, 28)),
        (date(2027, 9, 15), date(2027, 11, 30)),
    ]
    for year_terms in (north, south):
        assert not any(date(d.year, 1, 1) in t for t in year_terms for d in (t.starts_on, t.ends_on))


def test_place_moves_holidays_and_weekends_into_terms():
    t = schedule.default_terms(date(2026, 8, 1))
    # 1 January (a holiday): a week into the spring term, on a working day
    jan = schedule.place(date(2027, 1, 1), t)
    assert jan in t[1] and jan.weekday() < 5 and jan >= date(2027, 1, 15)
    # mid-July sign-off (summer holiday): inside the last term, before it ends
    july = schedule.place(date(2027, 7, 15), t)
    assert july in t[2] and july.weekday() < 5 and july <= date(2027, 6, 23)
    # 5 August (before the first term): inside the first term
    aug = schedule.place(date(2026, 8, 5), t)
    assert aug in t[0] and aug.weekday() < 5
    # a Saturday inside a term: the Monday after
    assert schedule.place(date(2026, 10, 3), t) == date(2026, 10, 5)
    # a Saturday on a term's last day: the Friday before
    last = [Term("A", date(2026, 9, 1), date(2026, 10, 3))]
    assert schedule.place(date(2026, 10, 3), last) == date(2026, 10, 2)
    # a working day inside a term stays
    assert schedule.place(date(2026, 10, 7), t) == date(2026, 10, 7)


@pytest.mark.parametrize("month,start", [(8, 2026), (1, 2027)], ids=["august-start", "january-start"])
def test_started_year_places_every_item_in_a_term_on_a_working_day(app, make_school, month, start):
    school, year = _started(make_school, month, start)
    year_terms = terms.terms_for(school, year)
    assert len(terms.stored_terms(school, year)) == 3
    assert year_terms == schedule.default_terms(year.starts_on)
    items = _items(year)
    assert items
    requirements = {r.id: r for r in db.session.execute(db.select(Requirement)).scalars()}
    termly = end_of_year = 0
    for item in items:
        assert item.due_on.weekday() < 5, (item.title, item.due_on)
        assert any(item.due_on in t for t in year_terms), (item.title, item.due_on)
        assert (item.due_on.month, item.due_on.day) != (1, 1)
        # the summer break: after the last term, before the first
        assert not (item.due_on > year_terms[-1].ends_on or item.due_on < year_terms[0].starts_on)
        requirement = requirements[item.requirement_id]
        if requirement.repeat == "termly":
            termly += 1
            assert item.due_on in year_terms[item.occurrence - 1], (item.title, item.occurrence, item.due_on)
        else:
            timing = requirement.timing or {}
            raw = add_months(year.starts_on, timing.get("month", 0), timing.get("day", 1))
            if raw > year_terms[-1].ends_on:
                end_of_year += 1
                assert item.due_on in year_terms[-1] and item.due_on < year_terms[-1].ends_on
    assert termly >= 3 and end_of_year >= 1
    # the framework's holiday dates now fall in terms: 1 January and mid-July in an August start
    if month == 8:
        holiday = [
            i
            for i in items
            if (requirements[i.requirement_id].timing or {}).get("month") in (5, 11)
            and requirements[i.requirement_id].repeat != "termly"
        ]
        assert holiday and all(any(i.due_on in t for t in year_terms) for i in holiday)


def test_custom_terms_place_termly_items_inside_each_term(app, make_school):
    school, year = _started(make_school, 8)
    custom = [
        Term("Autumn", date(2026, 9, 2), date(2026, 12, 18)),
        Term("Spring", date(2027, 1, 11), date(2027, 4, 1)),
        Term("Summer", date(2027, 4, 19), date(2027, 7, 16)),
    ]
    terms.change_terms(school, year, custom)
    db.session.commit()
    for item in _items(year):
        assert item.due_on.weekday() < 5
        if item.requirement and item.requirement.repeat == "termly":
            assert item.due_on in custom[item.occurrence - 1]


# --- changing the term dates --------------------------------------------------------------------------------


def test_changing_terms_moves_open_items_and_leaves_done_and_hand_changed(app, make_school):
    school, year = _started(make_school, 8)
    items = _items(year)
    termly = sorted((i for i in items if i.requirement.repeat == "termly"), key=lambda i: i.id)
    done, by_hand, open_one = termly[0], termly[1], termly[2]
    done_due = done.due_on
    set_status(done, DONE, on=date(2026, 9, 1))
    by_hand.due_on = date(2026, 10, 14)
    db.session.commit()
    later = [
        Term("Autumn", date(2026, 9, 1), date(2026, 12, 18)),
        Term("Spring", date(2027, 1, 18), date(2027, 4, 1)),
        Term("Summer", date(2027, 4, 19), date(2027, 7, 16)),
    ]
    before_events = len(_events(school, "item.changed"))
    moved = terms.change_terms(school, year, later)
    db.session.commit()
    assert moved > 0
    db.session.expire_all()
    assert db.session.get(Item, done.id).due_on == done_due
    assert db.session.get(Item, by_hand.id).due_on == date(2026, 10, 14)
    moved_item = db.session.get(Item, open_one.id)
    assert moved_item.due_on in later[moved_item.occurrence - 1]
    events = _events(school, "item.changed")
    assert len(events) - before_events == moved
    assert all(set(e.after) == {"due_on"} for e in events[before_events:])
    [changed] = _events(school, "year.terms_changed")
    assert changed.after["items_moved"] == moved and changed.after["terms"][1]["name"] == "Spring"
    assert [t.name for t in terms.terms_for(school, year)] == ["Autumn", "Spring", "Summer"]
    # saving the same dates again moves nothing and records nothing
    assert terms.change_terms(school, year, later) == 0


GOOD = [
    ("T1", (2026, 9, 1), (2026, 12, 1)),
    ("T2", (2027, 1, 5), (2027, 3, 1)),
    ("T3", (2027, 4, 1), (2027, 6, 1)),
]


def _with(position, **change):
    rows = [list(row) for row in GOOD]
    for key, value in change.items():
        rows[position - 1][{"name": 0, "starts": 1, "ends": 2}[key]] = value
    return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    "bad,field,words",
    [
        (_with(2, starts=(2026, 11, 1)), "term2_starts_on", "do not overlap"),
        (_with(1, starts=(2026, 7, 1)), "term1_starts_on", "must start inside"),
        (_with(3, ends=(2027, 8, 9)), "term3_ends_on", "must end inside"),
        (_with(1, ends=(2026, 8, 20)), "term1_ends_on", "ends before it starts"),
        (_with(1, ends=(2026, 9, 5)), "term1_ends_on", "at least 14 days"),
        (_with(1, name=" "), "term1_name", "name"),
    ],
)
def test_bad_term_dates_are_refused_with_a_message(app, make_school, bad, field, words):
    school, year = _started(make_school, 8)
    given = [Term(name, date(*s), date(*e)) for name, s, e in bad]
    with pytest.raises(TrackingError) as refused:
        terms.change_terms(school, year, given)
    assert refused.value.field == field and words in str(refused.value)


def test_a_signed_off_year_keeps_its_terms(app, make_school):
    school, year = _started(make_school, 8)
    year.sign_off_state = "signing"
    with pytest.raises(TrackingError, match="can no longer change"):
        terms.change_terms(school, year, schedule.default_terms(date(2026, 9, 1))[:3])
    db.session.rollback()


def test_roll_over_keeps_last_years_terms_a_year_later(app, make_school):
    school, year = _started(make_school, 8)
    mine = [
        Term("Michaelmas", date(2026, 9, 3), date(2026, 12, 17)),
        Term("Lent", date(2027, 1, 7), date(2027, 3, 25)),
        Term("Trinity", date(2027, 4, 15), date(2027, 7, 9)),
    ]
    terms.change_terms(school, year, mine)
    nxt = services.roll_over(school, year)
    db.session.commit()
    rolled = terms.terms_for(school, nxt)
    assert [t.name for t in rolled] == ["Michaelmas", "Lent", "Trinity"]
    assert rolled[0].starts_on == date(2027, 9, 3) and rolled[2].ends_on == date(2028, 7, 9)
    for item in _items(nxt):
        if item.requirement_id is not None:
            assert item.due_on.weekday() < 5 and any(item.due_on in t for t in rolled)


def test_a_year_without_stored_terms_uses_the_defaults(app, make_school):
    school, year = _started(make_school, 8)
    for row in terms.stored_terms(school, year):
        db.session.delete(row)
    db.session.commit()
    assert terms.terms_for(school, year) == schedule.default_terms(year.starts_on)
    moved = terms.change_terms(
        school, year, [Term(t.name, t.starts_on, t.ends_on) for t in schedule.default_terms(year.starts_on)]
    )
    assert moved == 0 and len(terms.stored_terms(school, year)) == 0  # nothing changed, nothing stored


# --- the page -----------------------------------------------------------------------------------------------


def _form(t):
    data = {}
    for n, term in enumerate(t, start=1):
        data[f"term{n}_name"] = term.name
        data[f"term{n}_starts_on"] = term.starts_on.isoformat()
        data[f"term{n}_ends_on"] = term.ends_on.isoformat()
    return data


def test_the_page_edits_terms_and_says_how_many_items_moved(app, make_school, make_member):
    school, year = _started(make_school, 1, 2027)
    lead = make_member(school, "lead")
    client = sign_in(app.test_client(), lead.user)
    url = f"/s/{school.slug}/years/{year.id}/terms"
    html = client.get(url).get_data(as_text=True)
    assert "Term dates of 2027" in html and "default terms" in html and 'name="term3_ends_on"' in html
    assert "Term dates" in client.get(f"/s/{school.slug}/years").get_data(as_text=True)
    new = [
        Term("Term 1", date(2027, 1, 27), date(2027, 4, 1)),
        Term("Term 2", date(2027, 4, 19), date(2027, 6, 25)),
        Term("Term 3", date(2027, 7, 12), date(2027, 12, 10)),
    ]
    response = client.post(url, data=_form(new))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    html = client.get(url).get_data(as_text=True)
    assert "open items moved to the new dates" in html
    assert "default terms" not in html
    assert terms.terms_for(school, db.session.get(SchoolYear, year.id)) == new


def test_the_page_refuses_bad_dates_with_a_4xx_and_saves_nothing(app, make_school, make_member):
    school, year = _started(make_school, 8)
    lead = make_member(school, "lead")
    client = sign_in(app.test_client(), lead.user)
    url = f"/s/{school.slug}/years/{year.id}/terms"
    before = [(i.id, i.due_on) for i in _items(year)]
    data = _form(schedule.default_terms(year.starts_on))
    data["term2_starts_on"] = "2026-12-01"  # inside term 1
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "do not overlap" in response.get_data(as_text=True)
    data = _form(schedule.default_terms(year.starts_on))
    data["term1_starts_on"] = "not a date"
    assert client.post(url, data=data).status_code == 400
    assert [(i.id, i.due_on) for i in _items(year)] == before
    assert not _events(school, "year.terms_changed")
    staff = make_member(school, "staff")
    assert (
        sign_in(app.test_client(), staff.user)
        .post(url, data=_form(schedule.default_terms(year.starts_on)))
        .status_code
        == 403
    )


def test_the_page_of_a_year_being_signed_off_shows_no_form_and_refuses_a_post(app, make_school, make_member):
    school, year = _started(make_school, 8)
    lead = make_member(school, "lead")
    client = sign_in(app.test_client(), lead.user)
    url = f"/s/{school.slug}/years/{year.id}/terms"
    year.sign_off_state = "signing"
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "can no longer change" in html and "Save term dates" not in html
    response = client.post(url, data=_form(schedule.default_terms(date(2026, 9, 1))))
    assert response.status_code == 400
    assert "can no longer change" in response.get_data(as_text=True)
    assert not _events(school, "year.terms_changed")
