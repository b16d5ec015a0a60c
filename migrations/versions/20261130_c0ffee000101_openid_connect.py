"""openid connect: the e-mail domains a school accepts for sign-in with Google or Microsoft

Revision ID: c0ffee000101
Revises: c0ffee000100
Create Date: 2026-11-30 08:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db

# revision identifiers, used by Alembic.
revision = "c0ffee000101"
down_revision = "c0ffee000100"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_sign_in_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_sign_in_domains_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_sign_in_domains")),
        sa.UniqueConstraint("school_id", "domain", name=op.f("uq_school_sign_in_domains_school_id_domain")),
    )
    with op.batch_alter_table("school_sign_in_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_sign_in_domains_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_school_sign_in_domains_school_id"), ["school_id"], unique=False)


def downgrade():
    with op.batch_alter_table("school_sign_in_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_sign_in_domains_school_id"))
        batch_op.drop_index(batch_op.f("ix_school_sign_in_domains_domain"))
    op.drop_table("school_sign_in_domains")
