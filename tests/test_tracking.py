"""The item engine through its pages: starting and rolling over years, due dates in the school's calendar,
item updates and their audit trail, roles, optimistic locking, policy answers, evidence, comments,
framework upgrades and the head's sign-off."""

import hashlib
import io
import re
import uuid
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
import yaml

from tracker.audit import AuditEvent
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.frameworks.models import Framework, Requirement
from tracker.tracking import services
from tracker.tracking.models import AnswerVersion, Comment, Item, SchoolYear, SchoolYearFramework

from .conftest import audit_count
from .sign_off_helpers import sign_off
from .world import sign_in

SCHOOL_YEAR_FRAMEWORKS = {"action-plan", "training-plan", "policy-form"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- helpers ----------------------------------------------------------------------------------------------


def _latest(key):
    return (
        db.session.execute(
            db.select(Framework).where(Framework.key == key).order_by(Framework.loaded_at.desc())
        )
        .scalars()
        .first()
    )


def _requirement(framework_key, key):
    framework = _latest(framework_key)
    return db.session.execute(
        db.select(Requirement).where(Requirement.framework_id == framework.id, Requirement.key == key)
    ).scalar_one()


def _items(year, key=None):
    db.session.expire_all()
    query = db.select(Item).where(Item.year_id == year.id)
    if key is not None:
        query = query.where(Item.requirement_key == key)
    return db.session.execute(query.order_by(Item.due_on, Item.occurrence)).scalars().all()


def _item(item_id):
    db.session.expire_all()
    return db.session.get(Item, item_id)


def _count(model, *where):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _year_of(school, start_year):
    db.session.expire_all()
    return db.session.execute(
        db.select(SchoolYear).where(
            SchoolYear.school_id == school.id, sa.extract("year", SchoolYear.starts_on) == start_year
        )
    ).scalar_one()


def _client(app, member):
    return sign_in(app.test_client(), member.user)


def _start(client, school, start_year=2026):
    _saved(client.post(f"/s/{school.slug}/years/start", data={"start_year": str(start_year)}))
    return _year_of(school, start_year)


def _saved(response):
    """A successful form post: a redirect back into the school, not to the sign-in page."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert "/login" not in response.headers["Location"], response.headers["Location"]
    return response


def _page(client, school, item):
    response = client.get(f"/s/{school.slug}/items/{item.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _form_version(html, item, form="update"):
    """The hidden version field of the item's update form (or answer form), as the browser has it."""
    action = f"/items/{item.id}" + ("/answer" if form == "answer" else "")
    forms = re.findall(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', html, re.S)
    for form_action, body in forms:
        if form_action.endswith(action):
            return int(re.search(r'name="version"[^>]*value="(\d+)"', body).group(1))
    raise AssertionError(f"no {form} form on the item page")


def _update(client, school, item, version, **fields):
    data = {
        "version": str(version),
        "status": item.status,
        "notes": item.notes,
        "na_reason": "",
        "owner": str(item.owner_id) if item.owner_id else "",
        "due_on": "",
        "completed_on": "",
    }
    data.update({k: "" if v is None else str(v) for k, v in fields.items()})
    return client.post(f"/s/{school.slug}/items/{item.id}", data=data)


def _answer(client, school, item, version, answer, answer_status="partly", review_on=""):
    return client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            "version": str(version),
            "answer": answer,
            "answer_status": answer_status,
            "review_on": review_on,
        },
    )


def _upload(client, school, item, files, **data):
    payload = {"files": [(io.BytesIO(content), name) for name, content in files], **data}
    return client.post(
        f"/s/{school.slug}/items/{item.id}/evidence", data=payload, content_type="multipart/form-data"
    )


def _own_item(school, year, title, due_on, owner=None, **kwargs):
    item = Item(
        school_id=school.id,
        year_id=year.id,
        kind="own",
        section_title="School's own items",
        title=title,
        owner_role="lead",
        owner_id=owner.id if owner else None,
        due_on=due_on,
        **kwargs,
    )
    db.session.add(item)
    db.session.commit()
    return item


def _evidence(school):
    db.session.expire_all()
    return (
        db.session.execute(
            db.select(Evidence).where(Evidence.school_id == school.id).order_by(Evidence.uploaded_at)
        )
        .scalars()
        .all()
    )


def _files_under(root):
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _changed_events(item):
    db.session.expire_all()
    return (
        db.session.execute(
            db.select(AuditEvent)
            .where(
                AuditEvent.subject_type == "items",
                AuditEvent.subject_id == str(item.id),
                AuditEvent.action == "item.changed",
            )
            .order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


@pytest.fixture
def evidence_dir(app, tmp_path):
    """Evidence files go to a fresh folder for the test; the setting is restored afterwards."""
    original = app.config["TRACKER_EVIDENCE_DIR"]
    app.config["TRACKER_EVIDENCE_DIR"] = str(tmp_path / "evidence")
    try:
        yield tmp_path / "evidence"
    finally:
        app.config["TRACKER_EVIDENCE_DIR"] = original


@pytest.fixture
def school(make_school):
    return make_school(timezone="Europe/London", year_start_month=8)


@pytest.fixture
def lead(school, make_member):
    return make_member(school, "lead", name="Lena Lead")


@pytest.fixture
def lead_client(app, lead):
    return _client(app, lead)


# --- starting a year --------------------------------------------------------------------------------------


def test_starting_a_year_creates_an_item_for_every_requirement_of_the_three_school_year_frameworks(
    app, school, lead_client
):
    year = _start(lead_client, school, 2026)

    frameworks = {f.key: f for f in (_latest(k) for k in SCHOOL_YEAR_FRAMEWORKS | {"recruitment"})}
    assert frameworks["recruitment"].scope == "person"
    expected = {}
    for key in SCHOOL_YEAR_FRAMEWORKS:
        for requirement in frameworks[key].requirements:
            if requirement.same_as:
                continue  # a reference to a duty kept in another framework makes no item of its own
            for occurrence in range(1, (3 if requirement.repeat == "termly" else 1) + 1):
                expected[(requirement.id, occurrence)] = requirement
    assert any(r.repeat == "termly" for r in expected.values()), "the seeds should have termly requirements"

    items = _items(year)
    got = {(i.requirement_id, i.occurrence): i for i in items}
    assert len(items) == len(got), "one item per requirement occurrence, no duplicates"
    assert set(got) == set(expected)
    for key, item in got.items():
        requirement = expected[key]
        assert item.due_on is not None
        assert year.starts_on <= item.due_on <= year.ends_on
        assert item.owner_role == requirement.owner_role
        assert item.requirement_key == requirement.key
        assert item.framework_id == requirement.framework_id
        assert item.kind == requirement.answer_type
        assert item.status == "not_started"
    termly = [r for r in expected.values() if r.repeat == "termly"][0]
    assert sorted(i.occurrence for i in items if i.requirement_id == termly.id) == [1, 2, 3]
    assert not [i for i in items if i.framework_id == frameworks["recruitment"].id]
    assert {f.key for f in year.frameworks} == SCHOOL_YEAR_FRAMEWORKS


def test_starting_the_same_year_twice_is_refused_with_a_clear_error_and_creates_nothing(
    app, school, lead_client
):
    year = _start(lead_client, school, 2026)
    items_before, events_before = _count(Item, Item.school_id == school.id), audit_count()

    response = lead_client.post(f"/s/{school.slug}/years/start", data={"start_year": "2026"})

    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert _count(Item, Item.school_id == school.id) == items_before
    assert _count(SchoolYear, SchoolYear.school_id == school.id) == 1
    assert audit_count() == events_before
    assert _year_of(school, 2026).id == year.id


# --- the school's calendar --------------------------------------------------------------------------------

#: (framework, requirement key, its timing in the seed) -> due dates for a year starting in August 2026 and
#: for one starting in January 2026, placed on working days in the default terms (schedule.py: August start
#: 15 Aug-15 Dec, 8 Jan-28 Mar, 15 Apr-30 Jun; January start 15 Jan-15 May, 8 Jun-28 Aug, 15 Sep-30 Nov):
#: 5 August / 5 January fall before the first term (a week into it), the mid-July / mid-December sign-off
#: after the last one (a week before it ends), termly items three to five weeks into each term
CALENDAR_CASES = [
    ("action-plan", "review-cp-policy", {"month": 0, "day": 5}, [date(2026, 8, 24)], [date(2026, 1, 22)]),
    (
        "action-plan",
        "head-sign-off-year",
        {"month": 11, "day": 15},
        [date(2027, 6, 23)],
        [date(2026, 11, 23)],
    ),
    (
        "action-plan",
        "division-safeguarding-session",
        {"month": 1, "day": 28},
        [date(2026, 9, 18), date(2027, 2, 11), date(2027, 5, 19)],
        [date(2026, 2, 18), date(2026, 7, 13), date(2026, 10, 19)],
    ),
    (
        "action-plan",
        "review-online-safety-arrangements",
        {"month": 3, "day": 1},
        [date(2026, 9, 7), date(2027, 1, 29), date(2027, 5, 6)],
        [date(2026, 2, 5), date(2026, 6, 29), date(2026, 10, 6)],
    ),
]


def test_due_dates_follow_each_schools_own_calendar(app, make_school, make_member):
    bangkok = make_school(timezone="Asia/Bangkok", year_start_month=8)
    sao_paulo = make_school(timezone="America/Sao_Paulo", year_start_month=1)
    bangkok_year = _start(_client(app, make_member(bangkok, "lead")), bangkok, 2026)
    sao_paulo_year = _start(_client(app, make_member(sao_paulo, "lead")), sao_paulo, 2026)

    assert (bangkok_year.starts_on, bangkok_year.ends_on, bangkok_year.label) == (
        date(2026, 8, 1),
        date(2027, 7, 31),
        "2026–27",
    )
    assert (sao_paulo_year.starts_on, sao_paulo_year.ends_on, sao_paulo_year.label) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        "2026",
    )
    for framework, key, timing, august, january in CALENDAR_CASES:
        assert _requirement(framework, key).timing == timing, f"the seed timing of {key} changed"
        assert [i.due_on for i in _items(bangkok_year, key)] == august, key
        assert [i.due_on for i in _items(sao_paulo_year, key)] == january, key


def test_overdue_is_decided_by_the_schools_local_date_not_by_utc(app, make_school, make_member):
    bangkok = make_school(timezone="Asia/Bangkok", year_start_month=8)
    lead = make_member(bangkok, "lead")
    year = services._create_year(bangkok, 2026)
    # 18:00 UTC on 15 October is already 01:00 on 16 October in Bangkok (UTC+7)
    yesterday = _own_item(bangkok, year, "Due yesterday in Bangkok", date(2026, 10, 15), owner=lead.user)
    today = _own_item(bangkok, year, "Due today in Bangkok", date(2026, 10, 16), owner=lead.user)

    with time_machine.travel(datetime(2026, 10, 15, 18, 0, tzinfo=UTC), tick=False):
        assert datetime.now(UTC).date() == date(2026, 10, 15)
        assert bangkok.today() == date(2026, 10, 16)
        client = _client(app, lead)
        dashboard = client.get(f"/s/{bangkok.slug}/")
        overdue_list = client.get(f"/s/{bangkok.slug}/items?overdue=1")

    assert dashboard.status_code == 200 and overdue_list.status_code == 200
    html = dashboard.get_data(as_text=True)
    overdue_section = html.split("<h2>Overdue</h2>", 1)[1].split("<h2>Due in the next 30 days</h2>", 1)[0]
    assert yesterday.title in overdue_section
    assert today.title not in overdue_section
    assert re.search(r'<span class="tile-number">1</span> overdue', html), "one item is overdue"
    listed = overdue_list.get_data(as_text=True)
    assert yesterday.title in listed
    assert today.title not in listed


# --- changing an item -------------------------------------------------------------------------------------


def test_a_lead_marks_an_item_done_assigns_an_owner_and_moves_the_due_date_each_change_audited(
    app, make_school, make_member
):
    school = make_school(timezone="Asia/Bangkok", year_start_month=8)
    lead = make_member(school, "lead")
    staff = make_member(school, "staff", name="Sam Staff")
    year = services._create_year(school, 2026)
    item = _own_item(school, year, "Check the visitor log", date(2026, 10, 1))

    # the school's date is already 16 October while UTC is still on the 15th
    with time_machine.travel(datetime(2026, 10, 15, 20, 0, tzinfo=UTC), tick=False):
        client = _client(app, lead)
        version = _form_version(_page(client, school, item), item)
        assert version == item.version
        response = _update(client, school, item, version, status="done")
        _saved(response)

    item = _item(item.id)
    assert item.status == "done"
    assert item.completed_on == date(2026, 10, 16), "completed_on defaults to the school's today"
    [done] = _changed_events(item)
    assert done.before["status"] == "not_started" and done.after["status"] == "done"
    assert done.after["completed_on"] == "2026-10-16" and done.before["completed_on"] is None
    assert done.actor_id == lead.user_id

    client = _client(app, lead)  # the session cookie signed during the time travel has expired by now
    response = _update(client, school, item, item.version, owner=staff.user_id)
    _saved(response)
    item = _item(item.id)
    assert item.owner_id == staff.user_id
    assigned = _changed_events(item)[-1]
    assert (assigned.before, assigned.after) == ({"owner": None}, {"owner": staff.user.email})

    response = _update(client, school, item, item.version, due_on="2026-11-20")
    _saved(response)
    item = _item(item.id)
    assert item.due_on == date(2026, 11, 20)
    moved = _changed_events(item)[-1]
    assert (moved.before, moved.after) == ({"due_on": "2026-10-01"}, {"due_on": "2026-11-20"})
    assert len(_changed_events(item)) == 3
    assert "Sam Staff" in _page(client, school, item)


def test_marking_an_item_not_applicable_without_a_reason_is_refused_and_changes_nothing(
    app, school, lead, lead_client
):
    year = services._create_year(school, 2026)
    item = _own_item(school, year, "Translate the policy", date(2026, 9, 1), notes="old notes")
    events = audit_count()

    response = _update(
        lead_client, school, item, item.version, status="not_applicable", na_reason="  ", notes="new notes"
    )

    assert response.status_code == 400
    assert "Say why the item does not apply to your school." in response.get_data(as_text=True)
    after = _item(item.id)
    assert (after.status, after.notes, after.version) == ("not_started", "old notes", item.version)
    assert audit_count() == events

    response = _update(
        lead_client,
        school,
        after,
        after.version,
        status="not_applicable",
        na_reason="We have no boarding pupils.",
    )
    _saved(response)
    after = _item(item.id)
    assert (after.status, after.na_reason) == ("not_applicable", "We have no boarding pupils.")


def test_a_staff_member_sees_and_changes_only_their_own_items_and_cannot_move_owner_or_due_date(
    app, school, lead, make_member, evidence_dir
):
    staff = make_member(school, "staff")
    year = services._create_year(school, 2026)
    mine = _own_item(school, year, "Staff task ALPHA", date(2026, 9, 1), owner=staff.user)
    other = _own_item(school, year, "Someone else's task BRAVO", date(2026, 9, 2), owner=lead.user)
    nobody = _own_item(school, year, "Unassigned task CHARLIE", date(2026, 9, 3))
    client = _client(app, staff)

    listed = client.get(f"/s/{school.slug}/items").get_data(as_text=True)
    assert mine.title in listed
    assert other.title not in listed and nobody.title not in listed
    assert client.get(f"/s/{school.slug}/items/{other.id}").status_code == 404
    assert client.get(f"/s/{school.slug}/items/{nobody.id}").status_code == 404
    events = audit_count()
    assert _update(client, school, other, other.version, status="done", notes="hijack").status_code == 404
    assert _answer(client, school, other, other.version, "x").status_code == 404
    assert client.post(f"/s/{school.slug}/items/{other.id}/comments", data={"body": "hi"}).status_code == 404
    assert _upload(client, school, other, [("a.pdf", PDF)]).status_code == 404
    untouched = _item(other.id)
    assert (untouched.status, untouched.notes, untouched.version) == ("not_started", "", other.version)
    assert _count(Comment, Comment.item_id == other.id) == 0
    assert _count(Evidence, Evidence.school_id == school.id) == 0
    assert _files_under(evidence_dir) == []
    assert audit_count() == events

    version = _form_version(_page(client, school, mine), mine)
    response = _update(
        client,
        school,
        mine,
        version,
        status="in_progress",
        notes="Started the checks",
        owner=lead.user_id,
        due_on="2030-01-01",
    )
    _saved(response)
    mine = _item(mine.id)
    assert (mine.status, mine.notes) == ("in_progress", "Started the checks")
    assert mine.owner_id == staff.user_id, "staff cannot hand their item to someone else"
    assert mine.due_on == date(2026, 9, 1), "staff cannot move a due date"


def test_an_accreditor_can_view_items_but_every_change_is_refused(
    app, school, lead, make_member, evidence_dir
):
    accreditor = make_member(school, "accreditor")
    year = services._create_year(school, 2026)
    requirement = _requirement("policy-form", "policy-approved-reviewed")
    item = Item(
        school_id=school.id,
        year_id=year.id,
        framework_id=requirement.framework_id,
        requirement_id=requirement.id,
        requirement_key=requirement.key,
        kind="answer",
        section_title="Policies",
        title=requirement.title,
        owner_role="head",
        due_on=date(2026, 9, 5),
        notes="Working notes",
    )
    db.session.add(item)
    db.session.commit()
    client = _client(app, accreditor)

    page = _page(client, school, item)
    assert "Working notes" in page
    assert client.get(f"/s/{school.slug}/items").status_code == 200
    events = audit_count()
    base = f"/s/{school.slug}/items/{item.id}"
    responses = [
        _update(client, school, item, item.version, status="done", notes="changed"),
        _answer(client, school, item, item.version, "An answer", "in_place"),
        client.post(f"{base}/comments", data={"body": "A comment"}),
        _upload(client, school, item, [("report.pdf", PDF)]),
        client.post(f"{base}/evidence", data={"url": "https://example.org/x", "link_title": "x"}),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    after = _item(item.id)
    assert (after.status, after.notes, after.answer, after.version) == (
        "not_started",
        "Working notes",
        "",
        item.version,
    )
    assert _count(Comment, Comment.item_id == item.id) == 0
    assert _count(Evidence, Evidence.item_id == item.id) == 0
    assert _count(AnswerVersion, AnswerVersion.item_id == item.id) == 0
    assert _files_under(evidence_dir) == []
    assert audit_count() == events


# --- optimistic locking -----------------------------------------------------------------------------------


def test_a_save_based_on_an_older_version_gets_a_conflict_page_and_overwrites_nothing(
    app, school, lead, make_member
):
    head = make_member(school, "head")
    year = services._create_year(school, 2026)
    item = _own_item(school, year, "Review the register", date(2026, 9, 1))
    mine, theirs = _client(app, lead), _client(app, head)

    opened = _form_version(_page(mine, school, item), item)
    response = _update(
        theirs,
        school,
        item,
        _form_version(_page(theirs, school, item), item),
        status="in_progress",
        notes="Head's notes THEIRS",
    )
    _saved(response)
    saved = _item(item.id)
    assert saved.version == opened + 1

    response = _update(mine, school, item, opened, status="done", notes="Lead's notes MINE")

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved" in html
    assert "Head&#39;s notes THEIRS" in html or "Head's notes THEIRS" in html
    assert "Lead&#39;s notes MINE" in html or "Lead's notes MINE" in html
    after = _item(item.id)
    assert (after.status, after.notes, after.version) == ("in_progress", "Head's notes THEIRS", saved.version)
    assert after.completed_on is None


def test_a_stale_policy_answer_gets_a_conflict_page_and_keeps_the_other_answer(
    app, school, lead, make_member
):
    head = make_member(school, "head")
    year = _start(_client(app, lead), school, 2026)
    [item] = _items(year, "policy-approved-reviewed")
    mine, theirs = _client(app, lead), _client(app, head)
    opened = _form_version(_page(mine, school, item), item, "answer")

    _saved(_answer(theirs, school, item, opened, "The head's answer"))
    response = _answer(mine, school, item, opened, "The lead's answer", "in_place")

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved" in html
    assert "The head&#39;s answer" in html and "The lead&#39;s answer" in html
    after = _item(item.id)
    assert (after.answer, after.answer_status, after.status) == ("The head's answer", "partly", "in_progress")
    assert _count(AnswerVersion, AnswerVersion.item_id == item.id) == 1


# --- policy answers ---------------------------------------------------------------------------------------


def test_saving_a_policy_answer_keeps_every_earlier_version_with_its_author(app, school, lead, make_member):
    head = make_member(school, "head", name="Hana Head")
    lead_client = _client(app, lead)
    year = _start(lead_client, school, 2026)
    [item] = _items(year, "policy-approved-reviewed")

    _saved(_answer(lead_client, school, item, item.version, "First draft ONE", "partly"))
    item = _item(item.id)
    assert item.status == "in_progress"
    head_client = _client(app, head)
    _saved(_answer(head_client, school, item, item.version, "Approved text TWO", "in_place", "2027-06-30"))

    item = _item(item.id)
    assert (item.answer, item.answer_status, item.review_on) == (
        "Approved text TWO",
        "in_place",
        date(2027, 6, 30),
    )
    assert item.status == "done", "an answer that is in place marks the item done"
    assert item.completed_on == school.today()
    versions = (
        db.session.execute(
            db.select(AnswerVersion)
            .where(AnswerVersion.item_id == item.id)
            .order_by(AnswerVersion.created_at)
        )
        .scalars()
        .all()
    )
    assert [(v.answer, v.answer_status, v.author_id) for v in versions] == [
        ("First draft ONE", "partly", lead.user_id),
        ("Approved text TWO", "in_place", head.user_id),
    ]
    page = _page(lead_client, school, item)
    # "earlier versions" lists only the versions before the current answer (tests/test_item_pages.py)
    earlier = page.split("Earlier versions", 1)[1].split("</details>", 1)[0]
    assert "First draft ONE" in earlier and "Approved text TWO" not in earlier
    assert "Lena Lead" in earlier and "Hana Head" not in earlier


# --- evidence ---------------------------------------------------------------------------------------------


def _zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", b"\0" * (8 * 1024 * 1024))
    return buffer.getvalue()


HOSTILE_BATCHES = {
    "html named pdf": (
        "report.pdf",
        b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
        "not a PDF",
    ),
    "path traversal": ("../../../etc/cron.d/evil.pdf", PDF, "folder path"),
    "nul in name": ("policy\x00.pdf", PDF, "hidden or control character"),
    "zip bomb": ("minutes.docx", None, "archive bomb"),
    "empty file": ("empty.pdf", b"", "The file is empty"),
}


@pytest.fixture
def evidence_item(school):
    year = services._create_year(school, 2026)
    return _own_item(school, year, "Keep training records", date(2026, 9, 1))


def test_a_valid_pdf_upload_is_stored_with_its_hash_and_downloads_as_an_attachment(
    app, school, lead, lead_client, evidence_item, evidence_dir
):
    item = evidence_item
    response = _upload(lead_client, school, item, [("Training log 2026.pdf", PDF)], applies_on="2026-09-10")
    _saved(response)

    [row] = _evidence(school)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.item_id, row.kind, row.name, row.sha256, row.size) == (
        item.id,
        "file",
        "Training log 2026.pdf",
        digest,
        len(PDF),
    )
    assert row.applies_on == date(2026, 9, 10)
    files = _files_under(evidence_dir)
    assert files == [evidence_dir / school.id.hex / row.stored_name]
    assert files[0].read_bytes() == PDF
    page = _page(lead_client, school, item)
    assert digest in page and "Training log 2026.pdf" in page

    download = lead_client.get(f"/s/{school.slug}/items/{item.id}/evidence/{row.id}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "Training log 2026.pdf" in disposition or "Training%20log%202026.pdf" in disposition
    assert download.data == PDF


@pytest.mark.parametrize("case", sorted(HOSTILE_BATCHES))
def test_a_hostile_file_in_a_batch_refuses_the_whole_batch_and_stores_nothing(
    app, school, lead, lead_client, evidence_item, evidence_dir, case
):
    name, content, message = HOSTILE_BATCHES[case]
    content = _zip_bomb() if content is None else content
    events = audit_count()

    response = _upload(lead_client, school, evidence_item, [("Valid first.pdf", PDF), (name, content)])

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html, html[:3000]
    assert "Nothing was uploaded." in html
    assert _count(Evidence, Evidence.school_id == school.id) == 0
    assert _files_under(evidence_dir) == []
    assert audit_count() == events


def test_a_link_is_stored_and_shown_but_a_javascript_url_is_refused(
    app, school, lead, lead_client, evidence_item, evidence_dir
):
    item = evidence_item
    response = lead_client.post(
        f"/s/{school.slug}/items/{item.id}/evidence",
        data={"url": "javascript:alert(document.cookie)", "link_title": "Bad link"},
    )
    assert response.status_code == 400
    assert "starting with https://" in response.get_data(as_text=True)
    assert _count(Evidence, Evidence.school_id == school.id) == 0

    response = lead_client.post(
        f"/s/{school.slug}/items/{item.id}/evidence",
        data={"url": "https://example.org/board-minutes", "link_title": "Board minutes"},
    )
    _saved(response)
    [row] = _evidence(school)
    assert (row.kind, row.url, row.name, row.stored_name) == (
        "link",
        "https://example.org/board-minutes",
        "Board minutes",
        None,
    )
    page = _page(lead_client, school, item)
    assert 'href="https://example.org/board-minutes"' in page and "Board minutes" in page
    assert "javascript:" not in page
    assert _files_under(evidence_dir) == []


def test_evidence_of_another_schools_item_is_not_found_through_the_url(
    app, school, lead, lead_client, evidence_item, evidence_dir, make_school, make_member
):
    other_school = make_school()
    other_lead = make_member(other_school, "lead")
    other_item = _own_item(other_school, services._create_year(other_school, 2026), "Other", date(2026, 9, 1))
    other_client = _client(app, other_lead)
    _saved(_upload(other_client, other_school, other_item, [("secret.pdf", PDF)]))
    [theirs] = _evidence(other_school)
    _saved(_upload(lead_client, school, evidence_item, [("ours.pdf", PDF)]))
    [ours] = _evidence(school)
    sibling = _own_item(school, evidence_item.year, "Sibling item", date(2026, 9, 2))

    for url in (
        f"/s/{school.slug}/items/{other_item.id}/evidence/{theirs.id}",
        f"/s/{school.slug}/items/{evidence_item.id}/evidence/{theirs.id}",
        f"/s/{other_school.slug}/items/{other_item.id}/evidence/{theirs.id}",
        f"/s/{school.slug}/items/{sibling.id}/evidence/{ours.id}",
    ):
        response = lead_client.get(url)
        assert response.status_code == 404, url
        assert PDF not in response.data
    assert lead_client.get(f"/s/{school.slug}/items/{evidence_item.id}/evidence/{ours.id}").status_code == 200


# --- comments ---------------------------------------------------------------------------------------------


def test_comments_are_added_shown_and_audited_and_an_empty_one_is_refused(app, school, lead, lead_client):
    year = services._create_year(school, 2026)
    item = _own_item(school, year, "Brief the volunteers", date(2026, 9, 1))
    url = f"/s/{school.slug}/items/{item.id}/comments"

    response = lead_client.post(url, data={"body": "Booked for Tuesday COMMENTONE"})
    _saved(response)
    [comment] = db.session.execute(db.select(Comment).where(Comment.item_id == item.id)).scalars().all()
    assert (comment.body, comment.author_id, comment.school_id) == (
        "Booked for Tuesday COMMENTONE",
        lead.user_id,
        school.id,
    )
    assert "Booked for Tuesday COMMENTONE" in _page(lead_client, school, item)
    [event] = (
        db.session.execute(
            db.select(AuditEvent).where(
                AuditEvent.action == "item.commented", AuditEvent.subject_id == str(item.id)
            )
        )
        .scalars()
        .all()
    )
    assert event.after == {"comment": "Booked for Tuesday COMMENTONE"}

    events = audit_count()
    response = lead_client.post(url, data={"body": "   "})
    assert response.status_code == 400
    assert "Write something first." in response.get_data(as_text=True)
    assert _count(Comment, Comment.item_id == item.id) == 1
    assert audit_count() == events


# --- rolling over -----------------------------------------------------------------------------------------


def test_rolling_over_moves_recurring_dates_on_a_year_and_carries_answers_owners_and_evidence(
    app, school, lead, lead_client, make_member, evidence_dir
):
    staff = make_member(school, "staff", name="Owner Olivia")
    old_year = _start(lead_client, school, 2026)
    [answered] = _items(old_year, "policy-approved-reviewed")
    _saved(
        _answer(lead_client, school, answered, answered.version, "Approved by the board CARRIED", "partly")
    )
    [owned] = _items(old_year, "review-cp-policy")
    _saved(_update(lead_client, school, owned, owned.version, owner=staff.user_id))
    termly = _items(old_year, "division-safeguarding-session")
    _saved(_update(lead_client, school, termly[1], termly[1].version, owner=staff.user_id))
    _saved(_upload(lead_client, school, owned, [("Policy review.pdf", PDF)]))
    [evidence] = _evidence(school)

    response = lead_client.post(f"/s/{school.slug}/years/{old_year.id}/rollover")
    _saved(response)

    new_year = _year_of(school, 2027)
    assert new_year.previous_id == old_year.id
    assert new_year.starts_on == date(2027, 8, 1)
    old_items = {(i.requirement_key, i.occurrence): i for i in _items(old_year)}
    new_items = _items(new_year)
    recurring = [i for i in new_items if i.requirement.repeat in ("yearly", "termly")]
    assert len(recurring) > 50
    for item in recurring:
        before = old_items[(item.requirement_key, item.occurrence)]
        assert item.carried_from_id == before.id
        # a year later, moved onto a working day of the new year's terms (last year's, a year later)
        a_year_later = before.due_on.replace(year=before.due_on.year + 1)
        assert abs((item.due_on - a_year_later).days) <= 3, item.requirement_key
        assert item.due_on.weekday() < 5, item.requirement_key

    [carried] = _items(new_year, "policy-approved-reviewed")
    assert (carried.answer, carried.answer_status, carried.to_review) == (
        "Approved by the board CARRIED",
        "partly",
        True,
    )
    assert carried.status == "not_started"
    assert "To review" in _page(lead_client, school, carried)
    [new_owned] = _items(new_year, "review-cp-policy")
    assert new_owned.owner_id == staff.user_id
    new_termly = _items(new_year, "division-safeguarding-session")
    assert [i.owner_id for i in new_termly] == [None, staff.user_id, None]

    page = _page(lead_client, school, new_owned)
    last_year = page.split("From last year (read-only)", 1)[1].split("</ul>", 1)[0]
    assert "Policy review.pdf" in last_year
    assert f'/items/{new_owned.id}/evidence/{evidence.id}"' in last_year
    assert f"/evidence/{evidence.id}/remove" not in page, "last year's evidence cannot be removed here"
    download = lead_client.get(f"/s/{school.slug}/items/{new_owned.id}/evidence/{evidence.id}")
    assert download.status_code == 200 and download.data == PDF
    assert _count(Evidence, Evidence.school_id == school.id) == 1, "evidence is linked, not copied"
    assert len(_files_under(evidence_dir)) == 1
    removal = lead_client.post(f"/s/{school.slug}/items/{new_owned.id}/evidence/{evidence.id}/remove")
    assert removal.status_code == 404
    assert _count(Evidence, Evidence.school_id == school.id) == 1


# --- upgrading a framework --------------------------------------------------------------------------------

REMOVED_KEY, KEPT_KEY, ADDED_KEY = "references-verified", "policy-approved-reviewed", "new-question-2099"


def _write_new_policy_form(app, tmp_path):
    source = Path(app.config["TRACKER_SEEDS_DIR"]) / "frameworks" / "policy-form.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["version"] = "2099.1"
    removed = False
    for section in data["sections"]:
        kept = [r for r in section["requirements"] if r["key"] != REMOVED_KEY]
        removed = removed or len(kept) != len(section["requirements"])
        section["requirements"] = kept
    assert removed, f"{REMOVED_KEY} is no longer in the seed"
    data["sections"][0]["requirements"].append(
        {
            "key": ADDED_KEY,
            "title": "Is the new 2099 question answered?",
            "guidance": "A new question.",
            "answer_type": "answer",
            "owner_role": "lead",
            "timing": {"month": 2, "day": 1},
            "repeat": "yearly",
            "evidence": "Something written.",
            "resources": [],
        }
    )
    path = tmp_path / "policy-form-2099.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_upgrading_a_framework_keeps_work_on_kept_keys_retires_removed_ones_and_adds_new_ones(
    app, school, lead, lead_client, tmp_path, evidence_dir
):
    from tracker.seeding import import_framework

    year = _start(lead_client, school, 2026)
    old = _latest("policy-form")
    [kept] = _items(year, KEPT_KEY)
    _saved(_answer(lead_client, school, kept, kept.version, "Our policy is reviewed KEPT", "in_place"))
    _saved(_upload(lead_client, school, kept, [("Policy.pdf", PDF)]))
    [removed] = _items(year, REMOVED_KEY)
    assert removed.status == "not_started"
    untouched_before = {i.id: (i.status, i.requirement_key) for i in _items(year) if i.framework_id != old.id}

    import_framework(_write_new_policy_form(app, tmp_path))
    db.session.commit()
    new = _latest("policy-form")
    assert new.version == "2099.1" and new.id != old.id

    response = lead_client.post(
        f"/s/{school.slug}/years/{year.id}/upgrade/policy-form", follow_redirects=True
    )

    assert response.status_code == 200
    kept_count = len(old.requirements) - 1
    assert f"version 2099.1: {kept_count} kept, 1 added, 1 removed." in response.get_data(as_text=True)
    [kept] = _items(year, KEPT_KEY)
    assert (kept.answer, kept.answer_status, kept.status) == (
        "Our policy is reviewed KEPT",
        "in_place",
        "done",
    )
    assert kept.framework_id == new.id
    assert kept.requirement_id == _requirement("policy-form", KEPT_KEY).id
    assert [(e.item_id, e.name) for e in _evidence(school)] == [(kept.id, "Policy.pdf")]
    [removed] = _items(year, REMOVED_KEY)
    assert removed.status == "not_applicable"
    assert "2099.1" in removed.na_reason
    [added] = _items(year, ADDED_KEY)
    assert (added.framework_id, added.status, added.owner_role) == (new.id, "not_started", "lead")
    assert added.due_on == date(2026, 10, 1)
    tracked = set(
        db.session.execute(
            db.select(SchoolYearFramework.framework_id).where(SchoolYearFramework.year_id == year.id)
        ).scalars()
    )
    assert new.id in tracked and old.id not in tracked and len(tracked) == 3
    others = {
        i.id: (i.status, i.requirement_key) for i in _items(year) if i.framework_id not in (old.id, new.id)
    }
    assert others == untouched_before, "the other frameworks' items are untouched"
    assert "v2099.1" in lead_client.get(f"/s/{school.slug}/years").get_data(as_text=True)


# --- signing off ------------------------------------------------------------------------------------------


def test_only_the_head_can_sign_off_a_year_and_only_once(app, school, lead, lead_client, make_member):
    head = make_member(school, "head", name="Hana Head")
    year = services._create_year(school, 2026)
    db.session.commit()
    url = f"/s/{school.slug}/years/{year.id}/signoff"

    assert lead_client.post(url).status_code == 403
    assert db.session.get(SchoolYear, year.id).signed_off_at is None

    head_client = _client(app, head)
    response = sign_off(head_client, school.slug, year.id, follow_redirects=True)  # password, review ticked
    assert response.status_code == 200
    assert "You signed off 2026–27." in response.get_data(as_text=True)
    db.session.expire_all()
    signed = db.session.get(SchoolYear, year.id)
    assert signed.signed_off_by_id == head.user_id
    first_time = signed.signed_off_at
    assert first_time is not None
    events = audit_count()

    response = sign_off(head_client, school.slug, year.id, follow_redirects=True)
    assert "2026–27 was already signed off." in response.get_data(as_text=True)
    db.session.expire_all()
    again = db.session.get(SchoolYear, year.id)
    assert (again.signed_off_at, again.signed_off_by_id) == (first_time, head.user_id)
    assert audit_count() == events


def test_unknown_ids_in_item_urls_are_not_found(app, school, lead_client):
    assert lead_client.get(f"/s/{school.slug}/items/{uuid.uuid4()}").status_code == 404
