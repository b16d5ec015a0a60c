"""One date policy (tracker/validation.py): every date field refuses impossible years with a message that
states the allowed range; a row stored with such a date before the policy cannot break a page, a PDF, the
calendar feed or the digests; a recorded training session can be changed and deleted, audited."""

import importlib
import inspect
import pkgutil
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from wtforms import DateField

import tracker
from tracker.audit import AuditEvent
from tracker.dates import add_days, add_months, add_years
from tracker.extensions import db
from tracker.forms_common import Form
from tracker.validation import DATE_WINDOWS, DatePolicy, check_date

from .conftest import audit_count
from .world import build_worlds, sign_in

IMPOSSIBLE = ["0001-01-01", "9999-12-31"]


def all_form_classes():
    """Every form class defined in the tracker package (all modules imported)."""
    for info in pkgutil.walk_packages(tracker.__path__, "tracker."):
        importlib.import_module(info.name)
    seen, todo = set(), [Form]
    import flask_wtf

    todo.append(flask_wtf.FlaskForm)
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return sorted((c for c in seen if c.__module__.startswith("tracker.")), key=lambda c: c.__qualname__)


def date_fields():
    out = []
    for cls in all_form_classes():
        for name, unbound in cls._unbound_fields or _unbound(cls):
            if issubclass(unbound.field_class, DateField):
                out.append((cls, name))
    return out


def _unbound(cls):
    return [(n, v) for n in dir(cls) if hasattr((v := getattr(cls, n)), "field_class")]


def _make(cls, app, data):
    kwargs = {"manage": True} if "manage" in inspect.signature(cls.__init__).parameters else {}
    with app.test_request_context("/", method="POST", data=data):
        form = cls(**kwargs)
        form.validate()
        return form


DATE_FIELDS = date_fields()


def test_every_date_field_of_every_form_has_a_date_policy():
    """A DateField added without choosing its kind of date fails here."""
    assert len(DATE_FIELDS) >= 12, DATE_FIELDS
    missing = []
    for cls, name in DATE_FIELDS:
        unbound = dict(_unbound(cls))[name]
        validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
        if not any(isinstance(v, DatePolicy) for v in validators):
            missing.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert missing == [], "add DatePolicy(kind) to these date fields"


@pytest.mark.parametrize("cls,name", DATE_FIELDS, ids=[f"{c.__qualname__}.{n}" for c, n in DATE_FIELDS])
@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_every_date_field_refuses_year_1_and_9999_with_the_allowed_range(app, cls, name, value):
    form = _make(cls, app, {name: value})
    errors = " ".join(form[name].errors)
    assert "Give a date between" in errors and "check the year" in errors, (name, form.errors)
    assert "1950" in errors or str(date.today().year - 10) in errors or str(date.today().year - 60) in errors


def test_the_policy_lets_plausible_dates_through_and_states_each_window():
    today = date(2026, 11, 30)
    assert check_date("happened", date(2026, 11, 1), today) is None
    assert check_date("happened", date(1950, 1, 1), today) is None
    assert "between 1 January 1950 and 7 December 2026" in check_date("happened", date(2027, 1, 1), today)
    assert check_date("start", date(2028, 11, 1), today) is None
    assert check_date("start", date(2029, 1, 1), today) is not None
    assert check_date("expiry", date(2046, 1, 1), today) is None
    assert check_date("expiry", date(2047, 1, 1), today) is not None
    assert check_date("due", date(2031, 11, 1), today) is None
    assert check_date("due", date(2015, 1, 1), today) is not None
    for kind in DATE_WINDOWS:
        assert check_date(kind, date.min, today) and check_date(kind, date.max, today)
        assert check_date(kind, None, today) is None


def test_date_arithmetic_on_stored_dates_holds_at_the_ends_instead_of_overflowing():
    assert add_days(date.max, 1) == date.max and add_days(date.min, -1) == date.min
    assert add_years(date(9999, 6, 1), 2) == date.max and add_years(date(1, 6, 1), -2) == date.min
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_months(date(9999, 11, 30), 4) == date.max
    assert add_months(date(2026, 11, 30), 4) == date(2027, 3, 28)


# --- through the pages --------------------------------------------------------------------------------------


def _page_posts(a):
    """(url, data, field) for the date fields as their pages send them."""
    from tracker.training.services import activities

    base = f"/s/{a.school.slug}"
    person = str(a.objects["person_id"])
    return [
        (
            f"{base}/training/record",
            {"activity": activities()[0].key, "people": person, "held_on": None},
            "held_on",
        ),
        (
            f"{base}/training/sessions/{a.objects['session_id']}/edit",
            {"activity": activities()[0].key, "people": person, "held_on": None},
            "held_on",
        ),
        (
            f"{base}/people/new",
            {"full_name": "Pat New", "category": "teaching", "start_on": None},
            "start_on",
        ),
        (
            f"{base}/people/{person}/edit",
            {"full_name": "Pat", "category": "teaching", "start_on": "2026-08-01", "leave_on": None},
            "leave_on",
        ),
        (
            f"{base}/items/{a.objects['item_id']}",
            {"version": str(a.item.version), "status": "done", "completed_on": None},
            "completed_on",
        ),
        (
            f"{base}/members/invite",
            {"email": "visitor@example.org", "role": "accreditor", "access_until": None},
            "access_until",
        ),
    ]


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_each_page_refuses_an_impossible_date_with_its_message_and_saves_nothing(app, value):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    for url, data, name in _page_posts(a):
        before = audit_count()
        response = client.post(url, data={**data, name: value})
        db.session.rollback()
        assert response.status_code == 400, (url, response.status_code)
        assert "Give a date between" in response.get_data(as_text=True), url
        assert audit_count() == before, url


def test_a_recruitment_check_refuses_an_impossible_expiry_and_saves_nothing(app):
    from tracker.tracking.models import Item

    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    item = db.session.get(Item, a.objects["check_item_id"])
    prefix = f"c{item.id.hex[:8]}"
    before = audit_count()
    response = client.post(
        f"/s/{a.school.slug}/people/{a.objects['person_id']}/checks/{item.id}",
        data={
            f"{prefix}-version": str(item.version),
            f"{prefix}-check_status": "verified",
            f"{prefix}-verified_on": "2026-09-01",
            f"{prefix}-expires_on": "9999-12-31",
            f"{prefix}-document_type": "",
        },
    )
    assert response.status_code == 400  # the check's page again, with the values sent
    assert "Give a date between" in response.get_data(as_text=True)
    db.session.rollback()
    assert audit_count() == before
    assert db.session.get(Item, item.id).expires_on is None


# --- rows stored before the policy -------------------------------------------------------------------------


def _bad_rows():
    """School A of the world with years 9999 and 0001 written straight into every kind of stored date,
    bypassing the forms. Returns (world, the world's person, one starting in 9999, one who started in 1)."""
    from tracker.people.models import Person
    from tracker.tracking.models import Item
    from tracker.training.models import TrainingAttendance, TrainingSession
    from tracker.training.services import activities

    a, _ = build_worlds()
    school = a.school
    person = db.session.get(Person, a.objects["person_id"])
    late, early = date(9999, 12, 31), date(1, 1, 1)
    odd = Person(
        school_id=school.id,
        full_name="Odd Dates",
        email=None,
        category="teaching",
        groups=["response_team", "leadership"],
        start_on=late,
        countries=[],
        user_id=a.members["lead"].user_id,
    )
    ancient = Person(
        school_id=school.id,
        full_name="Ancient Dates",
        email=None,
        category="support",
        groups=["response_team", "leadership"],
        start_on=early,
        countries=[],
    )
    db.session.add_all([odd, ancient])
    db.session.flush()
    for activity in activities():  # every repeat rule (yearly, two-yearly, termly, once) meets both dates
        for held_on, people in ((late, (person, odd)), (early, (ancient,))):
            session = TrainingSession(
                school_id=school.id, requirement_key=activity.key, requirement_id=activity.id, held_on=held_on
            )
            db.session.add(session)
            db.session.flush()
            for who in people:
                db.session.add(
                    TrainingAttendance(school_id=school.id, session_id=session.id, person_id=who.id)
                )
    check = db.session.get(Item, a.objects["check_item_id"])
    check.expires_on, check.verified_on, check.due_on = late, early, early
    a.item.completed_on, a.item.due_on, a.item.review_on = late, late, early
    db.session.commit()
    return a, person, odd, ancient


def test_a_row_stored_with_an_impossible_date_breaks_no_page_or_pdf(app):
    from tracker.training.services import activities

    a, person, odd, ancient = _bad_rows()
    school = a.school
    client = sign_in(app.test_client(), a.members["lead"].user)
    base = f"/s/{school.slug}"
    year = a.objects["year_id"]
    urls = [
        f"{base}/",
        f"{base}/training/",
        f"{base}/people/",
        f"{base}/people/{person.id}",
        f"{base}/people/{odd.id}",
        f"{base}/people/{ancient.id}",
        f"{base}/people/me",
        f"{base}/people/export.csv",
        f"{base}/items",
        f"{base}/items/{a.item.id}",
        f"{base}/training/sessions/{a.objects['session_id']}/edit",
        f"{base}/reports/training-record.pdf?person={person.id}",
        f"{base}/reports/training-record.pdf?person={odd.id}",
        f"{base}/reports/training-record.pdf?person={ancient.id}",
        f"{base}/reports/years/{year}/accreditation.pdf",
        f"{base}/reports/years/{year}/register.pdf",
        f"{base}/reports/years/{year}/frameworks/training-plan.pdf",
    ]
    urls += [
        f"{base}/training/activities/{act.key}/{bucket}"
        for act in activities()
        for bucket in ("current", "expiring", "overdue", "never")
    ]
    failures = []
    for url in urls:
        response = client.get(url)
        db.session.rollback()
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
    assert failures == []


def test_a_row_stored_with_an_impossible_date_breaks_no_calendar_feed(app):
    from tracker.reminders.calendar import feed_url, new_feed

    a, *_ = _bad_rows()
    a.item.owner_id, a.item.status = a.members["lead"].user_id, "not_started"
    a.item.due_on = date(9999, 12, 31)
    feed = new_feed(a.school, a.members["lead"].user)
    db.session.commit()
    with app.test_request_context():
        url = feed_url(feed).replace("http://tracker.test", "")
    response = app.test_client().get(url)
    assert response.status_code == 200, response.status_code
    assert b"DTSTART;VALUE=DATE:99991231" in response.data


def test_a_row_stored_with_an_impossible_date_breaks_no_reminder_digest(app):
    from tracker.reminders.digest import build_school_digests

    a, *_ = _bad_rows()
    for day in (datetime(2026, 11, 30, 12, tzinfo=UTC), datetime(2026, 12, 7, 12, tzinfo=UTC)):
        assert build_school_digests(a.school, day) is not None  # built, not crashed
        db.session.rollback()


def test_the_bad_session_can_be_corrected_on_its_page(app):
    """The way out for a school with a bad row: change the session's date."""
    from tracker.training.models import TrainingSession

    a, _ = build_worlds()
    session = db.session.get(TrainingSession, a.objects["session_id"])
    session.held_on = date(9999, 12, 31)
    db.session.commit()
    client = sign_in(app.test_client(), a.members["hr"].user)
    url = f"/s/{a.school.slug}/training/sessions/{session.id}/edit"
    page = client.get(url)
    assert page.status_code == 200 and 'value="9999-12-31"' in page.get_data(as_text=True)
    response = client.post(
        url,
        data={
            "activity": session.requirement_key,
            "held_on": "2026-08-21",
            "people": str(a.objects["person_id"]),
            "provider": "Fixed",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).held_on == date(2026, 8, 21)


# --- changing and deleting a session ------------------------------------------------------------------------


def _last_event(action):
    return (
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )


def test_a_session_is_changed_and_the_change_is_audited(app):
    from tracker.people.services import add_person
    from tracker.training.models import TrainingSession

    a, _ = build_worlds()
    other = add_person(
        a.school,
        full_name="Second Attendee",
        email=None,
        category="teaching",
        start_on=date(2026, 8, 1),
        countries=[],
        groups=[],
    )
    db.session.commit()
    session = db.session.get(TrainingSession, a.objects["session_id"])
    client = sign_in(app.test_client(), a.members["lead"].user)
    index = client.get(f"/s/{a.school.slug}/training/").get_data(as_text=True)
    assert f"/training/sessions/{session.id}/edit" in index, "the training page links to the change page"
    person_page = client.get(f"/s/{a.school.slug}/people/{a.objects['person_id']}").get_data(as_text=True)
    assert f"/training/sessions/{session.id}/edit" in person_page, "the person page links to the change page"
    before = audit_count()
    url = f"/s/{a.school.slug}/training/sessions/{session.id}/edit?person={a.objects['person_id']}"
    response = client.post(
        url,
        data={
            "activity": session.requirement_key,
            "held_on": "2026-08-22",
            "provider": "New provider",
            "notes": "Corrected",
            "people": [str(a.objects["person_id"]), str(other.id)],
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{a.objects['person_id']}")
    db.session.expire_all()
    session = db.session.get(TrainingSession, session.id)
    assert (session.held_on, session.provider, session.notes) == (
        date(2026, 8, 22),
        "New provider",
        "Corrected",
    )
    assert sorted(x.person.full_name for x in session.attendances) == ["Person plain", "Second Attendee"]
    assert audit_count() == before + 1
    event = _last_event("training.changed")
    assert event.before["held_on"] == "2026-08-20" and event.after["held_on"] == "2026-08-22"
    assert event.after["people"] == ["Person plain", "Second Attendee"]


def test_a_session_is_deleted_and_the_deletion_is_audited(app):
    from tracker.training.models import TrainingAttendance, TrainingSession

    a, _ = build_worlds()
    session_id = a.objects["session_id"]
    stored = db.session.get(TrainingSession, session_id).certificate_stored
    from tracker.evidence.storage import EvidenceStore

    path = EvidenceStore(app.config["TRACKER_EVIDENCE_DIR"]).path(a.school.id, stored)
    assert path.exists()
    client = sign_in(app.test_client(), a.members["hr"].user)
    page = client.get(f"/s/{a.school.slug}/training/sessions/{session_id}/edit").get_data(as_text=True)
    assert "data-confirm=" in page and f"/training/sessions/{session_id}/delete" in page
    before = audit_count()
    response = client.post(f"/s/{a.school.slug}/training/sessions/{session_id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingSession, session_id) is None
    assert (
        db.session.scalar(
            select(db.func.count())
            .select_from(TrainingAttendance)
            .where(TrainingAttendance.session_id == session_id)
        )
        == 0
    )
    assert audit_count() == before + 1
    event = _last_event("training.deleted")
    assert event.before["held_on"] == "2026-08-20" and event.before["people"] == ["Person plain"]
    assert not path.exists(), "the certificate file goes with the session"


def test_staff_and_heads_cannot_change_or_delete_a_session(app):
    from tracker.training.models import TrainingSession

    a, _ = build_worlds()
    session_id = a.objects["session_id"]
    for role in ("head", "staff", "accreditor"):
        client = sign_in(app.test_client(), a.members[role].user)
        assert client.post(f"/s/{a.school.slug}/training/sessions/{session_id}/delete").status_code == 403
        assert client.get(f"/s/{a.school.slug}/training/sessions/{session_id}/edit").status_code == 403
    db.session.rollback()
    assert db.session.get(TrainingSession, session_id) is not None


def test_the_cli_refuses_an_impossible_access_end(app):
    from tracker.schools.services import create_school

    school = create_school(slug="cli-dates", name="CLI Dates", country="X")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "--school",
            school.slug,
            "--email",
            "v@example.org",
            "--role",
            "accreditor",
            "--until",
            "9999-12-31",
        ]
    )
    assert result.exit_code != 0
    assert "Give a date between" in result.output
