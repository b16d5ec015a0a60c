"""school archive

Revision ID: c0ffee000105
Revises: c0ffee000104
Create Date: 2026-11-30 08:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db

# revision identifiers, used by Alembic.
revision = "c0ffee000105"
down_revision = "c0ffee000104"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "archive_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("stored_name", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("anchor", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", tracker.db.UTCDateTime(), nullable=True),
        sa.Column("expires_at", tracker.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_archive_jobs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_archive_jobs_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_jobs")),
    )
    with op.batch_alter_table("archive_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_jobs_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "ix_archive_jobs_school_id_created_at", ["school_id", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("archive_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_jobs_school_id_created_at")
        batch_op.drop_index(batch_op.f("ix_archive_jobs_school_id"))
    op.drop_table("archive_jobs")
