"""sign-in sessions expire: last-seen time and the "keep me signed in" flag on login_sessions

Existing rows count as seen when they were opened and as not remembered, so after the upgrade a session
idle for longer than TRACKER_SESSION_IDLE_MINUTES (or older than TRACKER_SESSION_MAX_DAYS) is refused.

Revision ID: c0ffee000081
Revises: c0ffee000008
Create Date: 2026-11-30 02:10:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000081"
down_revision = "c0ffee000008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", tracker.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("remembered", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE login_sessions SET last_seen_at = created_at")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.alter_column("last_seen_at", existing_type=tracker.db.UTCDateTime(), nullable=False)
        batch_op.alter_column("remembered", existing_type=sa.Boolean(), server_default=None)


def downgrade():
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_column("remembered")
        batch_op.drop_column("last_seen_at")
