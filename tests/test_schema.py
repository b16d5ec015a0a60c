"""The schema built by running the migrations is exactly the one the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tracker.db import include_object
from tracker.extensions import db


def test_migrations_build_the_schema_the_models_describe(app):
    """Autogenerate against the migrated database finds nothing to add, drop or alter."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_every_table_is_created_by_migrations(app):
    with db.engine.connect() as conn:
        existing = set(db.inspect(conn).get_table_names())
    assert set(db.metadata.tables) <= existing
