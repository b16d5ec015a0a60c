"""one duty, one item across frameworks: requirements.same_as, frameworks.source

Revision ID: c0ffee000096
Revises: c0ffee000095
Create Date: 2026-11-30 06:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000096"
down_revision = "c0ffee000095"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("requirements") as batch:
        batch.add_column(sa.Column("same_as", sa.String(length=170), server_default="", nullable=False))
    with op.batch_alter_table("frameworks") as batch:
        batch.add_column(sa.Column("source", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("frameworks") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("requirements") as batch:
        batch.drop_column("same_as")
