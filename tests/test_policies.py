"""Staff read-and-sign: publishing a document, its audience, acknowledging the exact version (SHA-256),
append-only acknowledgements, material and minor versions, withdrawing, sign sheets, coverage and overdue,
new starters, the register column, the accreditation report section and the "Waiting for you" lines."""

import hashlib
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tracker import waiting
from tracker.extensions import db
from tracker.people import register
from tracker.people import services as people
from tracker.policies import services as policies
from tracker.policies.coverage import INDUCTION_DAYS
from tracker.policies.models import PolicyAcknowledgement

from .conftest import audit_count
from .world import build_worlds, sign_in

TODAY = date(2026, 11, 23)


@pytest.fixture
def setup(make_school, make_member):
    """A school with a lead, head, HR and a staff member on the register (linked), a teacher without an
    account and a volunteer without an account."""
    school = make_school(timezone="UTC", year_start_month=8)
    members = {role: make_member(school, role) for role in ("lead", "head", "hr", "staff")}
    staff_person = people.add_person(
        school,
        full_name="Sam Staff",
        email=members["staff"].user.email,
        category="teaching",
        start_on=date(2025, 8, 1),
        countries=["Thailand"],
    )
    teacher = people.add_person(
        school,
        full_name="Tara Teacher",
        email=None,
        category="teaching",
        start_on=date(2024, 8, 1),
        countries=["Thailand"],
    )
    volunteer = people.add_person(
        school,
        full_name="Vic Volunteer",
        email=None,
        category="volunteer",
        start_on=date(2025, 1, 1),
        countries=["Thailand"],
    )
    db.session.commit()
    assert staff_person.user_id == members["staff"].user_id  # linked as `people.me` finds it
    return school, members, {"staff": staff_person, "teacher": teacher, "volunteer": volunteer}


def _publish(
    school,
    lead,
    *,
    title="Child protection policy",
    roles=("lead",),
    categories=("teaching",),
    body="Keep children safe.",
    upload=None,
    deadline=date(2026, 12, 10),
):
    version = policies.publish(
        school,
        title=title,
        kind="child_protection",
        roles=list(roles),
        categories=list(categories),
        button_text="",
        label="v1",
        body=body,
        upload=upload,
        deadline=deadline,
        user=lead,
        stored=[],
    )
    db.session.commit()
    return version


def _names(entries):
    return sorted(e.reader.name for e in entries)


@time_machine.travel(TODAY)
def test_publishing_sets_the_audience_from_roles_and_register_categories(setup):
    school, members, _ = setup
    v = _publish(school, members["lead"].user, roles=["lead", "head"], categories=["teaching"])
    [cov] = policies.coverage(school)
    # teaching staff on the register (the staff member counted once, as their register entry), plus the lead
    # and head who are members without a register entry; not the volunteer, not HR
    names = _names(cov.entries)
    assert "Sam Staff" in names and "Tara Teacher" in names and "Vic Volunteer" not in names
    shown = {role: m.user.name or m.user.email for role, m in members.items()}
    assert shown["lead"] in names and shown["head"] in names and shown["hr"] not in names
    assert len(names) == 4
    assert v.sha256 == hashlib.sha256(b"Keep children safe.").hexdigest()
    assert v.round == 1 and v.material


@time_machine.travel(TODAY)
def test_volunteers_and_contractors_are_an_audience_of_their_own(setup):
    school, members, _ = setup
    _publish(school, members["lead"].user, roles=[], categories=["volunteer", "contractor"])
    [cov] = policies.coverage(school)
    assert _names(cov.entries) == ["Vic Volunteer"]


@time_machine.travel(TODAY)
def test_a_document_needs_an_audience_and_content(setup):
    school, members, _ = setup
    with pytest.raises(policies.PolicyError, match="who must read it"):
        _publish(school, members["lead"].user, roles=[], categories=[])
    db.session.rollback()
    with pytest.raises(policies.PolicyError, match="file or as text"):
        _publish(school, members["lead"].user, upload=("p.txt", b"x"), body="text too")
    db.session.rollback()
    with pytest.raises(policies.PolicyError, match="Upload the document"):
        _publish(school, members["lead"].user, body="  ")


@time_machine.travel(TODAY)
def test_a_file_document_goes_through_the_evidence_checks_and_its_sha256_is_of_the_bytes(setup):
    school, members, _ = setup
    with pytest.raises(policies.PolicyError):
        _publish(school, members["lead"].user, body="", upload=("policy.exe", b"MZ\x90\x00"))
    db.session.rollback()
    v = _publish(school, members["lead"].user, body="", upload=("policy.txt", b"The policy text"))
    assert v.stored_name and v.file_name == "policy.txt"
    assert v.sha256 == hashlib.sha256(b"The policy text").hexdigest()


@time_machine.travel(TODAY)
def test_a_member_acknowledges_the_exact_version_from_the_page_and_it_is_audited(app, setup):
    school, members, persons = setup
    v = _publish(school, members["lead"].user)
    client = sign_in(app.test_client(), members["staff"].user)
    page = client.get(f"/s/{school.slug}/policies/{v.document_id}/read").get_data(as_text=True)
    assert "Keep children safe." in page and "I have read and understood" in page
    before = audit_count()
    response = client.post(f"/s/{school.slug}/policies/{v.document_id}/versions/{v.id}/acknowledge")
    assert response.status_code == 302
    [ack] = db.session.execute(sa.select(PolicyAcknowledgement)).scalars().all()
    assert ack.person_id == persons["staff"].id and ack.user_id == members["staff"].user_id
    assert ack.sha256 == v.sha256 and ack.method == "self" and ack.signed_on == TODAY
    assert ack.acknowledged_at is not None
    assert audit_count() == before + 1
    # a second press records nothing more (append-only, one per round)
    client.post(f"/s/{school.slug}/policies/{v.document_id}/versions/{v.id}/acknowledge")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PolicyAcknowledgement)) == 1
    mine = client.get(f"/s/{school.slug}/policies/mine").get_data(as_text=True)
    assert "Acknowledged 23 Nov 2026" in mine


def test_acknowledgements_have_no_update_or_delete_path(app):
    """Append-only: no route changes or deletes an acknowledgement, and no service does."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("policies.")]
    assert not any("delete" in r.endpoint or "edit" in r.endpoint for r in rules)
    import inspect

    source = inspect.getsource(policies)
    assert "session.delete" not in source
    assert not [name for name in dir(policies) if name.startswith(("delete", "update", "edit"))]


@time_machine.travel(TODAY)
def test_a_minor_version_keeps_acknowledgements_and_a_material_one_opens_a_new_round(setup):
    school, members, persons = setup
    lead = members["lead"].user
    v1 = _publish(school, lead, roles=[], categories=["teaching"])
    policies.acknowledge(school, v1, user=members["staff"].user, person=persons["staff"])
    db.session.commit()
    v2 = policies.add_version(
        school,
        v1.document,
        label="v1.1",
        body="Keep children safe, always.",
        upload=None,
        material=False,
        change_note="Typo",
        deadline=date(2026, 12, 10),
        user=lead,
        stored=[],
    )
    db.session.commit()
    [cov] = policies.coverage(school)
    assert cov.version.id == v2.id and v2.round == v1.round
    assert _names(cov.done) == ["Sam Staff"]
    v3 = policies.add_version(
        school,
        v1.document,
        label="v2",
        body="A new policy.",
        upload=None,
        material=True,
        change_note="",
        deadline=date(2027, 1, 15),
        user=lead,
        stored=[],
    )
    db.session.commit()
    [cov] = policies.coverage(school)
    assert cov.version.id == v3.id and v3.round == v1.round + 1
    assert cov.done == [] and _names(cov.missing) == ["Sam Staff", "Tara Teacher"]
    # acknowledging the superseded version is refused
    with pytest.raises(policies.PolicyError, match="no longer the current one"):
        policies.acknowledge(school, v2, user=members["staff"].user, person=persons["staff"])
    with pytest.raises(policies.PolicyError, match="already has a version"):
        policies.add_version(
            school,
            v1.document,
            label="V2",
            body="x",
            upload=None,
            material=False,
            change_note="",
            deadline=date(2027, 1, 15),
            user=lead,
            stored=[],
        )


@time_machine.travel(TODAY)
def test_withdrawing_a_version_keeps_its_history_and_the_previous_version_is_current_again(app, setup):
    school, members, persons = setup
    lead = members["lead"].user
    v1 = _publish(school, lead, roles=[], categories=["teaching"])
    policies.acknowledge(school, v1, user=members["staff"].user, person=persons["staff"])
    v2 = policies.add_version(
        school,
        v1.document,
        label="v2",
        body="Wrong file",
        upload=None,
        material=True,
        change_note="",
        deadline=date(2026, 12, 20),
        user=lead,
        stored=[],
    )
    policies.acknowledge(school, v2, user=members["staff"].user, person=persons["staff"])
    db.session.commit()
    client = sign_in(app.test_client(), lead)
    assert (
        client.post(f"/s/{school.slug}/policies/{v1.document_id}/versions/{v2.id}/withdraw").status_code
        == 302
    )
    db.session.expire_all()
    assert v2.withdrawn_at is not None
    [cov] = policies.coverage(school)
    assert cov.version.id == v1.id and _names(cov.done) == ["Sam Staff"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PolicyAcknowledgement)) == 2  # kept
    page = client.get(f"/s/{school.slug}/policies/{v1.document_id}?version={v2.id}").get_data(as_text=True)
    assert "Withdrawn" in page and "Sam Staff" in page
    with pytest.raises(policies.PolicyError, match="already withdrawn"):
        policies.withdraw(school, v2, user=lead)


@time_machine.travel(TODAY)
def test_hr_enters_a_sign_sheet_for_people_without_an_account(app, setup):
    school, members, persons = setup
    v = _publish(school, members["lead"].user, roles=[], categories=["teaching", "volunteer"])
    client = sign_in(app.test_client(), members["hr"].user)
    url = f"/s/{school.slug}/policies/{v.document_id}/sign-sheet"
    page = client.get(url).get_data(as_text=True)
    assert "Vic Volunteer" in page and "no account" in page
    bad = client.post(url, data={"people": [str(persons["volunteer"].id)], "signed_on": "2031-01-01"})
    assert bad.status_code == 400  # a date in the future is refused; nothing saved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PolicyAcknowledgement)) == 0
    response = client.post(
        url,
        data={
            "people": [str(persons["volunteer"].id), str(persons["teacher"].id)],
            "signed_on": "2026-11-20",
        },
    )
    assert response.status_code == 302
    acks = db.session.execute(sa.select(PolicyAcknowledgement)).scalars().all()
    assert sorted(a.name for a in acks) == ["Tara Teacher", "Vic Volunteer"]
    assert {a.method for a in acks} == {"sheet"} and {a.signed_on for a in acks} == {date(2026, 11, 20)}
    assert {a.entered_by_id for a in acks} == {members["hr"].user_id} and {a.sha256 for a in acks} == {
        v.sha256
    }
    # staff cannot enter sheets
    staff = sign_in(app.test_client(), members["staff"].user)
    assert staff.get(url).status_code == 403


@time_machine.travel(TODAY)
def test_coverage_page_shows_who_has_not_and_overdue_after_the_deadline(app, setup):
    school, members, persons = setup
    v = _publish(school, members["lead"].user, roles=[], categories=["teaching"], deadline=date(2026, 11, 30))
    policies.acknowledge(school, v, user=members["staff"].user, person=persons["staff"])
    db.session.commit()
    client = sign_in(app.test_client(), members["lead"].user)
    url = f"/s/{school.slug}/policies/{v.document_id}"
    page = client.get(url + "?filter=missing").get_data(as_text=True)
    assert ">Tara Teacher</a>" in page and ">Sam Staff</a>" not in page and 'tag-danger">Overdue' not in page
    assert client.get(url + "?filter=bogus").status_code == 400
    assert client.get(url + "?version=not-a-uuid").status_code == 404
    with time_machine.travel(date(2026, 12, 2)):
        [cov] = policies.coverage(school)
        assert _names(cov.overdue) == ["Tara Teacher"]
        client = sign_in(app.test_client(), members["lead"].user)  # a new day: a new sign-in
        page = client.get(url + "?filter=overdue").get_data(as_text=True)
        assert ">Tara Teacher</a>" in page and 'tag-danger">Overdue' in page


@time_machine.travel(TODAY)
def test_a_new_starter_is_in_the_audience_with_a_deadline_from_their_start_date(setup):
    school, members, _ = setup
    v = _publish(school, members["lead"].user, roles=[], categories=["teaching"], deadline=date(2026, 11, 30))
    starter = people.add_person(
        school,
        full_name="Nia New",
        email=None,
        category="teaching",
        start_on=date(2027, 1, 4),
        countries=["Thailand"],
    )
    db.session.commit()
    [cov] = policies.coverage(school)
    entry = next(e for e in cov.entries if e.reader.person_id == starter.id)
    assert entry.due_on == date(2027, 1, 4) + timedelta(days=INDUCTION_DAYS)
    old = next(e for e in cov.entries if e.reader.name == "Tara Teacher")
    assert old.due_on == v.deadline


@time_machine.travel(TODAY)
def test_the_register_has_an_acknowledged_at_induction_column(app, setup):
    school, members, persons = setup
    v = _publish(school, members["lead"].user, roles=[], categories=["teaching"])
    policies.acknowledge(school, v, user=members["staff"].user, person=persons["staff"])
    db.session.commit()
    cols, rows, _ = register.build(school)
    by_name = {r.person.full_name: r for r in rows}
    assert by_name["Sam Staff"].extra["Acknowledged at induction"] == "Child protection policy v1: 2026-11-23"
    assert "not yet" in by_name["Tara Teacher"].extra["Acknowledged at induction"]
    assert by_name["Vic Volunteer"].extra["Acknowledged at induction"] == "—"
    table = register.to_table(cols, rows)
    assert table[0][-1] == "Acknowledged at induction"
    client = sign_in(app.test_client(), members["hr"].user)
    page = client.get(f"/s/{school.slug}/people/").get_data(as_text=True)
    assert "Acknowledged at induction" in page and "Child protection policy v1: 2026-11-23" in page
    person_page = client.get(f"/s/{school.slug}/people/{persons['teacher'].id}").get_data(as_text=True)
    assert "Policies read and signed" in person_page and "Not yet" in person_page


@time_machine.travel(TODAY)
def test_waiting_lines_for_the_member_and_for_the_lead(app, setup):
    school, members, persons = setup
    v = _publish(school, members["lead"].user, roles=["staff"], categories=["teaching"])
    _publish(school, members["lead"].user, title="Code of conduct", roles=["staff"], categories=[])
    with app.test_request_context():
        lines = waiting.lines_for(school, members["staff"], TODAY)
        [mine] = [line for line in lines if line.kind == "policies"]
        assert mine.text == "2 documents to read and sign" and mine.count == 2
        assert mine.url == f"/s/{school.slug}/policies/mine" and mine.due_on == date(2026, 12, 10)
        lead_lines = [
            line
            for line in waiting.lines_for(school, members["lead"], TODAY)
            if line.kind == "policies_missing"
        ]
        texts = sorted(line.text for line in lead_lines)
        assert "2 people have not acknowledged the Child protection policy v1, due 10 Dec" in texts
        policies.acknowledge(school, v, user=members["staff"].user, person=persons["staff"])
        db.session.commit()
        [mine] = [
            line for line in waiting.lines_for(school, members["staff"], TODAY) if line.kind == "policies"
        ]
        assert mine.text == "1 document to read and sign"
        assert not [
            line for line in waiting.lines_for(school, members["hr"], TODAY) if line.kind == "policies"
        ]


@time_machine.travel(TODAY)
def test_the_accreditation_report_lists_who_signed_which_version(app):
    from .reports_helpers import pdf_text, squash

    a, _ = build_worlds()
    client = sign_in(
        app.test_client(), a.members["target"].user if "target" in a.members else a.target_member.user
    )
    doc, version = a.objects["document_id"], a.objects["version_id"]
    assert client.post(f"/s/{a.school.slug}/policies/{doc}/versions/{version}/acknowledge").status_code == 302
    head = sign_in(app.test_client(), a.members["head"].user)
    response = head.get(f"/s/{a.school.slug}/reports/years/{a.objects['year_id']}/accreditation.pdf")
    assert response.status_code == 200, response.status_code
    text = pdf_text(response.get_data())
    assert squash("Policies read and signed") in text
    assert squash("Policy plain") in text and squash("Person plain") in text
    assert squash("not yet") in text.lower() or squash("Not yet") in text


@time_machine.travel(TODAY)
def test_the_lead_publishes_from_the_page_with_a_file_and_a_new_version_from_its_form(app, setup):
    import io

    school, members, _ = setup
    client = sign_in(app.test_client(), members["lead"].user)
    form = {
        "title": "Code of conduct",
        "kind": "code_of_conduct",
        "roles": ["staff"],
        "categories": ["volunteer"],
        "label": "v1",
        "deadline": "2026-12-10",
        "button_text": "",
        "body": "",
        "file": (io.BytesIO(b"Be kind."), "conduct.txt"),
    }
    response = client.post(f"/s/{school.slug}/policies/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    [cov] = policies.coverage(school)
    assert cov.version.sha256 == hashlib.sha256(b"Be kind.").hexdigest()
    assert cov.document.button_text == "I have read and understood"
    nothing = client.post(f"/s/{school.slug}/policies/new", data={**form, "file": None, "title": "Other"})
    assert nothing.status_code == 400 and "Upload the document" in nothing.get_data(as_text=True)
    url = f"/s/{school.slug}/policies/{cov.document.id}/versions/new"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"label": "v2", "deadline": "2026-12-20", "body": "Be kinder."})
    assert bad.status_code == 400 and "material" in bad.get_data(as_text=True)
    ok = client.post(
        url, data={"label": "v2", "deadline": "2026-12-20", "body": "Be kinder.", "material": "minor"}
    )
    assert ok.status_code == 302
    db.session.expire_all()
    [cov] = policies.coverage(school)
    assert cov.version.label == "v2" and not cov.version.material and cov.version.round == 1
