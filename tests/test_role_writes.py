"""Each role can do what its policy allows through the fields its pages show, and no more: staff and HR
save their own items; who may change whose role, remove whom, and for how long an accreditor gets in;
every download an accreditor makes is in the audit trail."""

import html
import os
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import url_for

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.schools.models import Invitation
from tracker.tenancy import Membership
from tracker.tracking import services as tracking
from tracker.tracking.models import Item

from .conftest import audit_count
from .test_role_matrix import ROLE_MATRIX
from .world import build_worlds, methods_of, sign_in, url_args


def text(response):
    return html.unescape(response.get_data(as_text=True))


def _events(school, action):
    db.session.expire_all()
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.school_id == school.id, AuditEvent.action == action)
        )
        .scalars()
        .all()
    )


def _client(app, member):
    return sign_in(app.test_client(), member.user)


# --- saving one's own item, from what the page shows --------------------------------------------------------


def _form_fields(page, action):
    """The fields of the form posting to `action`, with the values the browser would send as they are."""
    forms = re.findall(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', page, re.S)
    body = next(b for a, b in forms if a.endswith(action))
    fields = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        if name:
            value = re.search(r'value="([^"]*)"', tag)
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(
            r'<option selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', options
        )
        first = re.search(r'value="([^"]*)"', options)
        fields[name] = next((v for v in chosen.groups() if v is not None), "") if chosen else first.group(1)
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.S):
        fields[name] = html.unescape(value).lstrip("\n")
    return fields


@pytest.fixture
def school(make_school):
    return make_school(timezone="Europe/London", year_start_month=8)


@pytest.mark.parametrize("role", ["staff", "hr"])
def test_staff_and_hr_save_their_own_item_with_the_fields_their_page_shows(app, school, make_member, role):
    """The update form of a staff member or HR has no owner or due date; sending exactly what it shows
    saves the item (it used to answer "Not a valid choice" for the hidden owner field). The lead's form
    still has both, and they still work."""
    member = make_member(school, role)
    lead = make_member(school, "lead")
    year = tracking._create_year(school, 2026)
    item = Item(
        school_id=school.id,
        year_id=year.id,
        kind="own",
        section_title="School's own items",
        title="Check the visitor log",
        owner_role=role,
        owner_id=member.user_id,
        due_on=date(2026, 9, 1),
    )
    db.session.add(item)
    db.session.commit()
    client = _client(app, member)
    page = client.get(f"/s/{school.slug}/items/{item.id}").get_data(as_text=True)
    fields = _form_fields(page, f"/items/{item.id}")
    assert "owner" not in fields and "due_on" not in fields, "the page shows them only to leads and heads"
    fields.update(status="done", notes="Checked with the office.")

    response = client.post(f"/s/{school.slug}/items/{item.id}", data=fields)

    assert response.status_code == 302, text(response)[:2000]
    db.session.expire_all()
    saved = db.session.get(Item, item.id)
    assert (saved.status, saved.notes) == ("done", "Checked with the office.")
    assert saved.completed_on == school.today()
    assert (saved.owner_id, saved.due_on) == (member.user_id, date(2026, 9, 1))
    [event] = _events(school, "item.changed")
    assert event.actor_id == member.user_id and event.after["status"] == "done"
    assert "Saved." in text(client.get(response.headers["Location"]))

    lead_client = _client(app, lead)
    fields = _form_fields(
        lead_client.get(f"/s/{school.slug}/items/{item.id}").get_data(as_text=True), f"/items/{item.id}"
    )
    assert fields["owner"] == str(member.user_id) and fields["due_on"] == "2026-09-01"
    fields.update(owner=str(lead.user_id), due_on="2026-10-15")
    assert lead_client.post(f"/s/{school.slug}/items/{item.id}", data=fields).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Item, item.id)
    assert (saved.owner_id, saved.due_on, saved.status) == (lead.user_id, date(2026, 10, 15), "done")


def test_a_recruitment_check_is_not_changed_through_the_item_form_it_does_not_show(app):
    """A check's page shows no update form (its stage is kept on the person's page): a hand-made post to the
    item form changes nothing."""
    a, _ = build_worlds()
    check = db.session.get(Item, a.objects["check_item_id"])
    client = _client(app, a.members["hr"])
    before = (check.status, check.version, audit_count())
    response = client.post(
        f"/s/{a.school.slug}/items/{check.id}",
        data={
            "version": str(check.version),
            "status": "done",
            "owner": "",
            "due_on": "",
            "notes": "",
            "na_reason": "",
            "completed_on": "",
        },
    )
    assert response.status_code == 400
    assert "updated on the person's page" in text(response)
    db.session.expire_all()
    check = db.session.get(Item, check.id)
    assert (check.status, check.version, audit_count()) == before


# --- roles: who may change whom -----------------------------------------------------------------------------


@pytest.fixture
def people(school, make_member):
    return {
        "lead": make_member(school, "lead", name="Lee Lead"),
        "head": make_member(school, "head", name="Hana Head"),
        "staff": make_member(school, "staff", name="Sam Staff"),
    }


def _role(membership):
    db.session.expire_all()
    row = db.session.get(Membership, membership.id)
    return row.role if row is not None else None


def _post_member(app, actor, target, school, **data):
    return _client(app, actor).post(f"/s/{school.slug}/members/{target.id}", data=data)


def test_a_head_cannot_make_themselves_lead(app, school, people):
    before = audit_count()
    response = _post_member(app, people["head"], people["head"], school, role="lead")
    assert response.status_code == 400
    assert "You cannot change your own role" in text(response)
    assert _role(people["head"]) == "head"
    assert audit_count() == before


def test_a_head_cannot_make_anyone_a_lead_nor_invite_one(app, school, people):
    before = audit_count()
    response = _post_member(app, people["head"], people["staff"], school, role="lead")
    assert response.status_code == 400
    assert "Only a safeguarding lead can make someone a lead." in text(response)
    assert _role(people["staff"]) == "staff"
    response = _client(app, people["head"]).post(
        f"/s/{school.slug}/members/invite", data={"email": "new-lead@example.org", "role": "lead"}
    )
    assert response.status_code == 400
    assert "Only a safeguarding lead can make someone a lead." in text(response)
    assert db.session.execute(sa.select(Invitation).where(Invitation.school_id == school.id)).first() is None
    assert audit_count() == before


def test_only_a_lead_makes_a_lead_or_changes_or_removes_another_lead(app, school, people, make_member):
    lead, head = people["lead"], people["head"]
    assert _post_member(app, head, people["staff"], school, role="lead").status_code == 400
    assert _post_member(app, lead, people["staff"], school, role="lead").status_code == 302
    assert _role(people["staff"]) == "lead"
    assert _post_member(app, head, people["staff"], school, role="hr").status_code == 400
    assert _role(people["staff"]) == "lead"
    assert _post_member(app, lead, people["staff"], school, role="hr").status_code == 302
    assert _role(people["staff"]) == "hr"
    assert _post_member(app, head, people["staff"], school, role="staff").status_code == 302  # not a lead
    assert _role(people["staff"]) == "staff"
    other = make_member(school, "lead")
    other_id = other.id
    assert _client(app, head).post(f"/s/{school.slug}/members/{other_id}/remove").status_code == 400
    assert _client(app, lead).post(f"/s/{school.slug}/members/{other_id}/remove").status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, other_id) is None
    [removed] = _events(school, "member.removed")
    assert removed.actor_id == lead.user_id
    assert (
        _client(app, lead)
        .post(f"/s/{school.slug}/members/invite", data={"email": "new-lead@example.org", "role": "lead"})
        .status_code
        == 302
    )


def test_the_head_is_offered_no_lead_role_and_no_form_on_a_leads_page(app, school, people):
    head = _client(app, people["head"])
    page = text(head.get(f"/s/{school.slug}/members/{people['staff'].id}"))
    assert 'value="staff"' in page and 'value="lead"' not in page
    members = text(head.get(f"/s/{school.slug}/members"))
    assert 'value="lead"' not in members
    assert '>View<span class="visually-hidden"> Lee Lead</span>' in members  # not "Change"
    assert '>Change<span class="visually-hidden"> Sam Staff</span>' in members
    page = text(head.get(f"/s/{school.slug}/members/{people['lead'].id}"))
    assert "Only a safeguarding lead can change a lead's role or remove a lead." in page
    assert "Save role" not in page and f"/members/{people['lead'].id}/remove" not in page
    page = text(head.get(f"/s/{school.slug}/members/{people['head'].id}"))
    assert "You cannot change your own role" in page and "Save role" not in page


def test_a_head_cannot_demote_or_remove_a_lead_even_with_two_leads(app, school, people, make_member):
    make_member(school, "lead")  # so the last-lead rule is not what stops it
    before = audit_count()
    response = _post_member(app, people["head"], people["lead"], school, role="staff")
    assert response.status_code == 400
    assert "Only a safeguarding lead can change a lead's role or remove a lead." in text(response)
    response = _client(app, people["head"]).post(f"/s/{school.slug}/members/{people['lead'].id}/remove")
    assert response.status_code == 400
    assert "Only a safeguarding lead can change a lead's role or remove a lead." in text(response)
    assert _role(people["lead"]) == "lead"
    assert audit_count() == before


def test_nobody_changes_their_own_role_or_removes_themselves(app, school, people, make_member):
    second_lead = make_member(school, "lead")
    before = audit_count()
    for actor in (people["lead"], people["head"]):
        response = _post_member(app, actor, actor, school, role="staff")
        assert response.status_code == 400
        assert "You cannot change your own role or end of access." in text(response)
        response = _client(app, actor).post(f"/s/{school.slug}/members/{actor.id}/remove")
        assert response.status_code == 400
        assert "You cannot remove yourself from the school." in text(response)
    assert (_role(people["lead"]), _role(people["head"]), _role(second_lead)) == ("lead", "head", "lead")
    assert audit_count() == before


def test_the_last_lead_stays_whoever_asks(app, school, people):
    """The only lead cannot step down or leave, and nobody else can demote or remove them."""
    for actor in (people["lead"], people["head"]):
        assert _post_member(app, actor, people["lead"], school, role="head").status_code == 400
        response = _client(app, actor).post(f"/s/{school.slug}/members/{people['lead'].id}/remove")
        assert response.status_code == 400
    assert _role(people["lead"]) == "lead"


# --- how long an accreditor's access may run ----------------------------------------------------------------


def _invite_accreditor(client, school, until):
    return client.post(
        f"/s/{school.slug}/members/invite",
        data={"email": "visitor@cis.example", "role": "accreditor", "access_until": until},
    )


def test_an_accreditor_invitation_ends_within_the_maximum(app, school, people):
    client = _client(app, people["lead"])
    today = school.today()
    before = audit_count()
    response = _invite_accreditor(client, school, (today + timedelta(days=91)).isoformat())
    assert response.status_code == 400
    limit = today + timedelta(days=90)
    assert re.search(
        r'id="access_until-error"[^>]*>.*An accreditor\'s access can last at most 90 days: '
        rf"give an end date on or before {limit.day} {limit:%B %Y}\.",
        text(response),
    )
    assert audit_count() == before
    response = _invite_accreditor(client, school, (today - timedelta(days=1)).isoformat())
    assert response.status_code == 400 and "The end date of access is in the past." in text(response)
    assert audit_count() == before
    assert _invite_accreditor(client, school, limit.isoformat()).status_code == 302
    invitation = db.session.execute(
        sa.select(Invitation).where(Invitation.school_id == school.id)
    ).scalar_one()
    assert invitation.access_until == limit


def test_the_maximum_follows_the_setting(app, school, people, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_ACCREDITOR_MAX_DAYS", 10)
    client = _client(app, people["lead"])
    response = _invite_accreditor(client, school, (school.today() + timedelta(days=11)).isoformat())
    assert response.status_code == 400 and "at most 10 days" in text(response)
    response = _invite_accreditor(client, school, (school.today() + timedelta(days=10)).isoformat())
    assert response.status_code == 302


def test_the_member_page_keeps_accreditor_end_dates_within_the_maximum(app, school, people, make_member):
    today = school.today()
    accreditor = make_member(school, "accreditor", access_until=today + timedelta(days=30))
    lead = people["lead"]
    before = audit_count()
    for target, role in ((accreditor, "accreditor"), (people["staff"], "accreditor")):
        for until, message in (
            (today + timedelta(days=91), "can last at most 90 days"),
            (today - timedelta(days=1), "The end date of access is in the past."),
        ):
            response = _post_member(app, lead, target, school, role=role, access_until=until.isoformat())
            assert response.status_code == 400, (target.role, until)
            assert re.search(r'id="access_until-error"[^>]*>.*' + re.escape(message), text(response))
    db.session.expire_all()
    assert db.session.get(Membership, accreditor.id).access_until == today + timedelta(days=30)
    assert _role(people["staff"]) == "staff"
    assert audit_count() == before
    response = _post_member(
        app,
        lead,
        accreditor,
        school,
        role="accreditor",
        access_until=(today + timedelta(days=90)).isoformat(),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, accreditor.id).access_until == today + timedelta(days=90)


def test_the_invite_command_keeps_accreditor_end_dates_within_the_maximum(app, school):
    runner = app.test_cli_runner()
    today = school.today()
    for until, message in (
        (today + timedelta(days=91), "can last at most 90 days"),
        (today - timedelta(days=1), "The end date of access is in the past."),
    ):
        result = runner.invoke(
            args=[
                "users",
                "invite",
                "--school",
                school.slug,
                "--email",
                "v@cis.example",
                "--role",
                "accreditor",
                "--until",
                until.isoformat(),
            ]
        )
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert db.session.execute(sa.select(Invitation).where(Invitation.school_id == school.id)).first() is None
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "--school",
            school.slug,
            "--email",
            "v@cis.example",
            "--role",
            "accreditor",
            "--until",
            (today + timedelta(days=90)).isoformat(),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "/invitations/" in result.output


# --- every accreditor download is audited -------------------------------------------------------------------

#: the download views an accreditor can reach today; the walk below must find each of them
KNOWN_DOWNLOADS = {"evidence.download", "training.certificate", "people.export", "reports.download"}


def _is_download(response):
    disposition = response.headers.get("Content-Disposition", "")
    return "attachment" in disposition or response.mimetype not in ("text/html", "application/json")


def test_every_download_an_accreditor_makes_is_in_the_audit_trail(app, tmp_path, monkeypatch):
    """Walk every school page an accreditor may GET: each answer that is a file must have written an audit
    event naming the accreditor (so a new download view without auditing fails here)."""
    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_DIR", str(tmp_path / "evidence"))
    a, _ = build_worlds()
    accreditor = a.members["accreditor"]
    client = _client(app, accreditor)
    downloads, missing = set(), []
    for rule in app.url_map.iter_rules():
        if "school" not in rule.arguments or "GET" not in methods_of(rule):
            continue
        if "accreditor" not in ROLE_MATRIX.get(rule.endpoint, {}).get("GET", set()):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **url_args(rule, a.school.slug, a))
        before = audit_count()
        response = client.get(url)
        assert response.status_code < 500, (rule.endpoint, response.status_code)
        if response.status_code == 200 and _is_download(response):
            downloads.add(rule.endpoint)
            db.session.expire_all()
            event = (
                db.session.execute(
                    sa.select(AuditEvent)
                    .where(AuditEvent.school_id == a.school.id)
                    .order_by(AuditEvent.seq.desc())
                )
                .scalars()
                .first()
            )
            if audit_count() <= before or event.actor_id != accreditor.user_id:
                missing.append(rule.endpoint)
    assert missing == [], "these downloads are not in the audit trail"
    assert KNOWN_DOWNLOADS <= downloads, "the walk did not reach every known download"
    export = _events(a.school, "register.exported")
    assert [e.after["file"].endswith(".csv") for e in export] == [True]
    [certificate] = _events(a.school, "training.certificate_downloaded")
    assert certificate.subject_id == str(a.objects["session_id"])

    # the rule is for accreditors: the school's own staff downloading do not fill the trail
    lead = _client(app, a.members["lead"])
    before = audit_count()
    assert lead.get(f"/s/{a.school.slug}/people/export.csv").status_code == 200
    certificate = f"/s/{a.school.slug}/training/sessions/{a.objects['session_id']}/certificate"
    assert lead.get(certificate).status_code == 200
    assert audit_count() == before


@pytest.mark.skipif(
    not os.environ.get("TRACKER_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL only: SQLite requests that write queue for the database (BEGIN IMMEDIATE)",
)
def test_two_leads_demoting_each_other_at_the_same_moment_leave_one_lead(app, monkeypatch):
    """Each in a thread with its own session, as two requests; a pause after the last-lead check is when the
    second used to slip past it and leave the school with no lead at all."""
    import threading
    import time

    from tracker.auth.models import User
    from tracker.schools import services as schools

    monkeypatch.setattr(db, "session", db._make_scoped_session({}))  # a real session per app context
    school = schools.create_school(slug=f"lead-race-{os.getpid()}", name="Lead Race School")
    users = [User(email=f"lead{n}@lead-race.example", name=f"Lead {n}") for n in (1, 2)]
    db.session.add_all(users)
    db.session.flush()
    leads = [Membership(school_id=school.id, user_id=u.id, role="lead") for u in users]
    db.session.add_all(leads)
    db.session.commit()
    school_id, ids = school.id, [m.id for m in leads]
    db.session.remove()
    check = schools._is_last_current_lead

    def slow_check(*args):
        answer = check(*args)
        time.sleep(0.5)
        return answer

    monkeypatch.setattr(schools, "_is_last_current_lead", slow_check)
    barrier, outcomes = threading.Barrier(2), []

    def demote(member_id):
        with app.app_context():
            try:
                school_ = db.session.get(type(school), school_id)
                membership = db.session.get(Membership, member_id)
                barrier.wait(timeout=30)
                schools.change_role(school_, membership, role="staff")
                db.session.commit()
                outcomes.append("demoted")
            except schools.ServiceError as exc:
                db.session.rollback()
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    try:
        threads = [threading.Thread(target=demote, args=(member_id,)) for member_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == [
            "A school needs at least one safeguarding lead: make someone else lead first.",
            "demoted",
        ]
        with app.app_context():
            roles = (
                db.session.execute(sa.select(Membership.role).where(Membership.school_id == school_id))
                .scalars()
                .all()
            )
            db.session.remove()
        assert sorted(roles) == ["lead", "staff"]
    finally:
        with db.engine.begin() as conn:
            for table in ("audit_events", "audit_heads"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE chain = :chain"), {"chain": str(school_id)})
            conn.execute(sa.text("DELETE FROM schools WHERE id = :id"), {"id": school_id})
            conn.execute(sa.text("DELETE FROM users WHERE email LIKE '%@lead-race.example'"))
