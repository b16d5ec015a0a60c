"""Database core: base model with a constraint naming convention, the SchoolScoped mixin, scoped lookups."""
import uuid
from datetime import UTC, datetime

from flask import abort
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


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Turn on WAL, foreign keys and a busy timeout, and let SQLAlchemy own transactions (savepoints work)."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


#: database objects made by hand in migrations (full-text search) that the models do not describe
UNMODELLED = ("resource_fts", "ix_resources_search")


def include_object(obj, name, type_, reflected, compare_to):
    """Alembic filter: leave the hand-made full-text search objects out of autogenerate."""
    return not (name or "").startswith(UNMODELLED)
