"""Staff self-service: a staff member's own certificates and item evidence are pending until HR or the lead
verifies them; pending uploads count nowhere; verifying and rejecting are audited; the uploader sees the
outcome; the usual upload checks apply."""

import io
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.db import UTCDateTime, utcnow
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.people import services as people
from tracker.reports.data_common import _evidence_index
from tracker.tracking.models import Item
from tracker.tracking.years import _create_year
from tracker.training import self_service
from tracker.training import services as training
from tracker.training.models import TrainingSession
from tracker.waiting import lines_for

from .world import sign_in

PDF = b"%PDF-1.4\n% a certificate\n"


@pytest.fixture
def evidence_dir(app, tmp_path):
    original = app.config["TRACKER_EVIDENCE_DIR"]
    app.config["TRACKER_EVIDENCE_DIR"] = str(tmp_path / "evidence")
    try:
        yield tmp_path / "evidence"
    finally:
        app.config["TRACKER_EVIDENCE_DIR"] = original


@pytest.fixture
def world(make_school, make_member, evidence_dir):
    school = make_school(timezone="UTC", year_start_month=8)
    members = {
        role: make_member(school, role, name=f"{role.title()} Person") for role in ("lead", "head", "hr")
    }
    members["staff"] = make_member(school, "staff", name="Sam Staff")
    members["other"] = make_member(school, "staff", name="Olga Other")
    person = people.add_person(
        school,
        full_name="Sam Staff",
        email=members["staff"].user.email,
        category="teaching",
        start_on=date(2020, 8, 1),
    )
    db.session.commit()
    return school, members, person


def _activity():
    return next(a for a in training.activities() if a.audience == ["all_staff"])


def _state(school, person, key):
    [cov] = training.coverage(school, only=key)
    for bucket in ("current", "expiring", "overdue", "never"):
        if any(p.id == person.id for p, _ in getattr(cov, bucket)):
            return bucket
    return None


def _record(school, person):
    return {r["activity"].key: r["state"] for r in training.person_record(school, person)}


def _client(app, member):
    return sign_in(app.test_client(), member.user)


def _submit(client, school, activity, data=PDF, name="certificate.pdf", **extra):
    form = {
        "activity": activity.key,
        "held_on": "2026-09-01",
        "provider": "Online course",
        "certificate": (io.BytesIO(data), name),
    }
    form.update(extra)
    return client.post(
        f"/s/{school.slug}/training/my-certificate", content_type="multipart/form-data", data=form
    )


def _sessions(school):
    return (
        db.session.execute(sa.select(TrainingSession).where(TrainingSession.school_id == school.id))
        .scalars()
        .all()
    )


def _events(school, action):
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.chain == str(school.id), AuditEvent.action == action)
        )
        .scalars()
        .all()
    )


# --- training certificates ----------------------------------------------------------------------------------


def test_a_staff_certificate_counts_only_once_hr_has_verified_it(app, world):
    school, members, person = world
    activity = _activity()
    staff = _client(app, members["staff"])
    assert staff.get(f"/s/{school.slug}/training/my-certificate").status_code == 200

    response = _submit(staff, school, activity)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    [session] = _sessions(school)
    assert session.verification == "pending"
    assert [a.person_id for a in session.attendances] == [person.id]
    assert _state(school, person, activity.key) == "never"  # pending: not trained yet
    assert _record(school, person)[activity.key] == "never"
    me = staff.get(f"/s/{school.slug}/people/me").get_data(as_text=True)
    assert "Pending verification" in me and activity.title in me
    assert "certificate pending verification" in me  # beside the activity in "My training"
    assert _events(school, "training.submitted")

    hr = _client(app, members["hr"])
    assert "To verify (1)" in hr.get(f"/s/{school.slug}/training/").get_data(as_text=True)
    listing = hr.get(f"/s/{school.slug}/training/to-verify")
    assert listing.status_code == 200
    assert "Sam Staff" in listing.get_data(as_text=True)
    [line] = [
        line for line in lines_for(school, members["hr"], school.today()) if line.kind == "uploads_to_verify"
    ]
    assert (line.text, line.url, line.count) == (
        "1 upload to verify",
        f"/s/{school.slug}/training/to-verify",
        1,
    )
    assert not [
        line
        for line in lines_for(school, members["staff"], school.today())
        if line.kind == "uploads_to_verify"
    ]

    response = hr.post(f"/s/{school.slug}/training/to-verify/certificates/{session.id}/verify", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).verification == "verified"
    assert _state(school, person, activity.key) == "current"
    assert _record(school, person)[activity.key] == "current"
    [event] = _events(school, "training.verified")
    assert event.after["verification"] == "verified" and event.after["person"] == "Sam Staff"
    assert "Verified" in staff.get(f"/s/{school.slug}/people/me").get_data(as_text=True)
    assert all(line.kind != "uploads_to_verify" for line in lines_for(school, members["hr"], school.today()))


def test_a_rejected_certificate_needs_a_reason_and_the_uploader_sees_it(app, world):
    school, members, person = world
    activity = _activity()
    staff = _client(app, members["staff"])
    assert _submit(staff, school, activity).status_code == 302
    [session] = _sessions(school)
    lead = _client(app, members["lead"])
    url = f"/s/{school.slug}/training/to-verify/certificates/{session.id}/reject"

    refused = lead.post(url, data={"reason": "  "})
    assert refused.status_code == 400
    assert "Say why" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).verification == "pending"
    assert not _events(school, "training.rejected")

    assert lead.post(url, data={"reason": "The certificate is for someone else."}).status_code == 302
    db.session.expire_all()
    session = db.session.get(TrainingSession, session.id)
    assert session.verification == "rejected" and session.reviewed_by_id == members["lead"].user_id
    assert _state(school, person, activity.key) == "never"
    [event] = _events(school, "training.rejected")
    assert event.after["reason"] == "The certificate is for someone else."
    me = staff.get(f"/s/{school.slug}/people/me").get_data(as_text=True)
    assert "Rejected" in me and "The certificate is for someone else." in me
    # a decision is final: neither verifying nor rejecting it again goes through
    again = lead.post(f"/s/{school.slug}/training/to-verify/certificates/{session.id}/verify", data={})
    assert again.status_code == 400 and "already rejected" in again.get_data(as_text=True)


def test_nobody_verifies_their_own_certificate(app, world, make_member):
    school, members, _person = world
    people.add_person(
        school,
        full_name="Lee Lead",
        email=members["lead"].user.email,
        category="teaching",
        start_on=date(2020, 8, 1),
    )
    db.session.commit()
    lead = _client(app, members["lead"])
    assert _submit(lead, school, _activity()).status_code == 302
    [session] = _sessions(school)
    assert session.verification == "pending"  # even a lead's own certificate waits for someone else
    response = lead.post(f"/s/{school.slug}/training/to-verify/certificates/{session.id}/verify", data={})
    assert response.status_code == 400
    assert "your own upload" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).verification == "pending"
    assert (
        _client(app, members["hr"])
        .post(f"/s/{school.slug}/training/to-verify/certificates/{session.id}/verify", data={})
        .status_code
        == 302
    )


def test_staff_cannot_verify_and_the_head_verifies_no_certificates(app, world):
    school, members, _person = world
    assert _submit(_client(app, members["staff"]), school, _activity()).status_code == 302
    [session] = _sessions(school)
    for role in ("staff", "head"):
        client = _client(app, members[role])
        url = f"/s/{school.slug}/training/to-verify/certificates/{session.id}"
        assert client.post(url + "/verify", data={}).status_code == 403
        assert client.post(url + "/reject", data={"reason": "no"}).status_code == 403
    assert _client(app, members["staff"]).get(f"/s/{school.slug}/training/to-verify").status_code == 403
    db.session.expire_all()
    assert db.session.get(TrainingSession, session.id).verification == "pending"


def test_a_certificate_gets_the_same_upload_checks_and_nothing_is_kept_when_refused(app, world, evidence_dir):
    school, members, _person = world
    staff = _client(app, members["staff"])
    hostile = _submit(staff, school, _activity(), data=b"<html><script>alert(1)</script></html>")
    assert hostile.status_code == 400
    assert "not a PDF" in hostile.get_data(as_text=True)
    missing = staff.post(
        f"/s/{school.slug}/training/my-certificate",
        content_type="multipart/form-data",
        data={"activity": _activity().key, "held_on": "2026-09-01", "provider": ""},
    )
    assert missing.status_code == 400 and "Choose the certificate file" in missing.get_data(as_text=True)
    future = _submit(staff, school, _activity(), held_on="2999-01-01")
    assert future.status_code == 400
    assert _sessions(school) == []
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))


def test_a_member_not_on_the_register_is_told_what_to_do(app, world):
    school, members, _person = world
    other = _client(app, members["other"])
    page = other.get(f"/s/{school.slug}/training/my-certificate")
    assert page.status_code == 200 and "not on the staff register" in page.get_data(as_text=True)
    assert _submit(other, school, _activity()).status_code == 400
    assert _sessions(school) == []


# --- evidence for one's own items ---------------------------------------------------------------------------


def _item(school, owner):
    year = _create_year(school, 2026)
    item = Item(
        school_id=school.id,
        year_id=year.id,
        kind="task",
        section_title="Own",
        title="Publish reporting contacts",
        owner_role="staff",
        owner_id=owner.user_id,
        due_on=date(2026, 9, 1),
    )
    db.session.add(item)
    db.session.commit()
    return item


def _add_evidence(client, school, item, data=PDF, name="poster.pdf"):
    return client.post(
        f"/s/{school.slug}/items/{item.id}/evidence",
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(data), name)], "url": "", "link_title": "", "applies_on": ""},
    )


def _evidence(item):
    db.session.expire_all()
    return (
        db.session.execute(
            sa.select(Evidence).where(Evidence.item_id == item.id).order_by(Evidence.uploaded_at)
        )
        .scalars()
        .all()
    )


def test_staff_evidence_is_pending_until_the_lead_verifies_it_and_only_then_reaches_the_reports(app, world):
    school, members, _person = world
    item = _item(school, members["staff"])
    staff = _client(app, members["staff"])
    response = _add_evidence(staff, school, item)
    assert response.status_code == 302
    [row] = _evidence(item)
    assert row.verification == "pending"
    assert _evidence_index(school, [item], Item.id == item.id)[0] == []  # not evidence yet
    page = staff.get(f"/s/{school.slug}/items/{item.id}").get_data(as_text=True)
    assert "Pending verification" in page
    assert "training/to-verify/items" not in page  # staff get no verify buttons

    lead = _client(app, members["lead"])
    assert "poster.pdf" in lead.get(f"/s/{school.slug}/training/to-verify").get_data(as_text=True)
    assert "1 upload to verify" in [line.text for line in lines_for(school, members["lead"], school.today())]
    lead_page = lead.get(f"/s/{school.slug}/items/{item.id}").get_data(as_text=True)
    assert f"/training/to-verify/items/{item.id}/evidence/{row.id}/verify" in lead_page
    response = lead.post(
        f"/s/{school.slug}/training/to-verify/items/{item.id}/evidence/{row.id}/verify", data={"back": "item"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/items/{item.id}#evidence")
    [row] = _evidence(item)
    assert row.verification == "verified" and row.reviewed_by_id == members["lead"].user_id
    [index] = _evidence_index(school, [item], Item.id == item.id)[:1]
    assert [e["name"] for e in index] == ["poster.pdf"]
    [event] = _events(school, "item.evidence_verified")
    assert event.subject_id == str(item.id) and event.after["verification"] == "verified"


def test_rejected_evidence_shows_its_reason_to_the_uploader(app, world):
    school, members, _person = world
    item = _item(school, members["staff"])
    staff = _client(app, members["staff"])
    assert _add_evidence(staff, school, item).status_code == 302
    [row] = _evidence(item)
    head = _client(app, members["head"])
    url = f"/s/{school.slug}/training/to-verify/items/{item.id}/evidence/{row.id}/reject"
    empty = head.post(url, data={"reason": "", "back": "item"})
    assert empty.status_code == 400 and "Say why" in empty.get_data(as_text=True)
    assert (
        head.post(url, data={"reason": "Wrong poster: this is last year's.", "back": "list"}).status_code
        == 302
    )
    [row] = _evidence(item)
    assert row.verification == "rejected"
    page = staff.get(f"/s/{school.slug}/items/{item.id}").get_data(as_text=True)
    assert "Rejected" in page and "Wrong poster: this is last year&#39;s." in page
    assert _evidence_index(school, [item], Item.id == item.id)[0] == []
    assert (
        _events(school, "item.evidence_rejected")[0].after["reason"] == "Wrong poster: this is last year's."
    )


def test_staff_cannot_add_evidence_to_someone_elses_item_nor_verify(app, world):
    school, members, _person = world
    theirs = _item(school, members["other"])
    staff = _client(app, members["staff"])
    assert _add_evidence(staff, school, theirs).status_code == 404
    assert _evidence(theirs) == []
    assert _add_evidence(_client(app, members["other"]), school, theirs).status_code == 302
    [row] = _evidence(theirs)
    base = f"/s/{school.slug}/training/to-verify/items/{theirs.id}/evidence/{row.id}"
    for role in ("staff", "other", "hr"):
        client = _client(app, members[role])
        assert client.post(base + "/verify", data={}).status_code == 403
        assert client.post(base + "/reject", data={"reason": "x"}).status_code == 403
    [row] = _evidence(theirs)
    assert row.verification == "pending"


def test_a_leads_own_evidence_counts_at_once_and_upload_checks_still_apply(app, world):
    school, members, _person = world
    item = _item(school, members["staff"])
    lead = _client(app, members["lead"])
    assert _add_evidence(lead, school, item).status_code == 302
    [row] = _evidence(item)
    assert row.verification == "verified"
    bad = _add_evidence(_client(app, members["staff"]), school, item, data=b"MZ\x90\x00", name="poster.pdf")
    assert bad.status_code == 400 and "Nothing was uploaded" in bad.get_data(as_text=True)
    assert len(_evidence(item)) == 1


def test_existing_rows_count_as_verified(app, world):
    """What was recorded before self-service (and what leads record) is verified: the server default."""
    school, members, person = world
    session = training.record_session(
        school,
        activity=_activity(),
        held_on=date(2026, 9, 1),
        provider="",
        notes="",
        people=[person],
        user=members["lead"].user,
    )
    db.session.commit()
    assert session.verification == "verified"
    assert _state(school, person, _activity().key) == "current"
    # a row written without the column (as every row before the migration was) gets the server default
    old_id = uuid.uuid4()
    db.session.execute(
        sa.text(
            "INSERT INTO training_sessions (id, school_id, requirement_key, held_on, provider, notes,"
            " certificate_name, certificate_sha256, certificate_type, created_at)"
            " VALUES (:id, :school_id, 'x', :held_on, '', '', '', '', '', :created_at)"
        ).bindparams(
            sa.bindparam("id", type_=sa.Uuid()),
            sa.bindparam("school_id", type_=sa.Uuid()),
            sa.bindparam("held_on", type_=sa.Date()),
            sa.bindparam("created_at", type_=UTCDateTime()),
        ),
        {"id": old_id, "school_id": school.id, "held_on": date(2025, 9, 1), "created_at": utcnow()},
    )
    assert db.session.get(TrainingSession, old_id).verification == "verified"
    assert self_service.pending_counts(school) == {"certificates": 0, "evidence": 0}
