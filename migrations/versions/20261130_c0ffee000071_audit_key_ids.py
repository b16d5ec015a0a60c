"""audit events record the id of the key that sealed them; every existing chain is sealed with the audit key

Events made before this revision keep their plain SHA-256 hashes and the empty key id. Each chain that has
events gets one new event, "audit.sealed", sealed with HMAC-SHA256 under TRACKER_AUDIT_KEY over its content
and the last legacy hash, so the whole legacy history is vouched for by the key without rewriting a single
stored event (anchors and page-cache stamps stay valid, the trail stays append-only). From then on
`audit verify` accepts legacy events only as the start of a chain that a keyed event follows.

Why not rehash the old events with the key: that is exactly the rewrite the key is meant to stop, and a
command that does it on request could launder tampering; sealing appends instead.

The sealing needs the key, so this revision cannot run in offline (--sql) mode. Downgrading drops the key ids;
the old code then reports every event made since as changed.

Revision ID: c0ffee000071
Revises: c0ffee000081
Create Date: 2026-11-30 02:30:00
"""

import hashlib
import hmac
import json
import os
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

import tracker.db  # noqa: F401  (custom column types such as UTCDateTime)

# revision identifiers, used by Alembic.
revision = "c0ffee000071"
down_revision = "c0ffee000081"
branch_labels = None
depends_on = None

PLATFORM_CHAIN = "platform"

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("chain", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("school_id", sa.Uuid),
    sa.column("actor_id", sa.Uuid),
    sa.column("actor_email", sa.String),
    sa.column("action", sa.String),
    sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("ip", sa.String),
    sa.column("created_at", tracker.db.UTCDateTime),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
    sa.column("key_id", sa.String),
)
heads = sa.table(
    "audit_heads", sa.column("chain", sa.String), sa.column("seq", sa.Integer), sa.column("hash", sa.String)
)


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), server_default="", nullable=False))
    if context.is_offline_mode():
        raise RuntimeError(
            "This revision seals the existing audit chains with TRACKER_AUDIT_KEY: run it online."
        )
    seal_chains(op.get_bind(), _audit_key())


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")


def _audit_key() -> str:
    try:
        from flask import current_app

        return current_app.config["TRACKER_AUDIT_KEY"]
    except (RuntimeError, KeyError):  # alembic without the app
        key = os.environ.get("TRACKER_AUDIT_KEY")
        if not key:
            raise RuntimeError(
                "Set TRACKER_AUDIT_KEY (or run through `flask --app tracker db upgrade`): "
                "this revision seals the existing audit chains with it."
            ) from None
        return key


def _key_id(key: str) -> str:  # as tracker.audit.key_id at this revision
    return hmac.new(key.encode(), b"tracker audit key id", hashlib.sha256).hexdigest()[:12]


def _canonical(row: dict) -> bytes:  # as tracker.audit.AuditEvent.canonical at this revision
    payload = {
        "chain": row["chain"],
        "seq": row["seq"],
        "school_id": str(row["school_id"]) if row["school_id"] else None,
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "actor_email": row["actor_email"],
        "action": row["action"],
        "subject_type": row["subject_type"],
        "subject_id": row["subject_id"],
        "before": row["before"],
        "after": row["after"],
        "ip": row["ip"],
        "created_at": row["created_at"].isoformat(timespec="microseconds"),
        "prev_hash": row["prev_hash"],
        "key_id": row["key_id"],
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def seal_chains(conn, key: str) -> int:
    """Append a keyed "audit.sealed" event to each chain whose last event is a legacy one; return how many."""
    kid = _key_id(key)
    sealed = 0
    chains = conn.execute(sa.select(heads.c.chain, heads.c.seq, heads.c.hash).where(heads.c.seq > 0)).all()
    for head in chains:
        last_key = conn.execute(
            sa.select(events.c.key_id).where(events.c.chain == head.chain, events.c.seq == head.seq)
        ).scalar()
        if last_key != "":
            continue
        row = {
            "chain": head.chain,
            "seq": head.seq + 1,
            "school_id": None if head.chain == PLATFORM_CHAIN else uuid.UUID(head.chain),
            "actor_id": None,
            "actor_email": "",
            "action": "audit.sealed",
            "subject_type": "",
            "subject_id": "",
            "before": None,
            "after": {"legacy_events": head.seq, "key_id": kid},
            "ip": "",
            "created_at": datetime.now(UTC),
            "prev_hash": head.hash,
            "key_id": kid,
        }
        row["hash"] = hmac.new(key.encode(), _canonical(row), hashlib.sha256).hexdigest()
        conn.execute(events.insert().values(**row))
        conn.execute(
            heads.update().where(heads.c.chain == head.chain).values(seq=row["seq"], hash=row["hash"])
        )
        sealed += 1
    return sealed
