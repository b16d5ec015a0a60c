"""recruitment checks

Revision ID: c0ffee000102
Revises: c0ffee000101
Create Date: 2026-11-30 08:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000102"
down_revision = "c0ffee000101"
branch_labels = None
depends_on = None


HOST_DUPLICATE_REASON = (
    "The host country's police check is its own check on this person's list; this duplicate is not needed."
)


def upgrade():
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("leave_reason", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("leave_note", sa.String(length=500), server_default="", nullable=False))

    op.create_table(
        "check_records",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("document_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("document_reference", sa.String(length=200), server_default="", nullable=False),
        sa.Column("covers", sa.String(length=500), server_default="", nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_check_records_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_check_records_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_records")),
        sa.UniqueConstraint("item_id", name=op.f("uq_check_records_item_id")),
    )
    with op.batch_alter_table("check_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_records_school_id"), ["school_id"], unique=False)

    _host_country_duplicates()


def _host_country_duplicates():
    """The host country's police check appeared twice (the host-country check and again per country): the
    per-country duplicate of a person who also has the host-country check is marked not required (never
    deleted: it may hold evidence), unless it was already verified."""
    from tracker.people.countries import canonical

    bind = op.get_bind()
    school_rows = sa.table("schools", sa.column("id", sa.Uuid()), sa.column("country", sa.String()))
    schools = bind.execute(sa.select(school_rows.c.id, school_rows.c.country)).all()
    items = sa.table(
        "items",
        sa.column("id", sa.Uuid()),
        sa.column("school_id", sa.Uuid()),
        sa.column("person_id", sa.Uuid()),
        sa.column("requirement_key", sa.String()),
        sa.column("country", sa.String()),
        sa.column("status", sa.String()),
        sa.column("check_status", sa.String()),
        sa.column("na_reason", sa.Text()),
        sa.column("version", sa.Integer()),
    )
    for school_id, country in schools:
        host = canonical(country or "")
        if not host:
            continue
        h = items.alias("h")
        has_host_check = (
            sa.select(h.c.id)
            .where(
                h.c.school_id == school_id,
                h.c.person_id == items.c.person_id,
                h.c.requirement_key == "police-check-host-country",
            )
            .exists()
        )
        bind.execute(
            items.update()
            .where(
                items.c.school_id == school_id,
                items.c.requirement_key == "police-check-country",
                items.c.country == host,
                items.c.check_status != "verified",
                has_host_check,
            )
            .values(
                status="not_applicable",
                check_status="not_required",
                na_reason=HOST_DUPLICATE_REASON,
                version=items.c.version + 1,
            )
        )


def downgrade():
    with op.batch_alter_table("check_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_records_school_id"))
    op.drop_table("check_records")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("leave_note")
        batch_op.drop_column("leave_reason")
