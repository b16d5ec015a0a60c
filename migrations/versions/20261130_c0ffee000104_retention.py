"""retention

Revision ID: c0ffee000104
Revises: c0ffee000103
Create Date: 2026-11-30 08:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000104"
down_revision = "c0ffee000103"
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _scoped(table):
    return [
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk(table, "school_id", "schools", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    op.create_table(
        "retention_rules",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", tracker.db.UTCDateTime(), nullable=False),
        _fk("retention_rules", "updated_by_id", "users", "SET NULL"),
        *_scoped("retention_rules"),
        sa.UniqueConstraint("school_id", "kind", name=op.f("uq_retention_rules_school_id_kind")),
    )
    op.create_index(op.f("ix_retention_rules_school_id"), "retention_rules", ["school_id"], unique=False)
    op.create_table(
        "retention_holds",
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by_id", sa.Uuid(), nullable=True),
        sa.Column("placed_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("lifted_by_id", sa.Uuid(), nullable=True),
        sa.Column("lifted_at", tracker.db.UTCDateTime(), nullable=True),
        _fk("retention_holds", "placed_by_id", "users", "SET NULL"),
        _fk("retention_holds", "lifted_by_id", "users", "SET NULL"),
        *_scoped("retention_holds"),
    )
    op.create_index(op.f("ix_retention_holds_school_id"), "retention_holds", ["school_id"], unique=False)
    op.create_index(
        "ix_retention_holds_school_id_record_id", "retention_holds", ["school_id", "record_id"], unique=False
    )
    op.create_table(
        "pending_file_deletions",
        sa.Column("stored_name", sa.String(length=32), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        *_scoped("pending_file_deletions"),
    )
    op.create_index(
        op.f("ix_pending_file_deletions_school_id"), "pending_file_deletions", ["school_id"], unique=False
    )
    op.create_table(
        "retention_tombstones",
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Uuid(), nullable=True),
        sa.Column("at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        _fk("retention_tombstones", "by_id", "users", "SET NULL"),
        *_scoped("retention_tombstones"),
    )
    op.create_index(
        op.f("ix_retention_tombstones_school_id"), "retention_tombstones", ["school_id"], unique=False
    )
    op.create_index(
        "ix_retention_tombstones_school_id_record_id",
        "retention_tombstones",
        ["school_id", "record_id"],
        unique=False,
    )


def downgrade():
    op.drop_table("retention_tombstones")
    op.drop_table("pending_file_deletions")
    op.drop_table("retention_holds")
    op.drop_table("retention_rules")
