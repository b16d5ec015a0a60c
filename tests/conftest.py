"""Test fixtures: one migrated database per run (SQLite, or PostgreSQL when TRACKER_TEST_DATABASE_URL is set),
each test inside a transaction that is rolled back, factories for schools, users and members."""

import os
import smtplib
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id

from tracker import create_app
from tracker.extensions import db, limiter
from tracker.passwords import set_hasher_for_tests

PASSWORD = "correct horse battery"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def pytest_configure(config):
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (`<name>_gw0`, ...).

    The variable is rewritten before any fixture reads it, so every fixture that derives a database from
    it (the browser tests' live server, the process tests' scratch databases) is per worker too.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not (worker and url) or f"_{worker}" in url:
        return
    from .databases import fresh_postgres

    os.environ["TRACKER_TEST_DATABASE_URL"] = fresh_postgres(url, f"_{worker}")


def _database_url(tmp_path_factory):
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset_postgres(url):
    """Empty the test database: it is named for tests, so everything in it may go."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        _reset_postgres(url)
    return url


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context (so its own `g` and db session),
    as in production; without this, Flask reuses the test's app context and state leaks between requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    set_hasher_for_tests(CHEAP_HASHER)
    app = create_app(
        {
            "TESTING": True,
            # tests change rows directly, without audit events; test_page_cache turns it on
            "TRACKER_PAGE_CACHE": False,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": "tracker.test",
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()  # the schema comes from the migrations, so every run exercises them
        from tracker.seeding import seed_all

        seed_all(app.config["TRACKER_SEEDS_DIR"])  # the shared library and frameworks, as `make run` has them
        db.session.commit()
        db.session.remove()
    return app


def _session_on(connection):
    """A scoped session on `connection` whose commits are savepoint releases (the transaction stays open)."""
    return sa.orm.scoped_session(
        sa.orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )


class _SharedRows:
    """Rows a module builds once for its tests (see `shared_rows`): the connection they were built on, still
    in its transaction, and the files they wrote (path -> bytes), put back after a test removed one."""

    def __init__(self, connection, files):
        self.connection = connection
        self.files = files

    def restore_files(self):
        for path, data in self.files.items():
            if not (path.is_file() and path.stat().st_size == len(data)):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)


#: fixture name -> the rows it shares, while its module runs (see `shared_rows`); one module at a time
_SHARED = {}


def _stored_files(app):
    found = set()
    for key in ("TRACKER_EVIDENCE_DIR", "TRACKER_ARCHIVE_DIR"):
        root = Path(app.config[key])
        if root.is_dir():
            found.update(path for path in root.rglob("*") if path.is_file())
    return found


@contextmanager
def shared_rows(app, name, build):
    """For a module-scoped fixture called `name`: run `build()` once, commit, and yield what it returned.

    Building the same rows for each of hundreds of tests was most of their time; instead each test of the
    module from then on runs in a savepoint of the connection the rows were built on (not a connection of its
    own), rolled back after the test, so each test sees the rows exactly as built, whatever the one before
    did. The rows are gone when the module ends. Files the build stored (evidence, archives) are written
    again after a test that removed them. ORM objects in the result are detached: `world.attached` loads a
    world's rows in the test's own session."""
    assert not _SHARED, "one module's shared rows at a time"
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = _session_on(connection)
        before = _stored_files(app)
        try:
            built = build()
            db.session.commit()
        except BaseException:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
            raise
        db.session.remove()
        db.session = original
        files = {path: path.read_bytes() for path in _stored_files(app) - before}
    _SHARED[name] = _SharedRows(connection, files)
    try:
        yield built
    finally:
        del _SHARED[name]
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _transaction(app):
    """Run each test in a transaction that is rolled back; app commits become savepoint releases.

    While a module's shared rows exist (`shared_rows`), its tests run in a savepoint of their connection: one
    connection writes (SQLite lets only one hold the write lock) and each test sees the rows as built."""
    shared = next(iter(_SHARED.values()), None)
    with app.app_context():
        if shared is None:
            connection = db.engine.connect()
            outer = connection.begin()
        else:
            connection = shared.connection
            outer = connection.begin_nested()
        original = db.session
        db.session = _session_on(connection)
        limiter.reset()
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            if shared is None:
                connection.close()
            else:
                shared.restore_files()


@pytest.fixture(scope="module")
def shared_worlds(app):
    """The two-school world (tests/world.py) built once for the module's tests that use `worlds`."""
    from .world import build_worlds

    with shared_rows(app, "shared_worlds", build_worlds) as built:
        yield built


@pytest.fixture
def worlds(shared_worlds, _transaction):
    """(A, B) as `world.build_worlds()` returns them, built once per module: each test gets them as built
    (its changes are rolled back), their rows loaded in the test's session."""
    from .world import attached

    return tuple(attached(world) for world in shared_worlds)


@pytest.fixture(autouse=True)
def _no_smtp(request, monkeypatch):
    """Only tests marked `smtp` may open an SMTP connection."""
    if "smtp" in request.keywords:
        return

    def refuse(*args, **kwargs):
        raise AssertionError("this test tried to open an SMTP connection")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_school():
    from tracker.schools.services import create_school

    def make(slug=None, name=None, **kwargs):
        slug = slug or f"school-{uuid.uuid4().hex[:8]}"
        kwargs.setdefault("require_two_factor", False)  # tests of two-factor sign-in ask for it
        school = create_school(slug=slug, name=name or f"School {slug}", **kwargs)
        db.session.commit()
        return school

    return make


@pytest.fixture
def make_user():
    from tracker.auth.models import User
    from tracker.passwords import hash_password

    def make(email=None, password=PASSWORD, name="", **kwargs):
        user = User(
            email=(email or f"user-{uuid.uuid4().hex[:8]}@example.org").lower(),
            name=name,
            password_hash=hash_password(password),
            **kwargs,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_member(make_user):
    from tracker.tenancy import ACCREDITOR, Membership

    def make(school, role, user=None, access_until=None, **user_kwargs):
        user = user or make_user(**user_kwargs)
        if role == ACCREDITOR and access_until is None:
            access_until = date(2999, 1, 1)
        membership = Membership(school_id=school.id, user_id=user.id, role=role, access_until=access_until)
        db.session.add(membership)
        db.session.commit()
        return membership

    return make


def login(client, email, password=PASSWORD, remember=False, follow=False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, follow_redirects=follow)


@pytest.fixture
def login_as(client):
    """Sign the test client in as the membership's (or user's) user."""

    def sign_in(who, password=PASSWORD, remember=False):
        user = getattr(who, "user", who)
        response = login(client, user.email, password, remember=remember)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


def audit_count():
    from tracker.audit import AuditEvent

    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


@pytest.fixture
def page_cache_on(app, monkeypatch):
    """The page cache on (tests run with it off), empty before and after the test."""
    from tracker import pagecache

    monkeypatch.setitem(app.config, "TRACKER_PAGE_CACHE", True)
    pagecache.fragments.clear()
    yield
    pagecache.fragments.clear()


@pytest.fixture
def statements(app):
    """Every SQL statement the engine runs while the test does, whitespace collapsed (a list, in order)."""
    seen = []

    def listen(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", listen)
