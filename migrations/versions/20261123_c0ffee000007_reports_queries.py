"""reports (signed reports, accreditor queries)

Revision ID: c0ffee000007
Revises: c0ffee000006
Create Date: 2026-11-23 09:00:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000007"
down_revision = "c0ffee000006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reports",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("change_stamp", sa.String(length=64), server_default="", nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", tracker.db.UTCDateTime(), nullable=True),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_reports_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_reports_school_id_schools"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["year_id"], ["school_years.id"], name=op.f("fk_reports_year_id_school_years"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "ix_reports_school_id_kind_subject_data_hash",
            ["school_id", "kind", "subject", "data_hash"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reports_school_id_year_id_frozen", ["school_id", "year_id", "frozen"], unique=False
        )

    op.create_table(
        "review_queries",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("raised_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_review_queries_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["users.id"],
            name=op.f("fk_review_queries_raised_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_review_queries_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_queries")),
    )
    with op.batch_alter_table("review_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_queries_school_id"), ["school_id"], unique=False)
        batch_op.create_index("ix_review_queries_school_id_item_id", ["school_id", "item_id"], unique=False)
        batch_op.create_index("ix_review_queries_school_id_state", ["school_id", "state"], unique=False)

    op.create_table(
        "review_messages",
        sa.Column("query_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_review_messages_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["review_queries.id"],
            name=op.f("fk_review_messages_query_id_review_queries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_review_messages_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_messages")),
    )
    with op.batch_alter_table("review_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_messages_query_id"), ["query_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_messages_school_id"), ["school_id"], unique=False)


def downgrade():
    with op.batch_alter_table("review_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_messages_school_id"))
        batch_op.drop_index(batch_op.f("ix_review_messages_query_id"))

    op.drop_table("review_messages")
    with op.batch_alter_table("review_queries", schema=None) as batch_op:
        batch_op.drop_index("ix_review_queries_school_id_state")
        batch_op.drop_index("ix_review_queries_school_id_item_id")
        batch_op.drop_index(batch_op.f("ix_review_queries_school_id"))

    op.drop_table("review_queries")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_school_id_year_id_frozen")
        batch_op.drop_index("ix_reports_school_id_kind_subject_data_hash")
        batch_op.drop_index(batch_op.f("ix_reports_school_id"))

    op.drop_table("reports")
