"""indexes for "Waiting for you": a member's own items by owner and due date

Revision ID: c0ffee000107
Revises: c0ffee000106
Create Date: 2026-11-30 09:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c0ffee000107"
down_revision = "c0ffee000106"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_school_id_owner_id")
        batch.create_index(
            "ix_items_school_id_owner_id_due_on", ["school_id", "owner_id", "due_on"], unique=False
        )


def downgrade():
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_school_id_owner_id_due_on")
        batch.create_index("ix_items_school_id_owner_id", ["school_id", "owner_id"], unique=False)
