"""waiting indexes

Open recruitment checks of a school by kind and status, then person and due date: "Waiting for you"'s checks
due before a start date (people/waiting.py) reads the school's open checks (about 1,800 of 12,000 items in a
500-staff school) instead of walking every item of the school through (school_id, person_id).

Revision ID: c0ffee000108
Revises: c0ffee000107
Create Date: 2026-11-30 15:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c0ffee000108"
down_revision = "c0ffee000107"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("items") as batch:
        batch.create_index(
            "ix_items_school_id_kind_status_person_id_due_on",
            ["school_id", "kind", "status", "person_id", "due_on"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_school_id_kind_status_person_id_due_on")
