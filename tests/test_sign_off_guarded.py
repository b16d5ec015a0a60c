"""The guarded sign-off of a school year: what is still open, the head's comment and password, the background
job that freezes the report (with progress, success and failure), the lock on a year being signed off."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker import audit
from tracker.extensions import db, limiter
from tracker.reports import jobs
from tracker.reports import services as reports
from tracker.reports.models import DONE, FAILED, Report
from tracker.reports.render import RenderError
from tracker.review.models import OPEN as QUERY_OPEN
from tracker.review.models import ReviewQuery
from tracker.tracking import services as tracking
from tracker.tracking import sign_off as signing
from tracker.tracking.models import OPEN_STATUSES, Item, ItemKind, SchoolYear
from tracker.training import coverage

from .reports_helpers import pdf_text, squash
from .sign_off_helpers import sign_off
from .world import build_worlds, sign_in


@pytest.fixture
def inline_jobs(app, monkeypatch):
    """The report job runs in the request after its commit (no thread): a test reads its outcome at once."""
    monkeypatch.setitem(app.config, "TRACKER_REPORT_JOBS_THREADED", False)


@pytest.fixture(autouse=True)
def _always_confirm(app, monkeypatch):
    """Every sign-off asks for the password here, even right after signing in (tests/test_step_up.py covers
    the few minutes after a confirmation, when it need not)."""
    monkeypatch.setitem(app.config, "TRACKER_STEP_UP_MINUTES", 0)


@pytest.fixture(autouse=True)
def _fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def _year(world):
    db.session.expire_all()
    return db.session.get(SchoolYear, world.objects["year_id"])


def _actions(school):
    return (
        db.session.execute(
            sa.select(audit.AuditEvent.action)
            .where(audit.AuditEvent.school_id == school.id)
            .order_by(audit.AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def _event(school, action):
    return db.session.execute(
        sa.select(audit.AuditEvent)
        .where(audit.AuditEvent.school_id == school.id, audit.AuditEvent.action == action)
        .order_by(audit.AuditEvent.seq.desc())
    ).scalar()


def _frozen(world):
    return (
        db.session.execute(
            sa.select(Report).where(
                Report.school_id == world.school.id,
                Report.frozen.is_(True),
                Report.id != world.objects["report_id"],
            )
        )
        .scalars()
        .all()
    )


def _url(world, suffix=""):
    return f"/s/{world.school.slug}/years/{world.objects['year_id']}/signoff{suffix}"


# --- the summary ------------------------------------------------------------------------------------------


def test_the_summary_counts_open_items_queries_recruitment_and_training_gaps(app):
    a, b = build_worlds()
    year = _year(a)
    today = a.school.today()
    lines = signing.open_work(a.school, year)
    counts = signing.open_counts(lines)

    items = db.session.execute(
        sa.select(Item).where(Item.year_id == year.id, Item.status.in_(OPEN_STATUSES))
    ).scalars()
    items = list(items)
    assert counts["open"] == len(items) >= 1
    assert counts.get("overdue", 0) == sum(1 for i in items if i.due_on < today)
    queries = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReviewQuery)
        .where(ReviewQuery.school_id == a.school.id, ReviewQuery.state == QUERY_OPEN)
    )
    assert counts["queries"] == queries == 1
    people_with_open_checks = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Item.person_id))).where(
            Item.school_id == a.school.id, Item.kind == ItemKind.CHECK, Item.status.in_(OPEN_STATUSES)
        )
    )
    assert counts["recruitment"] == people_with_open_checks >= 1  # the world's people have open checks
    gaps = sum(len(c.overdue) + len(c.never) for c in coverage.coverage(a.school))
    assert counts["training"] == gaps > 0
    # each line opens the list behind its number
    assert {(line.kind, line.endpoint) for line in lines} >= {
        ("open", "tracking.items"),
        ("queries", "review.index"),
        ("recruitment", "people.index"),
        ("training", "training.who"),
    }

    head = sign_in(app.test_client(), a.members["head"].user)
    page = head.get(_url(a))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "What is still open" in html and "1 open accreditor query" in html
    assert f"/s/{a.school.slug}/items?year={year.id}" in html and "/review/?state=open" in html
    assert "/people/?filter=incomplete" in html
    assert "I have reviewed what is still open" in html and 'name="password"' in html
    assert "MARKER" not in html and b.school.name not in html

    lead = sign_in(app.test_client(), a.members["lead"].user)
    html = lead.get(_url(a)).get_data(as_text=True)
    assert "1 open accreditor query" in html  # the lead sees the summary, read-only
    assert 'name="password"' not in html and "Only the head of school signs off" in html
    years = head.get(f"/s/{a.school.slug}/years").get_data(as_text=True)
    assert _url(a) in years and "Review and sign off" in years


def test_the_recruitment_count_is_the_registers_incomplete_filter_and_leaves_out_leavers(app):
    """The sign-off's "people with open recruitment checks" is read from the items (the semi-join over the
    register's filter was a nested loop per person on PostgreSQL): still the register's incomplete people, so
    a leaver with open checks drops out of it."""
    from tracker.people import register
    from tracker.people.models import Person

    a, _ = build_worlds()
    year = _year(a)

    def recruitment():
        return signing.open_counts(signing.open_work(a.school, year)).get("recruitment", 0)

    def listed():
        return len(db.session.execute(register._people_query(a.school, "incomplete")).scalars().all())

    before = recruitment()
    assert before == listed() >= 1
    person_id = db.session.scalar(
        sa.select(Item.person_id).where(
            Item.school_id == a.school.id, Item.kind == ItemKind.CHECK, Item.status.in_(OPEN_STATUSES)
        )
    )
    db.session.get(Person, person_id).leave_on = a.school.today() - timedelta(days=1)
    db.session.commit()
    assert recruitment() == listed() == before - 1


# --- the comment, the password, the checkbox ---------------------------------------------------------------


def test_the_comment_is_printed_in_the_signed_report_and_shown_on_the_years_page(app, inline_jobs):
    a, _ = build_worlds()
    head = sign_in(app.test_client(), a.members["head"].user)
    comment = "Two policies are still being rewritten;\nthe governors will see them in March."
    response = sign_off(head, a.school.slug, a.objects["year_id"], comment=comment, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Signed off by" in html and "Download the signed report" in html
    year = _year(a)
    assert year.sign_off_state == signing.SIGNED and year.sign_off_comment == comment
    assert year.signed_off_at == year.sign_off_requested_at
    [frozen] = _frozen(a)
    assert frozen.status == DONE and year.sign_off_job_id == frozen.id
    pdf = head.get(f"/s/{a.school.slug}/reports/files/{frozen.id}").get_data()
    text = pdf_text(pdf)
    assert squash(comment) in text
    assert squash("Comment from the head of school") in text
    assert squash(f"Signed off by {a.members['head'].user.name}") in text
    assert "Auditanchor" in text
    years = head.get(f"/s/{a.school.slug}/years").get_data(as_text=True)
    assert "Two policies are still being rewritten" in years
    assert f"/reports/files/{frozen.id}" in years


def test_a_password_is_required_and_a_wrong_one_saves_nothing(app, inline_jobs):
    a, _ = build_worlds()
    head = sign_in(app.test_client(), a.members["head"].user)
    before = _actions(a.school)
    missing = head.post(_url(a), data={"reviewed": "y", "comment": "x"})
    assert missing.status_code == 400
    assert "Enter your password" in missing.get_data(as_text=True)
    wrong = head.post(_url(a), data={"reviewed": "y", "comment": "x", "password": "not my password"})
    assert wrong.status_code == 400
    assert "That is not your password" in wrong.get_data(as_text=True)
    year = _year(a)
    assert year.sign_off_state == signing.OPEN and year.sign_off_comment == "" and _frozen(a) == []
    assert _actions(a.school) == before + ["auth.reconfirm_failed"]  # recorded, nothing else


def test_open_work_must_be_reviewed_before_signing(app, inline_jobs):
    a, _ = build_worlds()
    head = sign_in(app.test_client(), a.members["head"].user)
    response = sign_off(head, a.school.slug, a.objects["year_id"], reviewed=False)
    assert response.status_code == 400
    assert "I have reviewed what is still open" in response.get_data(as_text=True)
    assert "Tick" in response.get_data(as_text=True)
    assert _year(a).sign_off_state == signing.OPEN and _frozen(a) == []


def test_wrong_passwords_are_throttled_like_sign_in(app, inline_jobs):
    a, _ = build_worlds()
    head = sign_in(app.test_client(), a.members["head"].user)
    limit = int(app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert sign_off(head, a.school.slug, a.objects["year_id"], password="guess").status_code == 400
    # even the right password waits now
    assert sign_off(head, a.school.slug, a.objects["year_id"]).status_code == 429
    assert _year(a).sign_off_state == signing.OPEN


def test_a_right_password_does_not_use_up_the_limit(app, inline_jobs):
    a, _ = build_worlds()
    head = sign_in(app.test_client(), a.members["head"].user)
    limit = int(app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"].split()[0])
    for _ in range(limit + 1):  # a form without the checkbox is refused, but not as a wrong password
        assert sign_off(head, a.school.slug, a.objects["year_id"], reviewed=False).status_code == 400
    assert sign_off(head, a.school.slug, a.objects["year_id"]).status_code == 302


# --- the job ------------------------------------------------------------------------------------------------


def test_the_post_answers_at_once_and_the_report_is_made_in_the_background(app, monkeypatch):
    """The request only queues the job: render_pdf is never called in it, and the job's thread is started once
    the request has committed. (The tests' database is one connection that threads must not share, so the
    test runs the thread's body itself.)"""
    a, _ = build_worlds()
    real, calls, started = jobs.render_pdf, [], []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "render_pdf", counted)
    monkeypatch.setattr("tracker.reports.drafts.render_pdf", counted)
    monkeypatch.setattr("tracker.reports.sign_off.start_sign_off_job", lambda *ids: started.append(ids))
    monkeypatch.setitem(app.config, "TRACKER_REPORT_JOBS_THREADED", True)
    head = sign_in(app.test_client(), a.members["head"].user)
    begun = time.perf_counter()
    response = sign_off(head, a.school.slug, a.objects["year_id"], comment="Fast", wait=False)
    elapsed = time.perf_counter() - begun
    assert response.status_code == 302 and calls == [] and elapsed < 2
    year = _year(a)
    assert year.sign_off_state == signing.SIGNING and year.signed_off_at is None
    assert started == [(year.sign_off_job_id, a.school.id, year.id)]
    page = head.get(_url(a)).get_data(as_text=True)
    assert "Signing…" in page and 'aria-live="polite"' in page
    assert "report-progress.js" in page and 'data-when-done="reload"' in page
    assert "Signing…" in head.get(f"/s/{a.school.slug}/years").get_data(as_text=True)
    status_url = f"/s/{a.school.slug}/reports/jobs/{year.sign_off_job_id}/status"
    status = head.get(status_url).get_json()
    assert status["status"] == "queued" and status["download"] is None

    jobs.sign_off_work(app, *started[0])  # what the thread runs
    assert calls == [1]
    year = _year(a)
    assert year.sign_off_state == signing.SIGNED and year.signed_off_by_id == a.members["head"].user_id
    [frozen] = _frozen(a)
    status = head.get(status_url).get_json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["download"].endswith(str(frozen.id))
    actions = _actions(a.school)
    tail = actions[actions.index("year.sign_off_requested") :]
    assert tail[-2:] == ["report.frozen", "year.signed_off"]
    requested = _event(a.school, "year.sign_off_requested").after
    assert requested["comment"] == "Fast"
    assert requested["open"]["open"] >= 1 and requested["open"]["queries"] == 1
    signed = _event(a.school, "year.signed_off").after
    assert signed["report_id"] == str(frozen.id) and signed["pdf_sha256"] == frozen.pdf_sha256
    assert "Signed off by" in head.get(_url(a)).get_data(as_text=True)


def test_a_failed_job_leaves_the_year_not_signed_off_with_the_reason(app, monkeypatch, inline_jobs):
    a, _ = build_worlds()

    def fail(*args, **kwargs):
        raise RenderError("The report took longer than 1 seconds to render and was stopped.")

    monkeypatch.setattr(jobs, "render_pdf", fail)
    head = sign_in(app.test_client(), a.members["head"].user)
    response = sign_off(head, a.school.slug, a.objects["year_id"], comment="Try", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "could not be signed off" in html and "longer than 1 seconds" in html and 'role="alert"' in html
    year = _year(a)
    assert (
        year.sign_off_state == signing.OPEN and year.signed_off_at is None and year.signed_off_by_id is None
    )
    assert "longer than 1 seconds" in year.sign_off_error
    [job] = _frozen(a)
    assert job.status == FAILED
    # the failed job is no signed report (the world's stand-in frozen report is the only one)
    assert reports.frozen_report(a.school, year).id == a.objects["report_id"]
    assert reports.signed_reports(a.school)[year.id].id == a.objects["report_id"]
    assert "year.sign_off_failed" in _actions(a.school) and "year.signed_off" not in _actions(a.school)
    assert "Sign-off failed" in head.get(f"/s/{a.school.slug}/years").get_data(as_text=True)
    # the items are editable again, and the head may try once more
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "TRACKER_REPORT_JOBS_THREADED", False)
    assert sign_off(head, a.school.slug, a.objects["year_id"]).status_code == 302
    year = _year(a)
    assert year.sign_off_state == signing.SIGNED and year.sign_off_error == ""


def test_a_job_that_crashes_in_its_thread_also_gives_the_year_back(app, monkeypatch):
    a, _ = build_worlds()
    started = []

    def crash(*args, **kwargs):
        raise KeyError("something unexpected")

    monkeypatch.setattr(jobs, "render_pdf", crash)
    monkeypatch.setattr("tracker.reports.sign_off.start_sign_off_job", lambda *ids: started.append(ids))
    monkeypatch.setitem(app.config, "TRACKER_REPORT_JOBS_THREADED", True)
    head = sign_in(app.test_client(), a.members["head"].user)
    assert sign_off(head, a.school.slug, a.objects["year_id"], wait=False).status_code == 302
    jobs.sign_off_work(app, *started[0])
    year = _year(a)
    assert year.sign_off_state == signing.OPEN and "server log" in year.sign_off_error
    assert "year.sign_off_failed" in _actions(a.school)


# --- the lock, and two sign-offs ---------------------------------------------------------------------------


def test_nobody_changes_the_items_of_a_year_being_signed_off(app):
    a, _ = build_worlds()
    year = _year(a)
    tracking.sign_off(a.school, year, a.members["head"].user, reviewed=True)  # the job is not started
    db.session.commit()
    item = db.session.get(Item, a.objects["item_id"])
    lead = sign_in(app.test_client(), a.members["lead"].user)
    response = lead.post(
        f"/s/{a.school.slug}/items/{item.id}/answer",
        data={"version": str(item.version), "answer": "Changed while signing", "answer_status": "in_place"},
        follow_redirects=True,
    )
    assert 400 <= response.status_code < 500
    assert "is being signed off" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Item, item.id).answer != "Changed while signing"
    comment = lead.post(f"/s/{a.school.slug}/items/{item.id}/comments", data={"body": "Late comment"})
    assert comment.status_code < 500
    item = db.session.get(Item, item.id)
    item.title = "Edited in a service"
    with pytest.raises(tracking.TrackingError, match="is being signed off"):
        db.session.flush()
    db.session.rollback()
    from tracker.tracking.models import Comment

    assert not db.session.scalar(sa.select(Comment.id).where(Comment.body == "Late comment"))
    # a second sign-off meanwhile is refused; once the report is stored, a third is told it is done
    with pytest.raises(tracking.TrackingError, match="is being signed off already"):
        tracking.sign_off(a.school, _year(a), a.members["head"].user, reviewed=True)
    db.session.rollback()
    assert reports.finish_now(a.school, _year(a), commit=db.session.commit)
    with pytest.raises(tracking.TrackingError, match="was already signed off"):
        tracking.sign_off(a.school, _year(a), a.members["head"].user, reviewed=True)
    db.session.rollback()
    assert _actions(a.school).count("year.sign_off_requested") == 1


def test_a_sign_off_whose_job_died_with_its_process_is_given_up(app):
    a, _ = build_worlds()
    tracking.sign_off(a.school, _year(a), a.members["head"].user, reviewed=True)  # no job is started
    db.session.commit()
    lead = sign_in(app.test_client(), a.members["lead"].user)
    assert "Signing…" in lead.get(_url(a)).get_data(as_text=True)  # within the report's time limit
    year = _year(a)
    year.sign_off_requested_at -= timedelta(seconds=2 * app.config["TRACKER_REPORT_TIMEOUT"] + 61)
    db.session.commit()
    html = lead.get(_url(a)).get_data(as_text=True)
    assert "stopped before it finished" in html and "What is still open" in html
    year = _year(a)
    assert year.sign_off_state == signing.OPEN and "year.sign_off_failed" in _actions(a.school)
