"""school term dates: the terms of each school year (tracker/tracking/terms.py)

Revision ID: c0ffee000097
Revises: c0ffee000096
Create Date: 2026-11-30 06:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000097"
down_revision = "c0ffee000096"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_terms",
        sa.Column("year_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_terms_school_id_schools"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["year_id"],
            ["school_years.id"],
            name=op.f("fk_school_terms_year_id_school_years"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_terms")),
        sa.UniqueConstraint("year_id", "position", name=op.f("uq_school_terms_year_id_position")),
    )
    with op.batch_alter_table("school_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_terms_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_terms_year_id"), ["year_id"], unique=False)


def downgrade():
    with op.batch_alter_table("school_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_terms_year_id"))
        batch_op.drop_index(batch_op.f("ix_school_terms_school_id"))
    op.drop_table("school_terms")
