"""The people picker of the training session forms: checkboxes by category (no Ctrl-click list), the
chosen ids of this school only (another school's or unknown ids are a 400 and nothing is recorded), and the
record form pre-filled from a coverage drill-down."""

import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.people import services as people
from tracker.training import services as training
from tracker.training.models import TrainingAttendance, TrainingSession

from .world import sign_in


@pytest.fixture
def setup(make_school, make_member):
    school = make_school(timezone="UTC", year_start_month=8)
    lead = make_member(school, "lead")
    staff = {
        name: people.add_person(
            school, full_name=name, email=None, category=category, start_on=date(2020, 8, 1)
        )
        for name, category in [
            ("Ana Teacher", "teaching"),
            ("Ben Teacher", "teaching"),
            ("Cy Support", "support"),
            ("Dee Volunteer", "volunteer"),
        ]
    }
    db.session.commit()
    return school, lead, staff


def _activity():
    return next(a for a in training.activities() if a.audience == ["all_staff"])


def _client(app, member):
    return sign_in(app.test_client(), member.user)


def _record(client, school, ids, activity=None):
    return client.post(
        f"/s/{school.slug}/training/record",
        data={
            "activity": (activity or _activity()).key,
            "held_on": "2026-09-01",
            "provider": "Lead",
            "notes": "",
            "people": [str(i) for i in ids],
        },
    )


def _session_count(school):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(TrainingSession).where(TrainingSession.school_id == school.id)
    )


def _checked(page):
    return set(re.findall(r'name="people" value="([0-9a-f-]+)" checked', page))


def test_the_form_offers_checkboxes_by_category_with_search_and_count_not_a_multi_select(app, setup):
    school, lead, staff = setup
    page = _client(app, lead).get(f"/s/{school.slug}/training/record").get_data(as_text=True)
    assert "<select multiple" not in page and "Ctrl" not in page
    assert page.count('type="checkbox" name="people"') == 4
    for label in ("Teaching staff", "Support staff", "Volunteer"):
        assert f"<legend>{label} <span" in page
    assert page.index("Ana Teacher") < page.index("Cy Support") < page.index("Dee Volunteer")
    assert "data-picker-search" in page and 'aria-live="polite" data-picker-count' in page
    assert "0 selected" in page
    assert "js/people-picker.js" in page
    assert _checked(page) == set()


def test_the_chosen_ids_are_recorded(app, setup):
    school, lead, staff = setup
    chosen = [staff["Ana Teacher"].id, staff["Cy Support"].id]
    response = _record(_client(app, lead), school, chosen)
    assert response.status_code == 302
    attended = set(db.session.execute(sa.select(TrainingAttendance.person_id)).scalars())
    assert attended == set(chosen)


@pytest.mark.parametrize("bad", ["other-school", "unknown", "garbage"])
def test_ids_of_another_school_or_unknown_ids_are_refused_and_nothing_is_recorded(
    app, setup, make_school, bad
):
    school, lead, staff = setup
    if bad == "other-school":
        other = make_school()
        stranger = people.add_person(
            other, full_name="Stranger", email=None, category="teaching", start_on=date(2020, 8, 1)
        )
        db.session.commit()
        value = stranger.id
    elif bad == "unknown":
        value = uuid.uuid4()
    else:
        value = "not-an-id"
    response = _record(_client(app, lead), school, [staff["Ana Teacher"].id, value])
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "not on this school&#39;s register" in text
    assert "Stranger" not in text
    assert _session_count(school) == 0


def test_choosing_nobody_is_refused_with_a_message(app, setup):
    school, lead, _staff = setup
    response = _record(_client(app, lead), school, [])
    assert response.status_code == 400 and "Choose who attended." in response.get_data(as_text=True)
    assert _session_count(school) == 0


def test_the_drill_down_links_to_the_record_form_with_those_people_ticked(app, setup):
    school, lead, staff = setup
    activity = _activity()
    # Ana is trained; the other staff (teaching and support) never were; the volunteer is not in the audience
    training.record_session(
        school,
        activity=activity,
        held_on=date(2026, 9, 1),
        provider="",
        notes="",
        people=[staff["Ana Teacher"]],
        user=lead.user,
    )
    db.session.commit()
    client = _client(app, lead)
    who = client.get(f"/s/{school.slug}/training/activities/{activity.key}/never").get_data(as_text=True)
    link = f"/s/{school.slug}/training/record?activity={activity.key}&amp;bucket=never"
    assert link in who and "Record attendance for these 2 people" in who

    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _checked(text) == {str(staff["Ben Teacher"].id), str(staff["Cy Support"].id)}
    assert f'<option selected value="{activity.key}">' in text or re.search(
        rf'<option[^>]*value="{activity.key}"[^>]*selected', text
    )
    assert "2 people never trained for this activity are already ticked" in text
    assert "2 selected" in text

    current = client.get(f"/s/{school.slug}/training/activities/{activity.key}/current").get_data(
        as_text=True
    )
    assert "Record attendance for these" not in current


@pytest.mark.parametrize(
    "query",
    [
        "activity=no-such-activity&bucket=never",
        "activity={key}&bucket=current",
        "activity={key}&bucket=x",
        "bucket=never",
    ],
)
def test_a_drill_down_link_that_makes_no_sense_is_a_400(app, setup, query):
    school, lead, _staff = setup
    response = _client(app, lead).get(
        f"/s/{school.slug}/training/record?" + query.format(key=_activity().key)
    )
    assert response.status_code == 400


def test_changing_a_session_shows_its_attendees_ticked(app, setup):
    school, lead, staff = setup
    session = training.record_session(
        school,
        activity=_activity(),
        held_on=date(2026, 9, 1),
        provider="",
        notes="",
        people=[staff["Cy Support"]],
        user=lead.user,
    )
    db.session.commit()
    client = _client(app, lead)
    page = client.get(f"/s/{school.slug}/training/sessions/{session.id}/edit").get_data(as_text=True)
    assert _checked(page) == {str(staff["Cy Support"].id)}
    response = client.post(
        f"/s/{school.slug}/training/sessions/{session.id}/edit",
        data={
            "activity": _activity().key,
            "held_on": "2026-09-01",
            "provider": "",
            "notes": "",
            "people": [str(staff["Cy Support"].id), str(staff["Dee Volunteer"].id)],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert {a.person_id for a in db.session.get(TrainingSession, session.id).attendances} == {
        staff["Cy Support"].id,
        staff["Dee Volunteer"].id,
    }
