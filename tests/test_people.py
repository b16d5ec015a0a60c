"""The staff register, safer-recruitment checklists, imports, training records and coverage."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker.extensions import db
from tracker.people import services as people
from tracker.people.checklist import applies_to
from tracker.people.models import Person, RiskAssessment
from tracker.tracking.models import Item
from tracker.training import services as training
from tracker.training.models import TrainingAttendance, TrainingSession

from .conftest import audit_count
from .test_tracking_queries import counted_queries
from .world import sign_in

TODAY = date(2026, 11, 23)


@pytest.fixture
def school_and_members(make_school, make_member):
    school = make_school(timezone="Asia/Bangkok", year_start_month=8)
    members = {role: make_member(school, role) for role in ("lead", "head", "hr", "staff")}
    return school, members


def _people_count(school):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Person).where(Person.school_id == school.id)
    )


def _checks(person):
    return db.session.execute(sa.select(Item).where(Item.person_id == person.id)).scalars().all()


# --- checklist expansion ------------------------------------------------------------------------------------


def test_a_new_person_gets_one_police_check_per_country_they_lived_or_worked_in(school_and_members):
    school, _ = school_and_members
    person = people.add_person(
        school,
        full_name="Ana Example",
        email="ana@example.org",
        category="teaching",
        start_on=date(2027, 1, 5),
        countries=["Thailand", "United Kingdom", "Kenya"],
    )
    items = _checks(person)
    per_country = sorted(i.country for i in items if i.requirement_key == "police-check-country")
    assert per_country == ["Kenya", "Thailand", "United Kingdom"]
    titles = {i.title for i in items}
    assert any(t.endswith(": Kenya") for t in titles)
    framework = people.recruitment_framework()
    # agency staff and volunteers have checks of their own (people/checklist.py CATEGORY_CHECKS, ONLY_FOR)
    single = [r for r in framework.requirements if not r.per_country and applies_to(r.key, "teaching")]
    assert len(items) == len(single) + 3
    assert all(i.check_status == "not_started" and i.kind == "check" for i in items)


def test_changing_countries_adds_the_new_check_and_retires_an_untouched_old_one(school_and_members):
    school, _ = school_and_members
    person = people.add_person(
        school,
        full_name="Ben Example",
        email=None,
        category="support",
        start_on=date(2027, 1, 5),
        countries=["Thailand", "Kenya"],
    )
    before = len(_checks(person))
    people.update_person(school, person, countries=["Thailand", "Japan"])
    items = {i.country: i for i in _checks(person) if i.requirement_key == "police-check-country"}
    assert set(items) == {"Thailand", "Kenya", "Japan"}
    assert items["Kenya"].check_status == "not_required" and "no longer" in items["Kenya"].na_reason
    assert items["Japan"].check_status == "not_started"
    assert len(_checks(person)) == before + 1
    assert people.sync_checklist(school, person) == 0  # running it again adds nothing


def test_the_same_email_cannot_be_on_the_register_twice(school_and_members):
    school, _ = school_and_members
    people.add_person(school, full_name="C One", email="c@example.org", category="teaching", start_on=TODAY)
    with pytest.raises(people.PeopleError, match="already on the register"):
        people.add_person(
            school, full_name="C Two", email="C@Example.org", category="teaching", start_on=TODAY
        )


# --- import -------------------------------------------------------------------------------------------------

HEADER = "full_name,email,category,start_date,leave_date,countries,groups\n"
GOOD = (
    HEADER + "Dee Good,dee@example.org,teaching,2026-08-01,,Thailand;Kenya,response_team\n"
    "Eli Good,eli@example.org,board,2025-09-01,,United Kingdom,\n"
)


def _upload(client, school, body: bytes, name="register.csv"):
    return client.post(
        f"/s/{school.slug}/people/import",
        data={"file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def _payload(page):
    import re

    return re.search(r'name="payload" type="hidden" value="([^"]+)"', page).group(1)


def test_an_import_with_bad_rows_shows_each_problem_and_writes_nothing(app, school_and_members):
    school, members = school_and_members
    client = sign_in(app.test_client(), members["hr"].user)
    body = (
        HEADER
        + "Fay Ok,fay@example.org,teaching,2026-08-01,,Thailand,\n"
        + "Gus Date,gus@example.org,teaching,31-31-2026,,Thailand,\n"
        + "Hal Land,hal@example.org,support,2026-08-01,,Atlantis,\n"
        + "Ivy Twice,fay@example.org,teaching,2026-08-01,,Kenya,\n"
        + "Jo Kind,jo@example.org,wizard,2026-08-01,,Kenya,\n"
    ).encode()
    before_people, before_audit = _people_count(school), audit_count()
    page = _upload(client, school, body).get_data(as_text=True)
    assert "4 with errors" in page
    assert "start_date “31-31-2026” is not a date" in page
    assert "unknown country: Atlantis" in page
    assert "email fay@example.org is also on line 2" in page
    assert "category “wizard” is not one of" in page
    assert _people_count(school) == before_people and audit_count() == before_audit
    # Confirming without choosing to skip the bad rows is refused, and still nothing is written.
    response = client.post(f"/s/{school.slug}/people/import/confirm", data={"payload": _payload(page)})
    assert response.status_code == 400 and "have errors" in response.get_data(as_text=True)
    assert _people_count(school) == before_people
    # Choosing to skip them imports the one good row only.
    response = client.post(
        f"/s/{school.slug}/people/import/confirm", data={"payload": _payload(page), "skip_bad": "yes"}
    )
    assert response.status_code == 302
    assert _people_count(school) == before_people + 1


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message(app, school_and_members):
    school, members = school_and_members
    client = sign_in(app.test_client(), members["lead"].user)
    body = (HEADER + "Zoë Müller,zoe@example.org,teaching,2026-08-01,,Deutschland,\n").encode("latin-1")
    response = _upload(client, school, body)
    assert response.status_code == 400
    assert "not UTF-8" in response.get_data(as_text=True)
    assert _people_count(school) == 0


def test_a_tampered_import_payload_is_refused(app, school_and_members):
    school, members = school_and_members
    client = sign_in(app.test_client(), members["lead"].user)
    response = client.post(
        f"/s/{school.slug}/people/import/confirm", data={"payload": "eyJyb3dzIjpbXX0.forged"}
    )
    assert response.status_code == 400
    assert _people_count(school) == 0


def test_importing_the_same_file_twice_changes_nothing_the_second_time(app, school_and_members):
    school, members = school_and_members
    client = sign_in(app.test_client(), members["hr"].user)
    for expected in ("2 added, 0 updated, 0 unchanged", "0 added, 0 updated, 2 unchanged"):
        page = _upload(client, school, GOOD.encode()).get_data(as_text=True)
        response = client.post(
            f"/s/{school.slug}/people/import/confirm", data={"payload": _payload(page)}, follow_redirects=True
        )
        assert expected in response.get_data(as_text=True)
    dee = db.session.execute(sa.select(Person).where(Person.email == "dee@example.org")).scalar_one()
    assert dee.countries == ["Thailand", "Kenya"] and dee.groups == ["response_team"]
    assert len([i for i in _checks(dee) if i.requirement_key == "police-check-country"]) == 2


def test_an_xlsx_register_imports_like_a_csv(app, school_and_members):
    from openpyxl import Workbook

    school, members = school_and_members
    wb = Workbook()
    ws = wb.active
    ws.append(["Full name", "E-mail", "category", "Start date", "leave_date", "countries", "groups"])
    ws.append(["Kim Sheet", "kim@example.org", "volunteer", date(2026, 9, 1), None, "Kenya", None])
    buf = io.BytesIO()
    wb.save(buf)
    client = sign_in(app.test_client(), members["hr"].user)
    page = _upload(client, school, buf.getvalue(), "register.xlsx").get_data(as_text=True)
    assert "Kim Sheet" in page and "with errors" not in page
    client.post(f"/s/{school.slug}/people/import/confirm", data={"payload": _payload(page)})
    assert _people_count(school) == 1


# --- checks and risk assessments ----------------------------------------------------------------------------


def test_a_risk_assessment_signed_by_the_head_stands_in_for_a_check_that_cannot_be_had(
    app, school_and_members
):
    from tracker.people import register

    school, members = school_and_members
    person = people.add_person(
        school,
        full_name="Lou Risk",
        email=None,
        category="teaching",
        start_on=date(2026, 8, 1),
        countries=["Syria"],
    )
    for item in _checks(person):
        if item.requirement_key != "police-check-country":
            people.update_check(
                school,
                item,
                version=item.version,
                check_status="verified",
                verified_on=date(2026, 7, 1),
                user=members["hr"].user,
            )
    gap = next(i for i in _checks(person) if i.requirement_key == "police-check-country")
    db.session.commit()
    [row] = register.build(school)[1]
    assert not row.complete  # the police check is still open
    people.record_risk_assessment(
        school, gap, summary="Statement from former school; no concerns.", user=members["hr"].user
    )
    db.session.commit()
    assert not register.build(school)[1][0].complete  # written but not yet signed
    client = sign_in(app.test_client(), members["head"].user)
    response = client.post(f"/s/{school.slug}/people/{person.id}/checks/{gap.id}/risk/sign")
    assert response.status_code == 302
    ra = db.session.execute(sa.select(RiskAssessment).where(RiskAssessment.item_id == gap.id)).scalar_one()
    assert ra.signed_by_id == members["head"].user_id and ra.signed_at is not None
    assert register.build(school)[1][0].complete
    cols, rows, _ = register.build(school)
    # the export's cells hold dates as dates (real date cells in XLSX), so read them as text
    assert any("risk assessed, signed" in str(cell) for cell in register.to_table(cols, rows)[1])


def test_the_incomplete_filter_agrees_with_the_complete_mark_on_each_row(school_and_members):
    from tracker.people import register

    school, members = school_and_members
    hr, head = members["hr"].user, members["head"].user

    def person(name, leave_open=None, risk=None):
        p = people.add_person(
            school,
            full_name=name,
            email=None,
            category="teaching",
            start_on=date(2026, 8, 1),
            countries=["Syria"],
        )
        for item in _checks(p):
            if item.requirement_key == leave_open:
                if risk:
                    people.record_risk_assessment(school, item, summary="Former school statement.", user=hr)
                    if risk == "signed":
                        people.sign_risk_assessment(school, item, user=head)
                continue
            people.update_check(school, item, version=item.version, check_status="verified", user=hr)
        return p

    person("All Verified")
    person("One Open", leave_open="identity-verified")
    person("Covered By Signed Assessment", leave_open="police-check-country", risk="signed")
    person("Assessment Not Signed", leave_open="police-check-country", risk="written")
    _, rows, _ = register.build(school)
    by_mark = sorted(r.person.full_name for r in rows if not r.complete)
    _, incomplete, _ = register.build(school, "incomplete")
    assert sorted(r.person.full_name for r in incomplete) == by_mark == ["Assessment Not Signed", "One Open"]


def test_the_register_pages_fifty_people_at_a_time(app, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    _bulk_people(school, 120)
    client = sign_in(app.test_client(), lead.user)
    third = client.get(f"/s/{school.slug}/people/?page=3").get_data(as_text=True)
    assert "Person 0100" in third and "Person 0119" in third and "Person 0099" not in third
    assert "Page 3 of 3 (120 in all)" in third
    assert client.get(f"/s/{school.slug}/people/?page=4").status_code == 404
    assert client.get(f"/s/{school.slug}/people/?page=x").status_code == 400


def test_hr_cannot_sign_a_risk_assessment_and_staff_cannot_open_the_register(app, school_and_members):
    school, members = school_and_members
    person = people.add_person(school, full_name="Mo", email=None, category="teaching", start_on=TODAY)
    item = _checks(person)[0]
    db.session.commit()
    hr = sign_in(app.test_client(), members["hr"].user)
    assert hr.post(f"/s/{school.slug}/people/{person.id}/checks/{item.id}/risk/sign").status_code == 403
    staff = sign_in(app.test_client(), members["staff"].user)
    assert staff.get(f"/s/{school.slug}/people/").status_code == 403
    assert staff.get(f"/s/{school.slug}/people/{person.id}").status_code == 403


def test_a_staff_member_sees_their_own_checklist_and_training_and_nobody_elses(app, school_and_members):
    school, members = school_and_members
    mine = people.add_person(
        school,
        full_name="Sam Mine",
        email=members["staff"].user.email,
        category="teaching",
        start_on=date(2026, 8, 1),
        countries=["Peru"],
    )
    people.add_person(
        school,
        full_name="Other Person",
        email="other@example.org",
        category="teaching",
        start_on=date(2026, 8, 1),
        countries=["Chile"],
    )
    db.session.commit()
    assert mine.user_id == members["staff"].user_id
    page = (
        sign_in(app.test_client(), members["staff"].user)
        .get(f"/s/{school.slug}/people/me")
        .get_data(as_text=True)
    )
    assert "Sam Mine" in page and "Peru" in page
    assert "Other Person" not in page and "Chile" not in page


def test_a_check_saved_from_an_old_version_is_refused(app, school_and_members):
    school, members = school_and_members
    person = people.add_person(school, full_name="Nia", email=None, category="teaching", start_on=TODAY)
    item = _checks(person)[0]
    db.session.commit()
    stale = item.version
    people.update_check(school, item, version=stale, check_status="requested", user=members["hr"].user)
    db.session.commit()
    client = sign_in(app.test_client(), members["hr"].user)
    prefix = f"c{item.id.hex[:8]}-"
    response = client.post(
        f"/s/{school.slug}/people/{person.id}/checks/{item.id}",
        data={
            prefix + "version": str(stale),
            prefix + "check_status": "verified",
            prefix + "document_type": "",
        },
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Item, item.id).check_status == "requested"


# --- training expiry and coverage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "done,repeat,expected",
    [
        (date(2026, 3, 1), "yearly", date(2027, 3, 1)),
        (date(2024, 2, 29), "yearly", date(2025, 2, 28)),
        (date(2026, 3, 1), "every_two_years", date(2028, 3, 1)),
        (date(2026, 10, 31), "termly", date(2027, 2, 28)),
        (date(2026, 3, 1), "at_induction", None),
        (date(2026, 3, 1), "once", None),
    ],
)
def test_training_expiry_follows_the_activitys_repeat_rule(done, repeat, expected):
    assert training.expiry(done, repeat) == expected


def test_coverage_counts_current_expiring_overdue_and_never_with_the_names_behind_them(school_and_members):
    school, members = school_and_members
    by_key = {a.key: a for a in training.activities()}
    refresher = by_key["staff-annual-refresher"]  # yearly, audience all staff
    with time_machine.travel(date(2026, 11, 23), tick=False):
        today = school.today()

        def make(name, **kw):
            return people.add_person(
                school,
                full_name=name,
                email=None,
                start_on=date(2024, 8, 1),
                **{"category": "teaching", **kw},
            )

        current, expiring, overdue, _never = (
            make("Cur Rent"),
            make("Exp Iring"),
            make("Over Due"),
            make("Nev Er"),
        )
        leaver = make("Lea Ver", leave_on=today - timedelta(days=10))
        make("Vol Unteer", category="volunteer")  # not in the all-staff audience
        lead = members["lead"].user
        training.record_session(
            school,
            activity=refresher,
            held_on=today - timedelta(days=100),
            provider="Lead",
            notes="",
            people=[current],
            user=lead,
        )
        training.record_session(
            school,
            activity=refresher,
            held_on=today - timedelta(days=350),
            provider="Lead",
            notes="",
            people=[expiring, leaver],
            user=lead,
        )
        training.record_session(
            school,
            activity=refresher,
            held_on=today - timedelta(days=400),
            provider="Lead",
            notes="",
            people=[overdue],
            user=lead,
        )
        cov = next(c for c in training.coverage(school) if c.activity.key == "staff-annual-refresher")
    names = {
        state: [p.full_name for p, _ in getattr(cov, state)]
        for state in ("current", "expiring", "overdue", "never")
    }
    assert names == {
        "current": ["Cur Rent"],
        "expiring": ["Exp Iring"],
        "overdue": ["Over Due"],
        "never": ["Nev Er"],
    }
    assert cov.total == 4 and cov.percent_current == 50
    # one session attended by two people is one session row with two attendances
    sessions = db.session.scalar(
        sa.select(sa.func.count()).select_from(TrainingSession).where(TrainingSession.school_id == school.id)
    )
    attendances = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TrainingAttendance)
        .where(TrainingAttendance.school_id == school.id)
    )
    assert (sessions, attendances) == (3, 4)


def test_recording_a_session_with_a_hostile_certificate_records_nothing(app, school_and_members):
    school, members = school_and_members
    person = people.add_person(school, full_name="Pat", email=None, category="teaching", start_on=TODAY)
    db.session.commit()
    activity = training.activities()[0]
    client = sign_in(app.test_client(), members["lead"].user)
    response = client.post(
        f"/s/{school.slug}/training/record",
        content_type="multipart/form-data",
        data={
            "activity": activity.key,
            "held_on": "2026-11-01",
            "provider": "X",
            "people": [str(person.id)],
            "certificate": (io.BytesIO(b"<html><script>alert(1)</script></html>"), "certificate.pdf"),
        },
    )
    assert response.status_code == 400
    assert "Nothing was recorded" in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TrainingSession)
            .where(TrainingSession.school_id == school.id)
        )
        == 0
    )


# --- fixed query counts -------------------------------------------------------------------------------------


def _bulk_people(school, n):
    """`n` people with their full checklists (per-country checks included) and one training session for
    all."""
    framework = people.recruitment_framework()
    rows = [
        Person(
            school_id=school.id,
            full_name=f"Person {i:04}",
            email=f"p{i}@example.org",
            category="teaching" if i % 3 else "support",
            groups=["response_team"] if i % 50 == 0 else [],
            start_on=date(2025, 8, 1),
            countries=["Thailand", "Kenya"],
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.flush()
    for person in rows:
        for req in framework.requirements:
            for country in person.countries if req.per_country else [""]:
                db.session.add(
                    Item(
                        school_id=school.id,
                        person_id=person.id,
                        framework_id=framework.id,
                        requirement_id=req.id,
                        requirement_key=req.key,
                        kind="check",
                        section_title=req.section.title,
                        title=req.title,
                        country=country,
                        owner_role=req.owner_role,
                        due_on=person.start_on,
                        check_status="verified" if len(person.full_name) % 2 else "requested",
                        expires_on=date(2029, 1, 1) if req.per_country else None,
                    )
                )
    session = TrainingSession(
        school_id=school.id, requirement_key="staff-annual-refresher", held_on=date(2026, 9, 1)
    )
    db.session.add(session)
    db.session.flush()
    db.session.add_all(
        TrainingAttendance(school_id=school.id, session_id=session.id, person_id=p.id) for p in rows
    )
    db.session.commit()


@pytest.mark.parametrize(
    "path",
    [
        "people/",
        "people/?filter=incomplete",
        "training/",
        "training/activities/staff-annual-refresher/current",
        "people/export.csv",
    ],
)
def test_the_register_and_coverage_use_the_same_number_of_queries_for_5_or_500_people(
    app, make_school, make_member, path
):
    counts = []
    for n in (5, 500):
        school = make_school()
        lead = make_member(school, "lead")
        _bulk_people(school, n)
        client = sign_in(app.test_client(), lead.user)
        url = f"/s/{school.slug}/{path}"
        client.get(url)  # warm-up: per-process caches are not counted
        with counted_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        if path.startswith("people/?") or path == "people/":  # paged: the first page, and the right total
            assert "Person 0000" in body and (f"{n} people" in body)
        elif (
            path == "training/"
        ):  # every one of them is current for the refresher, and the number links to them
            assert (
                '/training/activities/staff-annual-refresher/current" '
                f'aria-label="{n} current: see who">{n}</a>' in body
            )
        elif path.startswith("training/activities/"):  # the first page of the people behind that number
            assert "Person 0000" in body and f"Current ({n})" in body and ("Person 0049" in body) == (n > 49)
        else:
            assert f"Person {n - 1:04}" in body  # the last person really is listed
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
