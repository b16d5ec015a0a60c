"""The database goes away mid-request: the answer is a clean 503 with Retry-After, and nothing is saved.

Throw-away routes on an app of this module's own (routes cannot be added to the shared app once it has served
a request) raise the errors SQLAlchemy raises when PostgreSQL restarts or SQLite cannot be opened; two tests
make a real page's statements fail instead.
"""

import html
import os
import sqlite3

import pytest
import sqlalchemy as sa
from flask import Blueprint, g, request
from flask_login import current_user

from tracker import create_app
from tracker.access import public, school_roles
from tracker.audit import AuditEvent
from tracker.db import RETRY_IMMEDIATE
from tracker.extensions import db
from tracker.schools.models import Invitation
from tracker.schools.services import create_school
from tracker.tenancy import School, init_school_blueprint

from .conftest import IsolatedClient, login


def db_url():
    return os.environ.get("TRACKER_TEST_DATABASE_URL", "")


MESSAGE = "The database is not reachable right now. Nothing was saved; try again in a minute."
#: a page (GET) saves nothing, so its 503 says the page could not be loaded instead
NOT_LOADED = (
    "The database is not reachable right now, so this page could not be loaded. Try again in a minute."
)
#: a change whose COMMIT was sent but never answered may have been saved: the page must not say it was not
MAYBE_SAVED = (
    "The database is not reachable right now. It stopped answering while your change was being "
    "saved, so it may or may not have been saved: in a minute, reload the page to check before you "
    "send it again."
)
JSON = {"Accept": "application/json"}


def _driver_error(text="server closed the connection unexpectedly"):
    """What the driver raises when the server goes away: psycopg's OperationalError, else sqlite3's."""
    try:
        import psycopg

        return psycopg.OperationalError(text)
    except ImportError:  # pragma: no cover
        return sqlite3.OperationalError(text)


ERRORS = {
    "psycopg": lambda: sa.exc.OperationalError("SELECT 1", {}, _driver_error()),
    "sqlite": lambda: sa.exc.OperationalError(
        "SELECT 1", {}, sqlite3.OperationalError("unable to open database file")
    ),
    # any other driver error that SQLAlchemy recognised as a lost connection
    "invalidated": lambda: sa.exc.InterfaceError(
        "SELECT 1", {}, Exception("connection already closed"), connection_invalidated=True
    ),
}


@pytest.fixture(scope="module")
def outage_app(app):
    """An app like the shared one, plus routes that fail the way an unreachable database makes them fail."""
    config = {
        key: app.config[key]
        for key in (
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "RATELIMIT_STORAGE_URI",
            "SERVER_NAME",
            "WTF_CSRF_ENABLED",
        )
    }
    # PROPAGATE_EXCEPTIONS off: errors the handlers do not catch become 500 pages, as in production
    outage = create_app(
        {**config, "TESTING": True, "PROPAGATE_EXCEPTIONS": False, "INSTANCE_PATH": app.instance_path}
    )
    outage.test_client_class = IsolatedClient

    @outage.route("/_outage/save/<kind>", methods=["POST"])
    @public
    def save_then_fail(kind):
        create_school(slug=f"outage-{kind}", name="Saved before the database went away")
        db.session.flush()  # the row is written in the transaction: only the rollback can take it away
        raise ERRORS[kind]()

    @outage.route("/_outage/integrity", methods=["POST"])
    @public
    def integrity():
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    @outage.route("/_outage/cut-after-answer")
    @public
    def cut_after_answer():
        db.session.execute(sa.select(1))
        session = db.session()
        close = session.close

        def cut():  # ending the session fails as it does when the server has cut the connection meanwhile
            close()
            raise ERRORS["psycopg"]()

        session.close = cut
        return "answered"

    @outage.route("/_outage/terminated-after-answer")
    @public
    def terminated_after_answer():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as other:  # what a fast shutdown does to every backend
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                if not other.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar():
                    break
        return "answered"

    @outage.route("/_outage/commit-lost", methods=["POST"])
    @public
    def commit_lost():
        """The COMMIT is sent and the connection drops before the answer: the save may or may not be in."""
        create_school(slug="outage-commit", name="Sent to COMMIT when the database went away")
        engine = db.session.get_bind()

        def cut(conn):
            raise ERRORS["psycopg"]()

        sa.event.listen(engine, "commit", cut)
        try:
            db.session.commit()
        finally:
            sa.event.remove(engine, "commit", cut)
        return "saved"

    busy_calls = outage.config["BUSY_CALLS"] = []

    @outage.route("/_outage/busy-once", methods=["GET", "POST"])
    @public
    def busy_once():
        """SQLite refuses the first attempt (another connection is writing), as a read that writes can."""
        busy_calls.append(request.environ.get(RETRY_IMMEDIATE))
        if len(busy_calls) == 1:
            raise sa.exc.OperationalError(
                "INSERT INTO audit_events", {}, sqlite3.OperationalError("database is locked")
            )
        return f"read again, waiting for the lock: {busy_calls}"

    late = Blueprint("outage_late", __name__)

    @late.route("/_outage/late")
    @public
    def late_page():
        return "drawn, then the database went away"

    @late.after_request
    def fail_after(response):
        raise ERRORS["psycopg"]()

    outage.register_blueprint(late)

    school_bp = init_school_blueprint(Blueprint("outage_school", __name__, url_prefix="/s/<school>/_outage"))

    @school_bp.route("/")
    @school_roles("lead")
    def school_page():
        assert (
            g.school is not None and current_user.is_authenticated
        )  # both loaded, then expired by the rollback
        raise ERRORS["psycopg"]()

    outage.register_blueprint(school_bp)
    return outage


@pytest.fixture
def browser(outage_app):
    return outage_app.test_client()


def text(response):
    return html.unescape(response.get_data(as_text=True))


def count(model, *where):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def assert_unreachable_page(response, message=MESSAGE):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html"
    page = text(response)
    assert message in page
    if message != MESSAGE:
        assert "Nothing was saved" not in page
    assert "Error 503" in page and "Safeguarding Tracker" in page  # the app's own error page, not a bare one


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_an_unreachable_database_is_a_503_page_and_the_request_saved_nothing(browser, kind):
    schools, audits = count(School), count(AuditEvent)
    response = browser.post(f"/_outage/save/{kind}")
    assert_unreachable_page(response)
    assert count(School, School.slug == f"outage-{kind}") == 0
    assert (count(School), count(AuditEvent)) == (schools, audits)


def test_the_json_answer_carries_the_same_message_and_header(browser):
    response = browser.post("/_outage/save/psycopg", headers=JSON)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["detail"] == MESSAGE
    assert count(School, School.slug == "outage-psycopg") == 0


def test_a_rollback_that_fails_too_still_answers_503_and_saves_nothing(browser, monkeypatch):
    def gone():
        raise sa.exc.OperationalError("ROLLBACK", {}, _driver_error("no connection to the server"))

    monkeypatch.setattr(db.session, "rollback", gone)
    response = browser.post("/_outage/save/psycopg")
    monkeypatch.undo()
    assert_unreachable_page(response)
    assert (
        count(School, School.slug == "outage-psycopg") == 0
    )  # the session was discarded at the end of the request


def test_a_signed_in_school_page_is_drawn_without_the_database(browser, make_school, make_member):
    school = make_school()
    lead = make_member(school, "lead")
    assert login(browser, lead.user.email).status_code == 302
    response = browser.get(f"/s/{school.slug}/_outage/")
    assert_unreachable_page(response, NOT_LOADED)
    assert school.name not in text(
        response
    )  # the expired school is not reloaded from a database that is gone


def test_a_database_error_after_the_view_is_a_503_too(browser):
    assert_unreachable_page(browser.get("/_outage/late"), NOT_LOADED)


def test_a_connection_cut_after_the_last_statement_does_not_spoil_the_answer(browser):
    response = browser.get("/_outage/cut-after-answer")
    assert (response.status_code, text(response)) == (200, "answered")


@pytest.mark.skipif(
    not db_url().startswith("postgresql"), reason="PostgreSQL only: a server that cuts connections"
)
def test_a_backend_terminated_after_the_last_statement_does_not_spoil_the_answer(browser, monkeypatch):
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))  # a real session: its connection is cut
    response = browser.get("/_outage/terminated-after-answer")
    assert (response.status_code, text(response)) == (200, "answered")


def test_other_database_errors_keep_their_500(browser):
    response = browser.post("/_outage/integrity")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert MESSAGE not in text(response)


@pytest.fixture
def failing_statements():
    """Make statements of the test's connection fail as if the server had gone: fail(predicate) arms it."""
    connection = db.session.connection()
    seen = []
    armed = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        if armed and armed[0](statement):
            raise sa.exc.OperationalError(statement, parameters, _driver_error())

    def fail(predicate):
        """From now on, a statement for which predicate(sql) is true fails; returns the statements run."""
        seen.clear()
        armed.append(predicate)
        return seen

    sa.event.listen(connection, "before_cursor_execute", before)
    yield fail
    sa.event.remove(connection, "before_cursor_execute", before)


def test_a_real_page_whose_queries_fail_is_a_503(browser, make_school, make_member, failing_statements):
    school = make_school()
    lead = make_member(school, "lead")
    assert login(browser, lead.user.email).status_code == 302
    failing_statements(
        lambda statement: True
    )  # from signing the user in onwards, nothing reaches the database
    assert_unreachable_page(browser.get(f"/s/{school.slug}/"), NOT_LOADED)


def test_a_form_cut_off_halfway_through_its_writes_saves_nothing(
    browser, make_school, make_member, failing_statements
):
    school = make_school()
    lead = make_member(school, "lead")
    assert login(browser, lead.user.email).status_code == 302
    invitations, audits = count(Invitation), count(AuditEvent)
    seen = failing_statements(lambda statement: statement.startswith("INSERT INTO audit_events"))
    response = browser.post(
        f"/s/{school.slug}/members/invite", data={"email": "new@example.org", "role": "staff"}
    )
    assert_unreachable_page(response)
    assert any(s.startswith("INSERT INTO invitations") for s in seen)  # the invitation was written, then ...
    assert (count(Invitation), count(AuditEvent)) == (invitations, audits)  # ... rolled back with the rest


def test_a_change_whose_commit_went_unanswered_is_not_said_to_be_unsaved(browser, monkeypatch):
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))  # a real session: its COMMIT is sent
    response = browser.post("/_outage/commit-lost")
    assert_unreachable_page(response, MAYBE_SAVED)
    json = browser.post("/_outage/commit-lost", headers=JSON)
    assert (json.status_code, json.get_json()["detail"]) == (503, MAYBE_SAVED)


def test_a_read_that_sqlite_refused_because_someone_was_writing_is_run_again_and_waits(browser, outage_app):
    calls = outage_app.config["BUSY_CALLS"]
    calls.clear()
    response = browser.get("/_outage/busy-once")
    assert (response.status_code, calls) == (200, [None, "running"])  # the second run begins immediate


def test_a_change_that_sqlite_kept_waiting_too_long_is_a_503_that_says_nothing_was_saved(browser, outage_app):
    calls = outage_app.config["BUSY_CALLS"]
    calls.clear()
    response = browser.post("/_outage/busy-once")
    assert (response.status_code, calls) == (503, [None])  # a form is never sent twice behind the user's back
    page = text(response)
    assert "busy with other people's changes right now. Nothing was saved" in page
