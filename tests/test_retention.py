"""Retention: the school's periods within the installation's limits, holds, upcoming removals, the daily
run (leavers pseudonymised, police-check certificate copies and old programme records removed), what
protects a record (a hold, an open accreditor query, a signed report's frozen file), a person's data export
and erasure."""

import io
import json
import zipfile
from datetime import date, timedelta

import pytest

from tracker.audit import AuditEvent
from tracker.dates import add_whole_months as add_months
from tracker.evidence.models import Evidence
from tracker.evidence.services import add_files, store
from tracker.extensions import db
from tracker.people.models import Person
from tracker.people.services import add_person
from tracker.reminders.scheduler import add_jobs
from tracker.reports.models import Report
from tracker.retention import jobs, services
from tracker.retention.models import PendingFileDeletion, RetentionRule, Tombstone
from tracker.review.models import CLOSED, OPEN, ReviewQuery
from tracker.tracking.models import Item, SchoolYear
from tracker.tracking.services import _create_year

from .conftest import audit_count

TODAY = date.today()


@pytest.fixture
def school(make_school, make_member):
    s = make_school()
    s.members = {role: make_member(s, role) for role in ("lead", "head", "hr", "staff", "accreditor")}
    return s


def _person(school, name="Alex Leaver", left=None, email=None):
    person = add_person(
        school,
        full_name=name,
        email=email or f"{name.split()[0].lower()}@example.org",
        category="teaching",
        start_on=date(2015, 9, 1),
        countries=["France"],
    )
    person.leave_on = left
    db.session.flush()
    return person


def _police_item(school, person):
    return (
        db.session.execute(
            db.select(Item).where(
                Item.school_id == school.id,
                Item.person_id == person.id,
                Item.requirement_key.like("police-check%"),
            )
        )
        .scalars()
        .first()
    )


def _file(school, item, user, text="certificate scan"):
    [row] = add_files(school, item, [("certificate.txt", text.encode())], applies_on=None, user=user)
    db.session.commit()
    return row


def _events(action):
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _client(app, member):
    from .world import sign_in

    return sign_in(app.test_client(), member.user)


def test_the_lead_sets_periods_within_the_installations_limits(app, school):
    """A period outside the installation's limits is refused with a clear 400 and nothing is saved."""
    client = _client(app, school.members["lead"])
    page = client.get(f"/s/{school.slug}/retention/")
    assert page.status_code == 200 and "Leavers&#39; personal details" in page.get_data(as_text=True)
    low, high = (
        app.config["TRACKER_RETENTION_LEAVERS_MIN_MONTHS"],
        app.config["TRACKER_RETENTION_LEAVERS_MAX_MONTHS"],
    )
    bad = client.post(
        f"/s/{school.slug}/retention/rules",
        data={"leavers": high + 1, "police_certificates": 6, "programme": 84},
    )
    assert bad.status_code == 400
    assert f"choose between {low} and {high} months" in bad.get_data(as_text=True)
    assert (
        db.session.execute(db.select(RetentionRule).where(RetentionRule.school_id == school.id)).first()
        is None
    )
    ok = client.post(
        f"/s/{school.slug}/retention/rules", data={"leavers": 24, "police_certificates": 3, "programme": 84}
    )
    assert ok.status_code == 302
    db.session.commit()
    assert services.periods(school)["leavers"] == 24
    [event] = _events("retention.rules_changed")
    assert event.after == {"leavers": 24, "police_certificates": 3}


def test_the_head_reads_the_periods_without_a_form(app, school):
    body = _client(app, school.members["head"]).get(f"/s/{school.slug}/retention/").get_data(as_text=True)
    assert "months after the day they left" in body and "Save periods" not in body


def test_a_leaver_is_pseudonymised_once_the_period_is_over_and_a_rerun_does_nothing(app, school):
    lead = school.members["lead"].user
    person = _person(school, left=TODAY - timedelta(days=365 * 7))
    item = (
        db.session.execute(  # not a police check: only the leavers' rule applies to its evidence
            db.select(Item).where(Item.person_id == person.id, ~Item.requirement_key.like("police-check%"))
        )
        .scalars()
        .first()
    )
    item.check_status, item.verified_on, item.notes = "verified", date(2015, 8, 20), "Seen by Sam"
    evidence = _file(school, item, lead)
    path = store().path(school.id, evidence.stored_name)
    assert path.exists()

    report = jobs.run(school=school, today=TODAY)
    assert [d.record_id for _s, d in report.removed] == [person.id]
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.full_name == f"Former staff member #{person.id.hex[:8]}"
    assert person.email is None and person.countries == [] and person.user_id is None
    item = db.session.get(Item, item.id)
    assert item.check_status == "verified" and item.verified_on == date(2015, 8, 20) and item.notes == ""
    assert db.session.get(Evidence, evidence.id) is None and not path.exists()
    [event] = _events("retention.pseudonymised")
    assert event.after["evidence_ids"] == [str(evidence.id)]
    assert "Alex" not in json.dumps(event.after) and "certificate.txt" not in json.dumps(event.after)
    [stone] = db.session.execute(db.select(Tombstone).where(Tombstone.record_id == person.id)).scalars().all()
    assert stone.action == "pseudonymised" and stone.by_id is None

    before = audit_count()
    again = jobs.run(school=school, today=TODAY)
    assert again.removed == [] and audit_count() == before


def test_pseudonymising_clears_the_leaving_note_and_the_references_of_documents_seen(app, school):
    """A passport number or certificate reference recorded beside a check is personal data too."""
    from tracker.people.models import CheckRecord

    person = _person(school, left=TODAY - timedelta(days=365 * 7))
    person.leave_note = "Moved to Lyon with family"
    item = _police_item(school, person)
    db.session.add(
        CheckRecord(
            school_id=school.id,
            item_id=item.id,
            document_type="police_certificate",
            document_reference="AB123",
        )
    )
    db.session.commit()
    assert len(jobs.run(school=school, today=TODAY).removed) == 1
    db.session.expire_all()
    assert db.session.get(Person, person.id).leave_note == ""
    record = db.session.execute(db.select(CheckRecord).where(CheckRecord.item_id == item.id)).scalar_one()
    assert record.document_reference == "" and record.document_type == "police_certificate"


def test_a_hold_keeps_a_record_until_it_is_lifted(app, school):
    person = _person(school, left=TODAY - timedelta(days=365 * 7))
    client = _client(app, school.members["lead"])
    url = f"/s/{school.slug}/retention/holds"
    no_reason = client.post(url, data={"record_type": "person", "record_id": str(person.id), "reason": " "})
    assert no_reason.status_code == 400 and "Give the reason for the hold" in no_reason.get_data(as_text=True)
    placed = client.post(
        url, data={"record_type": "person", "record_id": str(person.id), "reason": "Inquiry"}
    )
    assert placed.status_code == 302
    db.session.commit()
    assert len(_events("retention.hold_placed")) == 1

    report = jobs.run(school=school, today=TODAY)
    assert report.removed == [] and [d.record_id for _s, d in report.protected] == [person.id]
    assert db.session.get(Person, person.id).full_name == "Alex Leaver"
    page = client.get(f"/s/{school.slug}/retention/").get_data(as_text=True)
    assert "On hold: Inquiry" in page and "<strong>Alex Leaver</strong>: Inquiry" in page

    [hold] = services.active_holds(school)
    assert client.post(f"/s/{school.slug}/retention/holds/{hold.id}/lift").status_code == 302
    db.session.commit()
    assert len(_events("retention.hold_lifted")) == 1
    assert [d.record_id for _s, d in jobs.run(school=school, today=TODAY).removed] == [person.id]


def test_an_open_accreditor_query_keeps_a_record_and_a_closed_one_does_not(app, school):
    person = _person(school, left=TODAY - timedelta(days=365 * 7))
    query = ReviewQuery(school_id=school.id, item_id=_police_item(school, person).id, state=OPEN)
    db.session.add(query)
    db.session.commit()
    assert jobs.run(school=school, today=TODAY).removed == []
    assert db.session.get(Person, person.id).full_name == "Alex Leaver"
    query.state = CLOSED
    db.session.commit()
    assert len(jobs.run(school=school, today=TODAY).removed) == 1


def test_police_certificate_copies_go_a_few_months_after_the_check_and_the_check_stays(app, school):
    person = _person(school)
    item = _police_item(school, person)
    item.check_status, item.verified_on = "verified", add_months(TODAY, -7)
    evidence = _file(school, item, school.members["lead"].user)
    path = store().path(school.id, evidence.stored_name)
    fresh = _police_item(school, _person(school, name="Robin Current"))
    fresh.check_status, fresh.verified_on = "verified", TODAY - timedelta(days=10)
    kept = _file(school, fresh, school.members["lead"].user)

    report = jobs.run(school=school, today=TODAY)
    assert [d.record_id for _s, d in report.removed] == [item.id]
    db.session.expire_all()
    assert db.session.get(Evidence, evidence.id) is None and not path.exists()
    assert db.session.get(Item, item.id).check_status == "verified"
    assert db.session.get(Person, person.id).full_name == "Alex Leaver"
    assert db.session.get(Evidence, kept.id) is not None


def test_old_programme_records_go_but_the_signed_reports_frozen_file_stays(app, school):
    year = _create_year(school, TODAY.year - 9)
    year.sign_off_state = "signed"
    item = Item(school_id=school.id, year_id=year.id, kind="own", title="Fire drill", due_on=year.starts_on)
    db.session.add(item)
    db.session.flush()
    evidence = _file(school, item, school.members["lead"].user, "minutes")
    path, evidence_id = store().path(school.id, evidence.stored_name), evidence.id
    frozen = Report(
        school_id=school.id,
        kind="accreditation",
        year_id=year.id,
        title="Signed",
        data_hash="0" * 64,
        frozen=True,
        status="done",
        pdf=b"%PDF-frozen",
    )
    draft = Report(
        school_id=school.id,
        kind="accreditation",
        year_id=year.id,
        title="Draft",
        data_hash="1" * 64,
        status="done",
        pdf=b"%PDF-draft",
    )
    db.session.add_all([frozen, draft])
    db.session.commit()
    ids = (frozen.id, draft.id)

    report = jobs.run(school=school, today=TODAY)
    assert [d.record_id for _s, d in report.removed] == [year.id]
    db.session.expire_all()
    assert db.session.execute(db.select(Item).where(Item.year_id == year.id)).first() is None
    assert not path.exists() and db.session.get(SchoolYear, year.id) is not None
    assert db.session.get(Report, ids[0]).pdf == b"%PDF-frozen"
    assert db.session.get(Report, ids[1]) is None
    [event] = _events("retention.programme_removed")
    assert event.after["items"] == 1 and event.after["evidence_ids"] == [str(evidence_id)]


def test_the_page_lists_removals_due_within_30_days_only(app, school):
    soon = _person(school, name="Soon Gone", left=add_months(TODAY + timedelta(days=10), -72))
    _person(school, name="Later Gone", left=add_months(TODAY + timedelta(days=60), -72))
    db.session.commit()
    body = _client(app, school.members["lead"]).get(f"/s/{school.slug}/retention/").get_data(as_text=True)
    assert "Soon Gone" in body and "Later Gone" not in body
    assert f'value="{soon.id}"' in body and "Put on hold" in body
    head = _client(app, school.members["head"]).get(f"/s/{school.slug}/retention/").get_data(as_text=True)
    assert "Soon Gone" in head and "Put on hold" not in head


def test_a_dry_run_lists_and_changes_nothing(app, school):
    _person(school, left=TODAY - timedelta(days=365 * 7))
    db.session.commit()
    before = audit_count()
    result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run", "--school", school.slug])
    assert result.exit_code == 0, result.output
    assert "would remove\tleavers" in result.output and "1 due" in result.output
    assert audit_count() == before
    assert (
        db.session.execute(db.select(Person.full_name).where(Person.school_id == school.id)).scalar()
        == "Alex Leaver"
    )


def test_the_scheduler_runs_retention_daily(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    add_jobs(scheduler, app)
    job = scheduler.get_job(jobs.JOB_ID)
    assert job is not None and job.coalesce and job.max_instances == 1


def test_the_lead_exports_everything_held_about_a_person(app, school):
    person = _person(school, name="Dana Subject")
    item = _police_item(school, person)
    _file(school, item, school.members["lead"].user, "scan of Dana's certificate")
    response = _client(app, school.members["hr"]).get(f"/s/{school.slug}/retention/people/{person.id}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(zf.namelist())
    assert {
        "index.html",
        "index.txt",
        "record.json",
        "checks.json",
        "training.json",
        "acknowledgements.json",
    } <= names
    assert json.loads(zf.read("record.json"))["full_name"] == "Dana Subject"
    checks = json.loads(zf.read("checks.json"))
    [path] = [e["file"] for c in checks for e in c["evidence"]]
    assert zf.read(path) == b"scan of Dana's certificate"
    assert "Dana Subject" in zf.read("index.html").decode() and path in zf.read("index.txt").decode()
    db.session.commit()
    [event] = _events("person.data_exported")
    assert event.after["files"] == 1 and "Dana" not in json.dumps(event.after)


def test_the_person_page_offers_export_and_erase_to_the_lead_not_the_head(app, school):
    person = _person(school, name="Pat Page")
    db.session.commit()
    url = f"/s/{school.slug}/people/{person.id}"
    lead = _client(app, school.members["lead"]).get(url).get_data(as_text=True)
    assert "Export this person's data" in lead and "Erase this person" in lead
    head = _client(app, school.members["head"]).get(url).get_data(as_text=True)
    assert "Export this person" not in head


def test_erasure_is_refused_while_protected_and_leaves_a_tombstone(app, school):
    current = _person(school, name="Still Here")
    person = _person(school, name="Erin Gone", left=TODAY - timedelta(days=30))
    item = _police_item(school, person)
    evidence = _file(school, item, school.members["lead"].user)
    path = store().path(school.id, evidence.stored_name)
    person_id, item_id = person.id, item.id
    client = _client(app, school.members["lead"])
    data = {"confirm_name": "Still Here", "reason": "Erasure request of 1 May"}
    refused = client.post(f"/s/{school.slug}/retention/people/{current.id}/erase", data=data)
    assert refused.status_code == 400 and "Only a person who has left can be erased" in refused.get_data(
        as_text=True
    )

    url = f"/s/{school.slug}/retention/people/{person.id}/erase"
    wrong = client.post(url, data={**data, "confirm_name": "Erin"})
    assert wrong.status_code == 400 and "exactly as shown" in wrong.get_data(as_text=True)
    services.place_hold(
        school, record_type="person", record_id=person.id, reason="Inquiry", user=school.members["lead"].user
    )
    db.session.commit()
    held = client.post(url, data={**data, "confirm_name": "Erin Gone"})
    assert held.status_code == 400 and "cannot be erased while it is on hold" in held.get_data(as_text=True)
    db.session.commit()
    assert db.session.get(Person, person.id) is not None and path.exists()

    [hold] = services.active_holds(school)
    services.lift_hold(school, hold, user=school.members["lead"].user)
    db.session.commit()
    done = client.post(url, data={**data, "confirm_name": "Erin Gone"})
    assert done.status_code == 302
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Person, person_id) is None and db.session.get(Item, item_id) is None
    assert not path.exists()
    [stone] = db.session.execute(db.select(Tombstone).where(Tombstone.record_id == person_id)).scalars().all()
    assert stone.action == "erased" and stone.reason == "Erasure request of 1 May"
    assert stone.by_id == school.members["lead"].user_id and "Erin" not in json.dumps(stone.counts)
    [event] = _events("person.erased")
    assert "Erin" not in json.dumps(event.after)
    assert db.session.execute(db.select(PendingFileDeletion)).first() is None
