"""identity: invitation and password-reset mail through the outbox (a reset needs no school)

Revision ID: c0ffee000098
Revises: c0ffee000097
Create Date: 2026-11-30 06:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000098"
down_revision = "c0ffee000097"
branch_labels = None
depends_on = None


def upgrade():
    # a password-reset e-mail belongs to no school: outbox_messages.school_id may be empty
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("school_id", existing_type=sa.Uuid(), nullable=True)


def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE school_id IS NULL")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("school_id", existing_type=sa.Uuid(), nullable=False)
