"""Recruitment checks' due dates come from the person's start date (people/due_dates.py): start dates before,
on and after today, a late hire, start date changes, the HR holder as owner, and countries (the host country
once, forgiving names, a suggestion when unsure)."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker.extensions import db
from tracker.people import countries
from tracker.people import services as people
from tracker.people.due_dates import due_for, needed_before_day_one
from tracker.people.forms import PersonForm
from tracker.tracking.holders import set_holders
from tracker.tracking.models import Item

TODAY = date(2026, 11, 23)


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def school_and_hr(frozen, make_school, make_member):
    school = make_school(timezone="UTC", country="Thailand")
    hr = make_member(school, "hr")
    make_member(school, "lead")
    set_holders(school, {"hr": hr.user})
    db.session.commit()
    return school, hr


def _checks(person):
    return {
        (i.requirement_key, i.country): i
        for i in db.session.execute(sa.select(Item).where(Item.person_id == person.id)).scalars()
    }


def _add(school, start_on, countries_=(), category="teaching", name="Pat Example"):
    return people.add_person(
        school, full_name=name, email=None, category=category, start_on=start_on, countries=list(countries_)
    )


# --- the rule itself ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,offset,expected_on,expected_planned",
    [
        (date(2027, 3, 1), -21, date(2027, 2, 8), None),  # a start far ahead: the planned date
        (TODAY + timedelta(days=10), -21, TODAY, TODAY - timedelta(days=11)),  # a late hire: due today
        (TODAY + timedelta(days=10), -7, TODAY + timedelta(days=3), None),  # still ahead: planned
        (TODAY, 0, TODAY, None),  # starts today: due today, not moved
        (TODAY - timedelta(days=30), 28, TODAY, TODAY - timedelta(days=2)),  # started a month ago
        (TODAY - timedelta(days=5), 28, TODAY + timedelta(days=23), None),  # after arrival, still ahead
    ],
)
def test_a_due_date_is_the_start_date_plus_the_offset_and_never_before_today(
    start, offset, expected_on, expected_planned
):
    due = due_for(start, offset, TODAY)
    assert (due.on, due.planned) == (expected_on, expected_planned)


# --- start dates before, on and after today -----------------------------------------------------------------


def test_a_hire_starting_in_months_gets_every_check_on_its_planned_date(school_and_hr):
    school, hr = school_and_hr
    start = date(2027, 6, 1)
    checks = _checks(_add(school, start))
    identity = checks[("identity-verified", "")]
    assert identity.due_on == start - timedelta(days=21) and identity.planned_due_on is None
    host = checks[("police-check-host-country", "")]
    assert host.due_on == start + timedelta(days=28), "the host country's check is after arrival"
    assert all(i.owner_id == hr.user_id for i in checks.values() if i.owner_role == "hr")
    assert all(not i.is_overdue(TODAY) for i in checks.values())


def test_a_late_hire_has_nothing_overdue_on_day_one_and_knows_what_is_needed_before_starting(school_and_hr):
    school, hr = school_and_hr
    start = TODAY + timedelta(days=10)
    person = _add(school, start)
    checks = _checks(person)
    assert not any(i.is_overdue(TODAY) for i in checks.values())
    advert = checks[("advert-safeguarding-statement", "")]
    assert (advert.due_on, advert.planned_due_on) == (TODAY, start - timedelta(days=90))
    code = checks[("code-of-conduct-signed", "")]
    assert (code.due_on, code.planned_due_on) == (start - timedelta(days=1), None)
    assert needed_before_day_one(advert, person, TODAY) and needed_before_day_one(code, person, TODAY)
    host = checks[("police-check-host-country", "")]
    assert host.due_on == start + timedelta(days=28) and not needed_before_day_one(host, person, TODAY)
    # a day later nothing is overdue either: the plan starts today
    assert not any(i.is_overdue(TODAY) for i in checks.values())


def test_a_person_who_started_already_gets_checks_due_today_not_overdue(school_and_hr):
    school, _ = school_and_hr
    person = _add(school, TODAY - timedelta(days=40))
    checks = _checks(person)
    assert {i.due_on for i in checks.values() if i.planned_due_on} == {TODAY}
    probation = checks[("probation-review", "")]
    assert probation.due_on == TODAY + timedelta(days=50) and probation.planned_due_on is None
    assert not any(needed_before_day_one(i, person, TODAY) for i in checks.values())


def test_a_start_date_today_keeps_the_induction_on_the_day(school_and_hr):
    school, _ = school_and_hr
    checks = _checks(_add(school, TODAY))
    induction = checks[("induction-training", "")]
    assert (induction.due_on, induction.planned_due_on) == (TODAY, None)


def test_moving_the_start_date_moves_the_open_checks_only(school_and_hr):
    school, hr = school_and_hr
    person = _add(school, date(2027, 6, 1))
    checks = _checks(person)
    done = checks[("identity-verified", "")]
    people.update_check(school, done, version=done.version, check_status="verified", user=hr.user)
    db.session.commit()
    people.update_person(school, person, start_on=date(2027, 9, 1))
    db.session.commit()
    checks = _checks(person)
    assert checks[("identity-verified", "")].due_on == date(2027, 6, 1) - timedelta(days=21)
    assert checks[("right-to-work", "")].due_on == date(2027, 9, 1) - timedelta(days=21)
    # moved to a start date in ten days: the past dates become today, marked as a late hire
    people.update_person(school, person, start_on=TODAY + timedelta(days=10))
    db.session.commit()
    advert = _checks(person)[("advert-safeguarding-statement", "")]
    assert (advert.due_on, advert.planned_due_on) == (TODAY, TODAY + timedelta(days=10 - 90))


def test_without_an_hr_holder_the_checks_wait_for_one(frozen, make_school, make_member):
    school = make_school(timezone="UTC")
    make_member(school, "hr")
    checks = _checks(_add(school, date(2027, 6, 1)))
    assert all(i.owner_id is None for i in checks.values())


# --- categories ---------------------------------------------------------------------------------------------


def test_agency_staff_get_the_agency_confirmation_instead_of_the_school_checks(school_and_hr):
    school, _ = school_and_hr
    keys = {key for key, _ in _checks(_add(school, date(2027, 6, 1), ["Kenya"], category="agency"))}
    assert "agency-written-confirmation" in keys and "identity-verified" in keys
    assert not keys & {"reference-current-employer", "police-check-country", "volunteer-supervision-agreed"}


def test_volunteers_have_their_own_checks(school_and_hr):
    school, _ = school_and_hr
    keys = {key for key, _ in _checks(_add(school, date(2027, 6, 1), ["Kenya"], category="volunteer"))}
    assert {"volunteer-supervision-agreed", "police-check-country", "self-disclosure"} <= keys
    assert not keys & {"agency-written-confirmation", "second-reference", "full-application-form"}
    teacher = {key for key, _ in _checks(_add(school, date(2027, 6, 1), name="T"))}
    assert not teacher & {"volunteer-supervision-agreed", "agency-written-confirmation"}


# --- countries ----------------------------------------------------------------------------------------------


def test_the_host_country_has_one_police_check(school_and_hr):
    school, _ = school_and_hr
    checks = _checks(_add(school, date(2027, 6, 1), ["Thailand", "Brazil", "Germany"]))
    police = sorted((k, c) for k, c in checks if k in ("police-check-country", "police-check-host-country"))
    assert police == [
        ("police-check-country", "Brazil"),
        ("police-check-country", "Germany"),
        ("police-check-host-country", ""),
    ]


def test_an_old_duplicate_host_country_check_is_marked_not_required_never_deleted(school_and_hr):
    school, _ = school_and_hr
    person = _add(school, date(2027, 6, 1), ["Kenya"])
    first = _checks(person)[("police-check-country", "Kenya")]
    duplicate = Item(
        **{
            c: getattr(first, c)
            for c in (
                "school_id",
                "person_id",
                "framework_id",
                "requirement_id",
                "requirement_key",
                "kind",
                "section_title",
                "due_on",
            )
        },
        title="Police check from each country lived or worked in: Thailand",
        country="Thailand",
        check_status="not_started",
    )
    db.session.add(duplicate)
    people.update_person(school, person, countries=["Kenya", "Thailand"])
    db.session.commit()
    db.session.refresh(duplicate)
    assert duplicate.check_status == "not_required" and duplicate.status == "not_applicable"
    assert "host country" in duplicate.na_reason


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("Brasil", "Brazil"),
        ("Deutschland", "Germany"),
        ("España", "Spain"),
        ("espana", "Spain"),
        ("Holland", "Netherlands"),
        ("UK", "United Kingdom"),
        ("th", "Thailand"),
        ("  kenya ", "Kenya"),
        ("Türkiye", "Türkiye"),
        ("U.S.A.", "United States"),
    ],
)
def test_country_names_are_matched_forgivingly(typed, expected):
    assert countries.canonical(typed) == expected


def test_an_unknown_country_gets_a_suggestion_in_the_form_error(app):
    assert countries.suggestion("Brazl") == "Brazil"
    assert countries.suggestion("Qwertyland") is None
    with app.test_request_context(method="POST", data={"countries": "Brazl, Kenya"}):
        form = PersonForm()
        form.validate()
        assert "Brazl: did you mean Brazil?" in " ".join(form.errors["countries"])
