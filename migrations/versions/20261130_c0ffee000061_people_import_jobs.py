"""people import jobs: a confirmed register import too large for one request runs in the background

Revision ID: c0ffee000061
Revises: c0ffee000071
Create Date: 2026-11-30 02:40:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000061"
down_revision = "c0ffee000071"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "people_import_jobs",
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", tracker.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", tracker.db.UTCDateTime(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_people_import_jobs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_people_import_jobs_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_import_jobs")),
    )
    with op.batch_alter_table("people_import_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_import_jobs_school_id"), ["school_id"], unique=False)


def downgrade():
    with op.batch_alter_table("people_import_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_import_jobs_school_id"))

    op.drop_table("people_import_jobs")
