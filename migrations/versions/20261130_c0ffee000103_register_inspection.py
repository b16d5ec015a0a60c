"""register inspection

Revision ID: c0ffee000103
Revises: c0ffee000102
Create Date: 2026-11-30 08:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000103"
down_revision = "c0ffee000102"
branch_labels = None
depends_on = None


def upgrade():
    # No schema change: the register page's queries already search by index (people by school_id, a page's
    # checks by ix_items_school_id_person_id); the gap filter reads the school's checks through
    # ix_items_school_id_* (about 13,000 rows for 500 staff), which an extra index would not avoid.
    pass


def downgrade():
    pass
