"""The dashboard's "Waiting for you" made cheaper (issue #21) still says the same thing: the checks due before
start dates (read per person through the open-checks index) against a count made in Python from the rows;
the lead's "people have not acknowledged" lines of a page (documents, population and acknowledgements read
once for both policy lines) against the digest job's path, which reads coverage on its own."""

from datetime import timedelta

from sqlalchemy import inspect

from tracker.extensions import db
from tracker.people import waiting as people_waiting
from tracker.people.checks import record_risk_assessment
from tracker.people.models import Person
from tracker.policies import services as policies
from tracker.policies.coverage import coverage
from tracker.policies.models import PolicyDocument
from tracker.tracking.models import OPEN_STATUSES, Item, ItemKind
from tracker.waiting import batched, lines_for

from .reminders_helpers import add_item, add_person


def _expected_before_start(school, today):
    """(checks, people, {person ids}, earliest due date) counted in Python from every check of the school."""
    people = {
        p.id: p for p in db.session.execute(db.select(Person).where(Person.school_id == school.id)).scalars()
    }
    signed = {
        ra.item_id
        for ra in db.session.execute(
            db.select(people_waiting.RiskAssessment).where(
                people_waiting.RiskAssessment.school_id == school.id
            )
        ).scalars()
        if ra.signed_at is not None
    }
    per_person = {}
    for item in db.session.execute(db.select(Item).where(Item.school_id == school.id)).scalars():
        person = people.get(item.person_id)
        if (
            item.kind != ItemKind.CHECK
            or item.status not in OPEN_STATUSES
            or person is None
            or (person.leave_on is not None and person.leave_on < today)
            or item.due_on is None
            or person.start_on is None
            or item.due_on > person.start_on
            or item.id in signed
        ):
            continue
        per_person.setdefault(person.id, []).append(item.due_on)
    if not per_person:
        return None
    checks = sum(len(v) for v in per_person.values())
    return checks, len(per_person), set(per_person), min(min(v) for v in per_person.values())


def _check(school, person, due_on, status="not_started"):
    return add_item(
        school, "Police check", due_on, person=person, owner_role="hr", kind="check", status=status
    )


def _assert_before_start(school, today):
    got = people_waiting._before_start([school.id], today).get(school.id)
    want = _expected_before_start(school, today)
    if want is None:
        assert got is None
        return None
    checks, n_people, person_ids, first = want
    assert got is not None
    assert (got[0], got[1], got[3]) == (checks, n_people, first)
    assert got[2] in person_ids
    return got


def test_checks_before_start_dates_match_a_count_from_the_rows(app, make_school, make_member):
    school = make_school(timezone="UTC", year_start_month=8)
    other = make_school(timezone="UTC", year_start_month=8)
    hr = make_member(school, "hr", name="Hr Member")
    today = school.today()
    with app.test_request_context():
        assert people_waiting._before_start([school.id], today) == {}
        soon = add_person(school, "Starting soon", today + timedelta(days=10))
        _check(school, soon, today + timedelta(days=3))
        _check(school, soon, today + timedelta(days=10))  # due on the start date: counted
        _check(school, soon, today + timedelta(days=11))  # due after the start date: not counted
        _check(school, soon, today + timedelta(days=1), status="done")
        _check(school, soon, today + timedelta(days=2), status="in_progress")
        add_person(school, "Starting soon, nothing open", today + timedelta(days=5))
        nothing = add_person(school, "Starting soon, all done", today + timedelta(days=6))
        _check(school, nothing, today, status="done")
        _check(school, nothing, today, status="not_applicable")
        started = add_person(school, "Started long ago", today - timedelta(days=400))
        _check(school, started, today - timedelta(days=500))  # overdue, due before the start: counted
        _check(school, started, today - timedelta(days=100))  # due after the start date: not counted
        leaver = add_person(school, "Left yesterday", today - timedelta(days=300))
        leaver.leave_on = today - timedelta(days=1)
        _check(school, leaver, today - timedelta(days=301))
        leaving = add_person(school, "Leaves today", today - timedelta(days=300))
        leaving.leave_on = today  # has not left yet: counted
        _check(school, leaving, today - timedelta(days=302))
        covered = add_person(school, "Risk assessed", today + timedelta(days=20))
        signed = _check(school, covered, today + timedelta(days=4))
        unsigned = _check(school, covered, today + timedelta(days=5))
        record_risk_assessment(school, signed, summary="Overseas check pending.", user=hr.user)
        record_risk_assessment(school, unsigned, summary="Reference pending.", user=hr.user)
        db.session.flush()
        ra = db.session.execute(
            db.select(people_waiting.RiskAssessment).where(people_waiting.RiskAssessment.item_id == signed.id)
        ).scalar_one()
        ra.signed_at = ra.written_at  # signed: the check no longer waits
        elsewhere = add_person(other, "Other school's starter", today + timedelta(days=10))
        _check(other, elsewhere, today + timedelta(days=1))
        db.session.commit()
        got = _assert_before_start(school, today)
        assert got[0] == 6 and got[1] == 4  # soon 3, started 1, leaving 1, covered 1
        assert got[3] == today - timedelta(days=500)
        # the digest job's batch of schools gives each school the same answer as a page
        both = people_waiting._before_start([school.id, other.id], today)
        assert both[school.id] == got
        assert both[other.id][:2] == (1, 1) and both[other.id][2] == elsewhere.id
        # the next day the leaver who leaves today has left
        assert _assert_before_start(school, today + timedelta(days=1))[1] == 3
        # one person left: the line links to them
        for item in db.session.execute(db.select(Item).where(Item.school_id == school.id)).scalars():
            if item.person_id != soon.id:
                item.status = "done"
        db.session.commit()
        got = _assert_before_start(school, today)
        assert got[1:3] == (1, soon.id)


def test_the_open_checks_index_is_on_the_model():
    names = {index.name: [c.name for c in index.columns] for index in Item.__table__.indexes}
    assert names["ix_items_school_id_kind_status_person_id_due_on"] == [
        "school_id",
        "kind",
        "status",
        "person_id",
        "due_on",
    ]
    assert inspect(db.engine).get_indexes("items") is not None


def _policy_lines(school, member, today):
    return [
        (line.kind, line.text, line.url, line.count, line.due_on)
        for line in lines_for(school, member, today)
        if line.kind.startswith("policies")
    ]


def test_lead_policy_lines_of_a_page_match_the_digest_path_and_coverage(app, make_school, make_member):
    school = make_school(timezone="UTC", year_start_month=8)
    lead = make_member(school, "lead", name="Lead Member")
    staff = make_member(school, "staff", name="Staff Member")
    today = school.today()
    with app.test_request_context():
        members = {"lead": lead, "staff": staff}
        assert _policy_lines(school, lead, today) == []  # no documents: nothing, and no population read
        people = [add_person(school, f"Teacher {i}", today - timedelta(days=100)) for i in range(6)]
        starter = add_person(school, "New starter", today + timedelta(days=30))
        gone = add_person(school, "Gone", today - timedelta(days=900))
        linked = add_person(school, "Staff on the register", today - timedelta(days=50), user=staff.user)
        v1 = policies.publish(
            school,
            title="Code of conduct",
            kind="code_of_conduct",
            roles=["lead", "staff"],
            categories=["teaching"],
            button_text="",
            label="v1",
            body="Be kind.",
            upload=None,
            deadline=today - timedelta(days=2),
            user=lead.user,
            stored=[],
        )
        db.session.flush()
        doc = db.session.get(PolicyDocument, v1.document_id)
        policies.record_sheet(school, v1, people=people[:3] + [gone], signed_on=today, user=lead.user)
        gone.leave_on = today - timedelta(days=1)  # acknowledged, then left: not in the audience any more
        db.session.commit()
        page = {role: _policy_lines(school, m, today) for role, m in members.items()}
        with batched({school.id: today}):
            digest = {role: _policy_lines(school, m, today) for role, m in members.items()}
        assert page == digest
        missing = [line for line in page["lead"] if line[0] == "policies_missing"]
        (cov,) = coverage(school)
        assert missing[0][3] == len(cov.missing) == 6  # 3 teachers, the starter, the staff member, the lead
        assert page["staff"][0][:2] == ("policies", "1 document to read and sign")
        # a material new version: everyone acknowledges again; a minor one keeps the round
        policies.add_version(
            school,
            doc,
            label="v2",
            body="Be kinder.",
            upload=None,
            material=True,
            change_note="",
            deadline=today + timedelta(days=10),
            user=lead.user,
            stored=[],
        )
        db.session.commit()
        db.session.refresh(doc)
        policies.record_sheet(
            school, doc.current_version(), people=[linked, starter], signed_on=today, user=lead.user
        )
        db.session.commit()
        page = {role: _policy_lines(school, m, today) for role, m in members.items()}
        with batched({school.id: today}):
            digest = {role: _policy_lines(school, m, today) for role, m in members.items()}
        assert page == digest
        missing = [line for line in page["lead"] if line[0] == "policies_missing"]
        assert missing[0][3] == len(coverage(school)[0].missing) == 7  # 6 teachers and the lead
        assert page["staff"] == []  # the staff member signed v2 through their register entry
