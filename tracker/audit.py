"""Append-only audit trail, chained per school with a keyed MAC so that tampering is detectable.

Each event is sealed with HMAC-SHA256 over its content and the seal of the event before it, under the audit
key (TRACKER_AUDIT_KEY, never in the database). Each event records the id of the key that sealed it (a
fingerprint, never the key), so keys can be rotated: earlier keys stay in TRACKER_AUDIT_OLD_KEYS to verify.
Events recorded before the key existed carry the empty key id and a plain SHA-256 hash; they are accepted only
as the start of a chain that a keyed event follows (the migration that added keys sealed every chain so).

Someone with the key, or who can only cut events off the end, is caught by anchors: a school's chain head
(`anchor()`, "SEQ:HASH") is printed on its PDF reports and mailed weekly to its leads (tracker/anchors.py),
and check_anchor() tells whether the history still holds it. Checking chains and anchors lives in
tracker/audit_verify.py.
"""

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .db import UTCDateTime, db, utcnow

PLATFORM_CHAIN = "platform"
GENESIS = "0" * 64
#: the key id of events recorded before the audit key existed (plain SHA-256)
LEGACY_KEY_ID = ""
#: hex characters of the chain hash an anchor shows (64 bits)
ANCHOR_HASH_CHARS = 16


def key_id(key: str) -> str:
    """A short fingerprint of an audit key, stored with each event; the key cannot be recovered from it."""
    return hmac.new(key.encode(), b"tracker audit key id", hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True)
class Keyring:
    """The current audit key and every key that may verify: {key id: key bytes}."""

    current_id: str
    keys: dict

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


_keyrings: dict = {}


def keyring() -> Keyring:
    """The app's audit keys (TRACKER_AUDIT_KEY and TRACKER_AUDIT_OLD_KEYS), built once per set of keys."""
    config = current_app.config
    cache_key = (config["TRACKER_AUDIT_KEY"], tuple(config.get("TRACKER_AUDIT_OLD_KEYS") or ()))
    ring = _keyrings.get(cache_key)
    if ring is None:
        current, *old = cache_key[0], *cache_key[1]
        keys = {key_id(k): k.encode() for k in reversed(old)}
        keys[key_id(current)] = current.encode()
        ring = Keyring(key_id(current), keys)
        if len(_keyrings) > 16:
            _keyrings.clear()
        _keyrings[cache_key] = ring
    return ring


class UnknownKey(LookupError):
    """The event was sealed with a key that is not configured."""


class AuditEvent(db.Model):
    """One recorded change or sign-in. Never updated or deleted by the app."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: the chain this event extends: the school's id, or "platform" for events outside a school
    chain: Mapped[str] = mapped_column(String(40))
    #: position in the chain, from 1
    seq: Mapped[int] = mapped_column(Integer)
    school_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("schools.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: the actor's e-mail at the time, kept so the trail reads well after an account is removed
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    #: dotted verb, e.g. "member.role_changed"
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA256 (plain SHA-256 for legacy events) of the content and prev_hash
    hash: Mapped[str] = mapped_column(String(64))
    #: fingerprint of the audit key that sealed it (audit.key_id); "" for events made before keys existed
    key_id: Mapped[str] = mapped_column(String(16), default=LEGACY_KEY_ID, server_default="")

    __table_args__ = (UniqueConstraint("chain", "seq"),)

    def digest(self, ring: Keyring | None = None) -> str:
        """Return the seal this event should have: HMAC-SHA256 under the key named by its key id (plain
        SHA-256 of the same content for a legacy event). Raises UnknownKey when that key is not configured."""
        if self.key_id == LEGACY_KEY_ID:
            return hashlib.sha256(self.canonical()).hexdigest()
        key = (ring or keyring()).keys.get(self.key_id)
        if key is None:
            raise UnknownKey(self.key_id)
        return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()

    def canonical(self) -> bytes:
        """The sealed content: every stored column but id and hash, as canonical JSON."""
        payload = {
            "chain": self.chain,
            "seq": self.seq,
            "school_id": str(self.school_id) if self.school_id else None,
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "actor_email": self.actor_email,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "before": self.before,
            "after": self.after,
            "ip": self.ip,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "prev_hash": self.prev_hash,
        }
        if self.key_id != LEGACY_KEY_ID:
            payload["key_id"] = self.key_id  # so a keyed event cannot be passed off as made with another key
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


class AuditHead(db.Model):
    """The last event of each chain; locked while an event is appended so chains never fork."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def school_stamp(school) -> str:
    """Where the school's audit chain stands ("seq:hash"): every change to a school's data writes an event, so
    while this is unchanged nothing the school shows has changed. One primary-key read."""
    head = db.session.get(AuditHead, str(school.id))
    return f"{head.seq}:{head.hash}" if head is not None else "0:"


def anchor(school) -> str:
    """Where the school's chain stands, to keep outside the database: "SEQ:HASH" (the first
    ANCHOR_HASH_CHARS hex characters of the seal of event SEQ). One primary-key read."""
    return chain_anchor(str(school.id))


def chain_anchor(chain: str) -> str:
    """anchor() of a chain given by its id."""
    head = db.session.get(AuditHead, chain)
    seq, seal = (head.seq, head.hash) if head is not None else (0, GENESIS)
    return f"{seq}:{seal[:ANCHOR_HASH_CHARS]}"


def _jsonable(value):
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def record(
    action,
    *,
    school=None,
    subject=None,
    subject_type="",
    subject_id="",
    before=None,
    after=None,
    actor=None,
    actor_email=None,
):
    """Append an audit event in the current transaction (the caller commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if subject is not None:
        subject_type = subject_type or subject.__tablename__
        subject_id = subject_id or str(subject.id)
    chain = str(school.id) if school is not None else PLATFORM_CHAIN
    head = db.session.execute(
        db.select(AuditHead)
        .where(AuditHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)  # the locked row as it is now, not as read earlier
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(chain=chain, seq=0, hash=GENESIS)
        db.session.add(head)
    ring = keyring()
    event = AuditEvent(
        chain=chain,
        seq=head.seq + 1,
        school_id=school.id if school is not None else None,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor_email if actor_email is not None else (actor.email if actor is not None else ""),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=_jsonable(before),
        after=_jsonable(after),
        ip=(request.remote_addr or "") if has_request_context() else "",
        created_at=utcnow(),
        prev_hash=head.hash,
        key_id=ring.current_id,
    )
    event.hash = event.digest(ring)
    head.seq, head.hash = event.seq, event.hash
    db.session.add(event)
    db.session.flush()
    return event


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Return only the keys that differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
