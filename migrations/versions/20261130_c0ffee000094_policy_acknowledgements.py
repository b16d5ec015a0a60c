"""policy documents, their versions and the append-only acknowledgements (staff read-and-sign)

Revision ID: c0ffee000094
Revises: c0ffee000093
Create Date: 2026-11-30 05:30:00

"""

import sqlalchemy as sa
from alembic import op

import tracker.db  # (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000094"
down_revision = "c0ffee000093"
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _scoped(table):
    return [
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk(table, "school_id", "schools", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    op.create_table(
        "policy_documents",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("audience_roles", sa.JSON(), nullable=False),
        sa.Column("audience_categories", sa.JSON(), nullable=False),
        sa.Column("button_text", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        _fk("policy_documents", "created_by_id", "users", "SET NULL"),
        *_scoped("policy_documents"),
    )
    op.create_index(op.f("ix_policy_documents_school_id"), "policy_documents", ["school_id"], unique=False)
    op.create_table(
        "policy_versions",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("stored_name", sa.String(length=32), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("published_by_id", sa.Uuid(), nullable=True),
        sa.Column("published_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_by_id", sa.Uuid(), nullable=True),
        sa.Column("withdrawn_at", tracker.db.UTCDateTime(), nullable=True),
        _fk("policy_versions", "document_id", "policy_documents", "CASCADE"),
        _fk("policy_versions", "published_by_id", "users", "SET NULL"),
        _fk("policy_versions", "withdrawn_by_id", "users", "SET NULL"),
        *_scoped("policy_versions"),
    )
    op.create_index(op.f("ix_policy_versions_school_id"), "policy_versions", ["school_id"], unique=False)
    op.create_index(op.f("ix_policy_versions_document_id"), "policy_versions", ["document_id"], unique=False)
    op.create_table(
        "policy_acknowledgements",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("entered_by_id", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", tracker.db.UTCDateTime(), nullable=False),
        _fk("policy_acknowledgements", "document_id", "policy_documents", "CASCADE"),
        _fk("policy_acknowledgements", "version_id", "policy_versions", "CASCADE"),
        _fk("policy_acknowledgements", "person_id", "people", "SET NULL"),
        _fk("policy_acknowledgements", "user_id", "users", "SET NULL"),
        _fk("policy_acknowledgements", "entered_by_id", "users", "SET NULL"),
        *_scoped("policy_acknowledgements"),
    )
    op.create_index(
        op.f("ix_policy_acknowledgements_school_id"), "policy_acknowledgements", ["school_id"], unique=False
    )
    op.create_index(
        op.f("ix_policy_acknowledgements_person_id"), "policy_acknowledgements", ["person_id"], unique=False
    )
    op.create_index(
        "ix_policy_acknowledgements_school_id_document_id",
        "policy_acknowledgements",
        ["school_id", "document_id"],
        unique=False,
    )


def downgrade():
    op.drop_table("policy_acknowledgements")
    op.drop_table("policy_versions")
    op.drop_table("policy_documents")
