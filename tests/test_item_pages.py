"""The item and policy pages: history as sentences in the school's time zone, a policy question's one form
(one status, one Save, a text box sized for an answer) with its version check and audit, earlier versions
without the current one, training phases in the framework's order, and the PDF links that show progress."""

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.tracking import history, services
from tracker.tracking.models import AnswerVersion, Item, SchoolYear

from .conftest import audit_count
from .world import sign_in

# --- helpers ----------------------------------------------------------------------------------------------


@pytest.fixture
def school(make_school):
    return make_school(timezone="Asia/Bangkok", year_start_month=8)  # UTC+7, no summer time


@pytest.fixture
def lead(school, make_member):
    return make_member(school, "lead", name="Dana Lead", email="dana@example.org")


@pytest.fixture
def head(school, make_member):
    return make_member(school, "head", name="Sam Head", email="sam@example.org")


def _client(app, member):
    return sign_in(app.test_client(), member.user)


def _item(item_id):
    db.session.expire_all()
    return db.session.get(Item, item_id)


def _start(client, school, start_year=2026):
    response = client.post(f"/s/{school.slug}/years/start", data={"start_year": str(start_year)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    return db.session.execute(
        db.select(SchoolYear).where(
            SchoolYear.school_id == school.id, sa.extract("year", SchoolYear.starts_on) == start_year
        )
    ).scalar_one()


def _policy_item(year, key="policy-approved-reviewed"):
    db.session.expire_all()
    return db.session.execute(
        db.select(Item).where(Item.year_id == year.id, Item.requirement_key == key)
    ).scalar_one()


def _page(client, school, item):
    response = client.get(f"/s/{school.slug}/items/{item.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _forms(html):
    return re.findall(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', html, re.S)


def _history(html):
    """The history list's sentences, as a reader sees them (tags dropped, spaces collapsed)."""
    block = html.split('id="history"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", block, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", i).split()).replace("&#34;", '"') for i in items]


def _event(action, *, actor=None, before=None, after=None, at=datetime(2026, 10, 3, 7, 5, tzinfo=UTC)):
    """An audit event as the item's history reads it (not stored: the sentences need only these fields)."""
    return AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        before=before,
        after=after,
        created_at=at,
    )


NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _sentence(school, event):
    [line] = history.lines(school, [event], now=NOW)
    return line.sentence


# --- history: a sentence per event type -------------------------------------------------------------------


def test_every_item_event_type_reads_as_a_sentence_in_the_school_time_zone(school, lead, head, make_user):
    dana, sam = lead.user, head.user
    hr = make_user(name="Harriet HR", email="harriet@example.org")
    cases = [
        (
            _event("item.added", actor=dana, after={"due_on": "2026-09-01"}),
            "Dana Lead added this item, due 1 Sep",
        ),
        (
            _event("item.changed", actor=dana, before={"status": "in_progress"}, after={"status": "done"}),
            "Dana Lead marked this done",
        ),
        (
            _event(
                "item.changed",
                actor=dana,
                before={"status": "not_started", "completed_on": None},
                after={"status": "done", "completed_on": "2026-09-28"},
            ),
            "Dana Lead marked this done (completed 28 Sep)",
        ),
        (
            _event("item.changed", actor=dana, before={"status": "done"}, after={"status": "in_progress"}),
            "Dana Lead marked this in progress",
        ),
        (
            _event("item.changed", actor=dana, before={"status": "done"}, after={"status": "not_started"}),
            "Dana Lead moved this back to not started",
        ),
        (
            _event(
                "item.changed",
                actor=dana,
                before={"status": "not_started", "na_reason": ""},
                after={"status": "not_applicable", "na_reason": "We have no boarding students."},
            ),
            "Dana Lead marked this not applicable: “We have no boarding students.”",
        ),
        (
            _event(
                "item.changed", actor=sam, before={"due_on": "2026-09-01"}, after={"due_on": "2026-09-30"}
            ),
            "Sam Head changed the due date from 1 Sep to 30 Sep",
        ),
        (
            _event("item.changed", actor=sam, before={"owner": None}, after={"owner": dana.email}),
            "Sam Head assigned this to Dana Lead",
        ),
        (
            _event("item.changed", actor=sam, before={"owner": dana.email}, after={"owner": hr.email}),
            "Sam Head changed the owner from Dana Lead to Harriet HR",
        ),
        (
            _event("item.changed", actor=sam, before={"owner": hr.email}, after={"owner": None}),
            "Sam Head removed the owner (Harriet HR)",
        ),
        (
            _event(
                "item.changed",
                actor=dana,
                before={"status": "not_started", "notes": "", "due_on": "2026-09-01"},
                after={"status": "in_progress", "notes": "Booked the hall", "due_on": "2026-10-15"},
            ),
            "Dana Lead marked this in progress, changed the due date from 1 Sep to 15 Oct and added notes",
        ),
        (
            _event("item.changed", actor=dana, before={"notes": "a"}, after={"notes": "b"}),
            "Dana Lead updated the notes",
        ),
        (
            _event(
                "item.changed",
                actor=dana,
                before={"completed_on": "2026-09-01"},
                after={"completed_on": "2026-09-02"},
            ),
            "Dana Lead changed the completion date from 1 Sep to 2 Sep",
        ),
        (
            _event(
                "item.changed",
                actor=dana,
                before={"due_on": "2026-08-20", "planned_due_on": None},
                after={"due_on": "2026-12-01", "planned_due_on": "2026-08-20"},
            ),
            "Dana Lead changed the due date from 20 Aug to 1 Dec",
        ),
        (
            _event("item.changed", actor=dana, before={}, after={}),
            "Dana Lead saved this without changing anything",
        ),
        (
            _event(
                "item.answered",
                actor=sam,
                before={"answer": "", "answer_status": None, "status": "not_started", "review_on": None},
                after={
                    "answer": "Approved by the board",
                    "answer_status": "in_place",
                    "status": "done",
                    "review_on": "2027-06-30",
                },
            ),
            "Sam Head wrote the answer, said the school stands at “In place”, marked this done and set the "
            "review date to 30 Jun 2027",
        ),
        (
            _event("item.answered", actor=dana, before={"answer": "Draft"}, after={"answer": "Second draft"}),
            "Dana Lead updated the answer",
        ),
        (
            _event("item.commented", actor=dana, after={"comment": "Asked the board for dates."}),
            "Dana Lead commented: “Asked the board for dates.”",
        ),
        (
            _event("item.evidence_added", actor=dana, after={"evidence": "Minutes.pdf", "kind": "file"}),
            "Dana Lead added evidence “Minutes.pdf”",
        ),
        (
            _event(
                "item.evidence_added", actor=dana, after={"evidence": "Cert.pdf", "verification": "pending"}
            ),
            "Dana Lead added evidence “Cert.pdf” (waiting to be verified)",
        ),
        (
            _event("item.evidence_removed", actor=dana, before={"evidence": "Old.pdf"}),
            "Dana Lead removed evidence “Old.pdf”",
        ),
        (
            _event(
                "item.evidence_verified", actor=hr, after={"evidence": "Cert.pdf", "verification": "verified"}
            ),
            "Harriet HR verified evidence “Cert.pdf”",
        ),
        (
            _event(
                "item.evidence_rejected",
                actor=hr,
                after={"evidence": "Cert.pdf", "verification": "rejected", "reason": "Unreadable scan"},
            ),
            "Harriet HR rejected evidence “Cert.pdf”: “Unreadable scan”",
        ),
        (
            _event("evidence.downloaded", actor=hr, after={"evidence": "Minutes.pdf"}),
            "Harriet HR downloaded “Minutes.pdf”",
        ),
        (
            _event(
                "check.changed",
                actor=hr,
                before={"check_status": "received", "status": "in_progress", "verified_on": None},
                after={"check_status": "verified", "status": "done", "verified_on": "2026-10-02"},
            ),
            "Harriet HR marked the check verified (verified 2 Oct)",
        ),
        (
            _event(
                "check.changed", actor=hr, before={"expires_on": None}, after={"expires_on": "2029-10-02"}
            ),
            "Harriet HR set the expiry date to 2 Oct 2029",
        ),
        (
            _event("check.risk_assessed", actor=hr, after={"summary": "..."}),
            "Harriet HR wrote the risk assessment",
        ),
        (
            _event("check.risk_assessment_signed", actor=sam, after={"signed_by": sam.email}),
            "Sam Head signed the risk assessment",
        ),
        # events this page does not know yet: their changes, else their action's words; never a field dump
        (
            _event(
                "item.bulk_moved", actor=sam, before={"due_on": "2026-09-01"}, after={"due_on": "2026-09-08"}
            ),
            "Sam Head changed the due date from 1 Sep to 8 Sep",
        ),
        (_event("item.archived", actor=sam, after={"something": 1}), "Sam Head changed the something"),
        (_event("item.archived", actor=sam), "Sam Head: archived"),
        # no actor: the scheduler; an account removed since: the e-mail it had
        (_event("item.changed", before={"status": "done"}, after={"status": "not_applicable"}), None),
    ]
    for event, expected in cases[:-1]:
        assert _sentence(school, event) == f"{expected}, 3 Oct 14:05", event.action
    system = _sentence(school, cases[-1][0])
    assert system == "The system marked this not applicable, 3 Oct 14:05"
    gone = _event("item.changed", before={"status": "done"}, after={"status": "in_progress"})
    gone.actor_email = "left@example.org"
    assert _sentence(school, gone) == "left@example.org marked this in progress, 3 Oct 14:05"


def test_history_times_follow_the_school_time_zone_and_show_the_year_only_when_it_is_another(
    school, make_school, lead
):
    late = _event(
        "item.changed",
        actor=lead.user,
        before={"status": "done"},
        after={"status": "in_progress"},
        at=datetime(2025, 12, 31, 20, 30, tzinfo=UTC),
    )
    # 20:30 UTC on 31 Dec is 03:30 on 1 Jan in Bangkok: the school's day and year, not UTC's
    assert _sentence(school, late).endswith(", 1 Jan 03:30")
    [line] = history.lines(school, [late], now=datetime(2027, 2, 1, tzinfo=UTC))
    assert line.when == "1 Jan 2026 03:30", "another year than this one is named"
    london = make_school(timezone="Europe/London")
    [line] = history.lines(london, [late], now=NOW)
    assert line.when == "31 Dec 2025 20:30"
    assert line.at.utcoffset().total_seconds() == 0


def test_the_item_page_shows_history_as_sentences_not_field_dumps(app, school, lead, head):
    lead_client = _client(app, lead)
    year = _start(lead_client, school)
    item = (
        db.session.execute(
            db.select(Item).where(Item.year_id == year.id, Item.kind == "task").order_by(Item.due_on)
        )
        .scalars()
        .first()
    )
    old_due = item.due_on
    fields = {"notes": "", "na_reason": "", "owner": "", "completed_on": "", "status": "done"}
    # each step signs in at its own moment (a session opened "later" would not be valid earlier)
    with time_machine.travel(datetime(2026, 10, 3, 7, 5, tzinfo=UTC), tick=False):
        response = _client(app, lead).post(
            f"/s/{school.slug}/items/{item.id}", data={**fields, "version": item.version, "due_on": ""}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    item = _item(item.id)
    with time_machine.travel(datetime(2026, 10, 4, 2, 12, tzinfo=UTC), tick=False):
        response = _client(app, head).post(
            f"/s/{school.slug}/items/{item.id}",
            data={**fields, "version": item.version, "due_on": "2027-06-30"},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        lines = _history(_page(_client(app, lead), school, item))
    due = f"{old_due.day} {old_due:%b}"
    assert lines[:2] == [
        f"Sam Head changed the due date from {due} to 30 Jun 2027, 4 Oct 09:12",
        "Dana Lead marked this done, 3 Oct 14:05",
    ]
    page = _page(lead_client, school, item)
    assert "→" not in page.split('id="history"', 1)[1].split("</section>", 1)[0]


# --- the policy question's one form -----------------------------------------------------------------------


def test_a_policy_question_has_one_form_one_status_and_one_save_with_a_text_box_for_an_answer(
    app, school, lead
):
    client = _client(app, lead)
    year = _start(client, school)
    item = _policy_item(year)
    html = _page(client, school, item)
    actions = [action for action, _ in _forms(html)]
    base = f"/s/{school.slug}/items/{item.id}"
    assert actions.count(base + "/answer") == 1 and base not in actions, actions
    [(_, body)] = [(a, b) for a, b in _forms(html) if a.endswith("/answer")]
    assert 'name="status"' not in html, "no second status: where the school stands is the status"
    assert body.count('name="answer_status"') == 1
    assert len(re.findall(r'type="submit"', body)) == 1 and ">Save</button>" in body
    textarea = re.search(r"<textarea[^>]*name=\"answer\"[^>]*>", body).group(0)
    assert 'rows="8"' in textarea and "data-autogrow" in textarea
    for name in ("owner", "due_on", "review_on", "notes"):
        assert f'name="{name}"' in body, name
    # the answer's one status starts unassessed, never silently "In place"
    assert re.search(r'<option selected value="">Not assessed yet</option>|<option value="" selected>', body)


def test_saving_a_policy_answer_saves_status_owner_due_date_and_notes_in_one_audited_change(
    app, school, lead, head
):
    client = _client(app, lead)
    year = _start(client, school)
    item = _policy_item(year)
    events = audit_count()
    response = client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            "version": item.version,
            "answer": "The board approved the policy on 12 September.",
            "answer_status": "in_place",
            "review_on": "2027-06-30",
            "owner": str(head.user_id),
            "due_on": "2026-10-01",
            "notes": "Ask the board chair to sign.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    after = _item(item.id)
    assert (
        after.status,
        after.answer_status,
        after.owner_id,
        after.due_on,
        after.notes,
        after.review_on,
    ) == (
        "done",
        "in_place",
        head.user_id,
        date(2026, 10, 1),
        "Ask the board chair to sign.",
        date(2027, 6, 30),
    )
    assert after.completed_on == school.today()
    assert audit_count() == events + 1
    event = (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.subject_id == str(item.id)).order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )
    assert event.action == "item.answered"
    assert {"answer", "answer_status", "status", "owner", "due_on", "notes", "review_on"} <= set(event.after)
    [line] = history.lines(school, [event])[:1]
    assert line.text.startswith(
        "Dana Lead wrote the answer, said the school stands at “In place”, marked this done, assigned this "
        "to Sam Head, changed the due date from"
    ), line.text

    # partly in place reopens it; not applicable needs the answer to say why
    response = client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            "version": after.version,
            "answer": after.answer,
            "answer_status": "partly",
            "review_on": "",
            "owner": str(head.user_id),
            "due_on": "2026-10-01",
            "notes": after.notes,
        },
    )
    assert response.status_code == 302
    after = _item(item.id)
    assert (after.status, after.completed_on) == ("in_progress", None)
    events = audit_count()
    response = client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            "version": after.version,
            "answer": "",
            "answer_status": "not_applicable",
            "review_on": "",
            "owner": str(head.user_id),
            "due_on": "2026-10-01",
            "notes": after.notes,
        },
    )
    assert response.status_code == 400
    assert "why this question does not apply" in response.get_data(as_text=True)
    assert (_item(item.id).status, audit_count()) == ("in_progress", events), "nothing half-saved"
    response = client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            "version": after.version,
            "answer": "We have no boarding.",
            "answer_status": "not_applicable",
            "review_on": "",
            "owner": str(head.user_id),
            "due_on": "2026-10-01",
            "notes": after.notes,
        },
    )
    assert response.status_code == 302
    after = _item(item.id)
    assert (after.status, after.na_reason) == ("not_applicable", "We have no boarding.")


def test_a_stale_policy_save_is_refused_with_the_conflict_page_and_changes_nothing(app, school, lead, head):
    lead_client, head_client = _client(app, lead), _client(app, head)
    year = _start(lead_client, school)
    item = _policy_item(year)
    opened = item.version
    data = {
        "answer": "The head's text",
        "answer_status": "partly",
        "review_on": "",
        "owner": "",
        "due_on": "",
        "notes": "",
    }
    assert (
        head_client.post(
            f"/s/{school.slug}/items/{item.id}/answer", data={**data, "version": opened}
        ).status_code
        == 302
    )
    saved = _item(item.id)
    events = audit_count()
    response = lead_client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            **data,
            "version": opened,
            "answer": "The lead's text",
            "answer_status": "in_place",
            "owner": str(lead.user_id),
            "notes": "mine",
        },
    )
    assert response.status_code == 409
    assert "Someone else saved" in response.get_data(as_text=True)
    after = _item(item.id)
    assert (after.answer, after.status, after.owner_id, after.notes, after.version) == (
        "The head's text",
        "in_progress",
        None,
        "",
        saved.version,
    )
    assert audit_count() == events


def test_a_form_without_the_owner_and_notes_fields_leaves_them_as_they_are(app, school, lead, head):
    client = _client(app, lead)
    year = _start(client, school)
    item = _policy_item(year)
    services.update_item(school, item, version=item.version, owner=head.user, notes="Keep me", manage=True)
    db.session.commit()
    item = _item(item.id)
    response = client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={"version": item.version, "answer": "Short answer", "answer_status": "not_yet", "review_on": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    after = _item(item.id)
    assert (after.owner_id, after.notes, after.answer, after.status) == (
        head.user_id,
        "Keep me",
        "Short answer",
        "in_progress",
    )


def test_staff_answering_their_own_policy_question_see_no_owner_or_due_date(app, school, lead, make_member):
    staff = make_member(school, "staff", name="Sam Staff")
    year = _start(_client(app, lead), school)
    item = _policy_item(year)
    item.owner_id = staff.user_id
    db.session.commit()
    client = _client(app, staff)
    [(_, body)] = [(a, b) for a, b in _forms(_page(client, school, item)) if a.endswith("/answer")]
    assert 'name="owner"' not in body and 'name="due_on"' not in body
    response = client.post(
        f"/s/{school.slug}/items/{item.id}/answer",
        data={
            "version": _item(item.id).version,
            "answer": "Draft",
            "answer_status": "",
            "review_on": "",
            "owner": "",
            "due_on": "2026-12-01",
            "notes": "",
        },
    )
    assert response.status_code == 302
    after = _item(item.id)
    assert (after.owner_id, after.status, after.answer_status) == (staff.user_id, "in_progress", None)
    assert after.due_on != date(2026, 12, 1), "staff do not move due dates"


# --- earlier versions -------------------------------------------------------------------------------------


def test_earlier_versions_lists_only_the_versions_before_the_current_answer(app, school, lead, head):
    lead_client = _client(app, lead)
    year = _start(lead_client, school)
    item = _policy_item(year)
    base = {"review_on": "", "owner": "", "due_on": "", "notes": ""}
    url = f"/s/{school.slug}/items/{item.id}/answer"
    assert (
        lead_client.post(
            url,
            data={**base, "version": item.version, "answer": "First draft ONE", "answer_status": "partly"},
        ).status_code
        == 302
    )
    html = _page(lead_client, school, item)
    assert "Earlier versions" not in html, "the only version is the current one"
    item = _item(item.id)
    head_client = _client(app, head)
    assert (
        head_client.post(
            url,
            data={
                **base,
                "version": item.version,
                "answer": "Approved text TWO",
                "answer_status": "in_place",
            },
        ).status_code
        == 302
    )
    # a save that changes only the notes keeps the versions as they are
    item = _item(item.id)
    assert (
        head_client.post(
            url,
            data={
                **base,
                "version": item.version,
                "answer": "Approved text TWO",
                "answer_status": "in_place",
                "notes": "n",
            },
        ).status_code
        == 302
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AnswerVersion).where(AnswerVersion.item_id == item.id)
        )
        == 2
    )
    html = _page(lead_client, school, item)
    earlier = html.split("Earlier versions", 1)[1].split("</details>", 1)[0]
    assert "(1)" in earlier and "First draft ONE" in earlier and "Dana Lead" in earlier
    assert "Approved text TWO" not in earlier


def test_earlier_versions_keeps_every_version_when_the_item_holds_an_answer_never_versioned():
    class V:
        def __init__(self, answer):
            self.answer, self.answer_status, self.review_on = answer, "partly", None

    class Stored:
        answer, answer_status, review_on = "Carried forward", "partly", None

    versions = [V("Older"), V("Oldest")]
    assert history.earlier_versions(Stored(), versions) == versions
    assert history.earlier_versions(Stored(), [V("Carried forward"), *versions]) == versions
    assert history.earlier_versions(Stored(), []) == []


# --- training phases in the framework's order -------------------------------------------------------------

#: the training plan's sections, named by audience (they were "Phase 1" ... "Phase 6" until 2026.2)
PHASES = [
    "Leadership, response team and board",
    "All staff",
    "Support staff, volunteers and contractors",
    "Parents and caregivers",
    "Students",
    "Review and record keeping",
]


def _phase_order(titles):
    return [t for t in titles if t in PHASES]


def test_training_phases_keep_the_framework_order_on_the_dashboard_and_in_reports(app, school, lead):
    from tracker.reports import data as gather
    from tracker.tracking import queries

    client = _client(app, lead)
    year = _start(client, school)
    progress = {p.title: p for p in queries.progress(school, year, lead)}
    assert _phase_order(progress["Child Protection Training Plan"].sections) == PHASES
    with app.test_request_context():
        data = gather.accreditation(school, year)
        framework = gather.framework(
            school, year, next(f for f in year.frameworks if f.key == "training-plan")
        )
    [plan] = [f for f in data["frameworks"] if f["key"] == "training-plan"]
    assert _phase_order(s["title"] for s in plan["sections"]) == PHASES
    assert _phase_order(dict.fromkeys(i["section"] for i in plan["items"])) == PHASES
    assert _phase_order(s["title"] for s in framework["frameworks"][0]["sections"]) == PHASES
    # the policy form's sections too follow the form, not their first due date
    policy = next(f for f in year.frameworks if f.key == "policy-form")
    expected = [s.title for s in policy.sections]
    assert list(progress[policy.title].sections) == expected
    [form] = [f for f in data["frameworks"] if f["key"] == "policy-form"]
    assert [s["title"] for s in form["sections"]] == expected
    html = client.get(f"/s/{school.slug}/").get_data(as_text=True)
    html = html[html.find("Child Protection Training Plan") :]
    positions = [html.find(f"<li><span>{p}</span>") for p in PHASES]
    assert all(p > 0 for p in positions) and positions == sorted(positions), positions


# --- the PDF links say they are working -------------------------------------------------------------------


def test_the_report_links_show_progress_while_a_pdf_is_made(app, school, lead):
    client = _client(app, lead)
    _start(client, school)
    html = client.get(f"/s/{school.slug}/reports/").get_data(as_text=True)
    assert "js/pdf-progress.js" in html
    links = re.findall(r'<a [^>]*href="[^"]*\.pdf"[^>]*>', html)
    assert links and all("data-pdf-progress" in a for a in links), links
    assert 'aria-live="polite"' in html
    dashboard = client.get(f"/s/{school.slug}/").get_data(as_text=True)
    [button] = re.findall(r'<a [^>]*href="[^"]*accreditation\.pdf"[^>]*>', dashboard)
    assert "data-pdf-progress" in button and "js/pdf-progress.js" in dashboard
