"""Database core: base model with a constraint naming convention, the SchoolScoped mixin, scoped lookups, and
how SQLite transactions begin (writers wait for each other) and whether a request's commit was reached."""

import sqlite3
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import click
from flask import abort, current_app, g, has_app_context, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, ForeignKey, MetaData, Uuid, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(db.TypeDecorator):
    """A timestamp stored without zone and always read back as aware UTC (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


def given_form(column):
    """A function giving a UUID (not None) in the form the driver gives `column`'s values (as_given)."""
    process = column.type._cached_bind_processor(db.session.connection().dialect)
    return process if process is not None else (lambda value: value)


def as_given(column):
    """A UUID column read as the driver gives it (bulk reads that only match ids: the staff import)."""
    return db.type_coerce(column, UuidAsGiven())


class UuidAsGiven(db.TypeDecorator):
    """A UUID as the driver gives and takes it (on SQLite, 32 hex digits): no UUID made of each value read."""

    impl = Uuid
    cache_ok = True

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        return None


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UUIDPk:
    """A random UUID primary key, so ids in URLs cannot be guessed."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)


class SchoolScoped(UUIDPk):
    """A row that belongs to one school; every lookup of it must say which school."""

    @declared_attr
    def school_id(cls) -> Mapped[uuid.UUID]:
        #: the owning school; every index on a school-owned table starts with it
        return mapped_column(Uuid, ForeignKey("schools.id", ondelete="CASCADE"), nullable=False, index=True)


def get_for_school_or_404(model, object_id, school):
    """Load `model` by id only if it belongs to `school`; anything else is a 404."""
    if object_id is None:
        abort(404)
    obj = db.session.execute(
        db.select(model).where(model.id == object_id, model.school_id == school.id)
    ).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


#: request methods that only read: their SQLite transactions begin deferred, so reads run side by side (WAL)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: set in a request's WSGI environ when a read request is run again after SQLite said the database was busy
RETRY_IMMEDIATE = "tracker.sqlite_retry_immediate"
#: seconds a SQLite connection waits for another writer before giving up (TRACKER_SQLITE_BUSY_SECONDS)
DEFAULT_BUSY_SECONDS = 15.0
_immediate = ContextVar("sqlite_immediate", default=False)
#: `flask` commands that only read, or run for long (the server, the scheduler, a shell): deferred like pages
READ_ONLY_COMMANDS = frozenset({"list", "verify", "shell", "routes", "run"})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Turn on WAL, foreign keys and a busy timeout, and let SQLAlchemy own transactions (savepoints work)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    seconds = DEFAULT_BUSY_SECONDS
    if has_app_context():
        seconds = float(current_app.config.get("TRACKER_SQLITE_BUSY_SECONDS", DEFAULT_BUSY_SECONDS))
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _begin_immediately() -> bool:
    """Whether a SQLite transaction starting now should take the write lock at once (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for another writer: if anyone committed
    since its first read, SQLite refuses the write at once (SQLITE_BUSY_SNAPSHOT) whatever the busy timeout.
    So requests that change things (POST and the other unsafe methods), work inside `write_transactions()`
    (the scheduler's jobs), `flask` commands that write and reads being run again after such a refusal start
    immediate: they queue for the lock, up to the busy timeout. Reads (GET) stay deferred, side by side."""
    if _immediate.get():
        return True
    if has_request_context():
        return request.method not in SAFE_METHODS or bool(request.environ.get(RETRY_IMMEDIATE))
    command = click.get_current_context(silent=True)  # a `flask ...` command (its own thread only)
    return command is not None and command.info_name not in READ_ONLY_COMMANDS


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediately() else "BEGIN")


@contextmanager
def write_transactions():
    """Inside this block, SQLite transactions take the write lock when they begin, so a job that reads and
    then writes waits for other writers instead of failing. No effect on PostgreSQL."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def sqlite_busy(exc) -> bool:
    """Whether a database error is SQLite saying another connection holds the lock (SQLITE_BUSY, including
    the busy-snapshot refusal a deferred transaction gets when it tries to write after reading)."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == 5  # SQLITE_BUSY and its extended codes
    return orig is not None and "database is locked" in str(orig)


@event.listens_for(Engine, "commit")
def _commit_reached(conn):
    """Note that the request has sent a COMMIT: from here on, whether its changes were saved is not known
    until the commit returns, so an error page must not claim that nothing was saved."""
    if has_request_context():
        g._db_commit_sent = True


def commit_sent() -> bool:
    """Whether this request has sent a COMMIT to the database (see `_commit_reached`)."""
    return bool(g.get("_db_commit_sent")) if has_app_context() else False


class RetryBusyReads:
    """WSGI middleware: a read request (GET, HEAD) that SQLite refused because another connection was writing
    is run once more, with its transactions beginning immediate so this time it waits for the lock. The error
    handler marks such an answer (`RETRY_IMMEDIATE` in the environ); reads have no body to replay."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD", "GET") not in SAFE_METHODS:
            return self.wsgi_app(environ, start_response)
        held = []

        def hold(status, headers, exc_info=None):
            held[:] = [status, headers, exc_info]
            return lambda data: None  # the legacy write() callable: Flask never uses it

        result = self.wsgi_app(environ, hold)
        if environ.get(RETRY_IMMEDIATE) == "asked":
            if hasattr(result, "close"):
                result.close()
            environ[RETRY_IMMEDIATE] = "running"
            return self.wsgi_app(environ, start_response)
        start_response(*held)
        return result


#: database objects made by hand in migrations (full-text search) that the models do not describe
UNMODELLED = ("resource_fts", "ix_resources_search")


def include_object(obj, name, type_, reflected, compare_to):
    """Alembic filter: leave the hand-made full-text search objects out of autogenerate."""
    return not (name or "").startswith(UNMODELLED)


def refresh_planner_statistics() -> None:
    """Give the query planner fresh statistics (ANALYZE). Without them SQLite picks indexes by guesswork: a
    member's own items were read through the due-date index, walking every item of the school due before a
    date. A full ANALYZE, not a sample: with `analysis_limit` the sampled statistics made the dashboard twice
    as slow (bench/profiling.md); the full one takes a fraction of a second for a 500-staff school.
    PostgreSQL's autovacuum analyzes on its own; this makes it happen now. Run nightly by the scheduler and by
    `flask analyze`."""
    db.session.connection().exec_driver_sql("ANALYZE")
