"""first-year setup: who holds each template role (role_holders), and an item's planned due date when it was
moved to catch up (items.planned_due_on)

Revision ID: c0ffee000091
Revises: c0ffee000061
Create Date: 2026-11-30 05:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000091"
down_revision = "c0ffee000061"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "role_holders",
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_role_holders_school_id_schools"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_holders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_holders")),
        sa.UniqueConstraint("school_id", "role", name=op.f("uq_role_holders_school_id_role")),
    )
    with op.batch_alter_table("role_holders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_holders_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_holders_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_due_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("planned_due_on")
    with op.batch_alter_table("role_holders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_holders_user_id"))
        batch_op.drop_index(batch_op.f("ix_role_holders_school_id"))
    op.drop_table("role_holders")
