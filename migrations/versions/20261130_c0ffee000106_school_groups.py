"""school groups

Revision ID: c0ffee000106
Revises: c0ffee000105
Create Date: 2026-11-30 08:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000106"
down_revision = "c0ffee000105"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_groups",
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_groups")),
        sa.UniqueConstraint("slug", name=op.f("uq_school_groups_slug")),
    )
    op.create_table(
        "group_memberships",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "role IN ('group_lead','group_hr','group_viewer')",
            name=op.f("ck_group_memberships_group_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["school_groups.id"],
            name=op.f("fk_group_memberships_group_id_school_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_group_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_memberships")),
        sa.UniqueConstraint("group_id", "user_id", name=op.f("uq_group_memberships_group_id_user_id")),
    )
    with op.batch_alter_table("group_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_memberships_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_memberships_user_id"), ["user_id"], unique=False)
    op.create_table(
        "group_items",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("section_title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("owner_role", sa.String(length=20), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["school_groups.id"],
            name=op.f("fk_group_items_group_id_school_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_items")),
    )
    with op.batch_alter_table("group_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_items_group_id"), ["group_id"], unique=False)
    op.create_table(
        "group_item_copies",
        sa.Column("group_item_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_item_id"],
            ["group_items.id"],
            name=op.f("fk_group_item_copies_group_item_id_group_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_group_item_copies_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_group_item_copies_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_item_copies")),
        sa.UniqueConstraint(
            "group_item_id", "school_id", name=op.f("uq_group_item_copies_group_item_id_school_id")
        ),
    )
    with op.batch_alter_table("group_item_copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_item_copies_group_item_id"), ["group_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_group_item_copies_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_item_copies_school_id"), ["school_id"], unique=False)
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_schools_group_id"), ["group_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_schools_group_id_school_groups"),
            "school_groups",
            ["group_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_schools_group_id_school_groups"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_schools_group_id"))
        batch_op.drop_column("group_id")
    op.drop_table("group_item_copies")
    op.drop_table("group_items")
    with op.batch_alter_table("group_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_group_memberships_group_id"))
    op.drop_table("group_memberships")
    op.drop_table("school_groups")
