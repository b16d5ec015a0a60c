"""library documents (resource_files), superseded resources, search synonyms, country items, language codes

Revision ID: c0ffee000095
Revises: c0ffee000094
Create Date: 2026-11-30 05:40:00

The data step rewrites stored language tags from names ("Chinese", "Chinese (Simplified)") to the library's
codes ("zh-Hans"), so one language is one filter; the downgrade writes the names back.
"""

import sqlalchemy as sa
from alembic import op

import tracker.db

# revision identifiers, used by Alembic.
revision = "c0ffee000095"
down_revision = "c0ffee000094"
branch_labels = None
depends_on = None

#: the names written before the vocabulary -> its codes (frozen here: the migration must not follow the code)
NAME_TO_CODE = {
    "English": "en",
    "Arabic": "ar",
    "Chinese": "zh-Hans",
    "Chinese (Simplified)": "zh-Hans",
    "Simplified Chinese": "zh-Hans",
    "Chinese (Traditional)": "zh-Hant",
    "French": "fr",
    "German": "de",
    "Japanese": "ja",
    "Korean": "ko",
    "Portuguese": "pt",
    "Russian": "ru",
    "Spanish": "es",
    "Thai": "th",
    "Vietnamese": "vi",
}
CODE_TO_NAME = {
    "en": "English",
    "ar": "Arabic",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
    "fr": "French",
    "de": "German",
    "ja": "Japanese",
    "ko": "Korean",
    "pt": "Portuguese",
    "ru": "Russian",
    "es": "Spanish",
    "th": "Thai",
    "vi": "Vietnamese",
}

tags = sa.table(
    "resource_tags",
    sa.column("resource_id", sa.Uuid()),
    sa.column("kind", sa.String(10)),
    sa.column("value", sa.String(100)),
)


def _rename_languages(mapping):
    conn = op.get_bind()
    rows = conn.execute(sa.select(tags.c.resource_id, tags.c.value).where(tags.c.kind == "language")).all()
    have = {(r.resource_id, r.value) for r in rows}
    for resource_id, value in rows:
        new = mapping.get(value)
        if new is None or new == value:
            continue
        where = (tags.c.resource_id == resource_id) & (tags.c.kind == "language") & (tags.c.value == value)
        if (resource_id, new) in have:
            conn.execute(tags.delete().where(where))
        else:
            conn.execute(tags.update().where(where).values(value=new))
            have.add((resource_id, new))
        have.discard((resource_id, value))


def upgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by_key", sa.String(length=80), nullable=True))

    op.create_table(
        "library_synonyms",
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("group_key", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_library_synonyms")),
    )
    with op.batch_alter_table("library_synonyms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_synonyms_group_key"), ["group_key"], unique=False)

    op.create_table(
        "library_country_items",
        sa.Column("requirement", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("requirement", name=op.f("pk_library_country_items")),
    )

    op.create_table(
        "resource_files",
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("stored_name", sa.String(length=32), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("added_by_id", sa.Uuid(), nullable=True),
        sa.Column("added_at", tracker.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_resource_files_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_resource_files_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_resource_files_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_files")),
    )
    with op.batch_alter_table("resource_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_files_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "ix_resource_files_resource_id_school_id", ["resource_id", "school_id"], unique=False
        )

    _rename_languages(NAME_TO_CODE)


def downgrade():
    _rename_languages(CODE_TO_NAME)
    with op.batch_alter_table("resource_files", schema=None) as batch_op:
        batch_op.drop_index("ix_resource_files_resource_id_school_id")
        batch_op.drop_index(batch_op.f("ix_resource_files_school_id"))
    op.drop_table("resource_files")
    op.drop_table("library_country_items")
    with op.batch_alter_table("library_synonyms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_synonyms_group_key"))
    op.drop_table("library_synonyms")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("superseded_by_key")
