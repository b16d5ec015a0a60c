"""staff self-service: evidence and training sessions carry a verification state

Evidence a staff member adds to their own item, and a training certificate they submit themselves, is
"pending" until HR or the lead verifies it (or "rejected", with a reason). Every row that exists before this
migration was added by someone trusted to add it, so it counts as "verified" (the server default).

Revision ID: c0ffee000093
Revises: c0ffee000092
Create Date: 2026-11-30 05:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000093"
down_revision = "c0ffee000092"
branch_labels = None
depends_on = None


TABLES = ("evidence", "training_sessions")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("verification", sa.String(length=10), nullable=False, server_default="verified")
            )
            batch_op.add_column(sa.Column("reviewed_by_id", sa.Uuid(), nullable=True))
            batch_op.add_column(sa.Column("reviewed_at", tracker.db.UTCDateTime(), nullable=True))
            batch_op.add_column(
                sa.Column("rejected_reason", sa.String(length=500), nullable=False, server_default="")
            )
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_reviewed_by_id_users"),
                "users",
                ["reviewed_by_id"],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_reviewed_by_id_users"), type_="foreignkey")
            batch_op.drop_column("rejected_reason")
            batch_op.drop_column("reviewed_at")
            batch_op.drop_column("reviewed_by_id")
            batch_op.drop_column("verification")
