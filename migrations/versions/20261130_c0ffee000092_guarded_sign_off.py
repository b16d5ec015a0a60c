"""guarded sign-off: a school year's sign-off state (open, signing, signed), the head's comment, when it was
asked for and the background job that freezes its report

Revision ID: c0ffee000092
Revises: c0ffee000091
Create Date: 2026-11-30 05:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000092"
down_revision = "c0ffee000091"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("school_years") as batch_op:
        batch_op.add_column(
            sa.Column("sign_off_state", sa.String(length=20), server_default="open", nullable=False)
        )
        batch_op.add_column(sa.Column("sign_off_comment", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("sign_off_requested_at", tracker.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sign_off_job_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("sign_off_error", sa.Text(), server_default="", nullable=False))
    op.execute("UPDATE school_years SET sign_off_state = 'signed' WHERE signed_off_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table("school_years") as batch_op:
        batch_op.drop_column("sign_off_error")
        batch_op.drop_column("sign_off_job_id")
        batch_op.drop_column("sign_off_requested_at")
        batch_op.drop_column("sign_off_comment")
        batch_op.drop_column("sign_off_state")
