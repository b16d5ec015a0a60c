"""Append-only audit trail, chained per school with a keyed MAC so that tampering is detectable.

Each event is sealed with HMAC-SHA256 over its content and the seal of the event before it, under the audit
key (TRACKER_AUDIT_KEY, never in the database). Each event records the id of the key that sealed it (a
fingerprint, never the key), so keys can be rotated: earlier keys stay in TRACKER_AUDIT_OLD_KEYS to verify.
Events recorded before the key existed carry the empty key id and a plain SHA-256 hash; they are accepted only
as the start of a chain that a keyed event follows (the migration that added keys sealed every chain so).

Someone with the key, or who can only cut events off the end, is caught by anchors: a school's chain head
(`anchor()`, "SEQ:HASH") is printed on its PDF reports and mailed weekly to its leads (tracker/anchors.py),
and check_anchor() tells whether the history still holds it.
"""
import hashlib
import hmac
import json
import re
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


def record(action, *, school=None, subject=None, subject_type="", subject_id="", before=None, after=None,
           actor=None, actor_email=None):
    """Append an audit event in the current transaction (the caller commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if subject is not None:
        subject_type = subject_type or subject.__tablename__
        subject_id = subject_id or str(subject.id)
    chain = str(school.id) if school is not None else PLATFORM_CHAIN
    head = db.session.execute(
        db.select(AuditHead).where(AuditHead.chain == chain).with_for_update()
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


@dataclass
class ChainProblem:
    chain: str
    event_id: int | None
    seq: int
    reason: str

    def __str__(self):
        where = f"event {self.event_id} (#{self.seq})" if self.event_id else f"position #{self.seq}"
        return f"chain {self.chain}: {where}: {self.reason}"


def verify_chains(batch=2000) -> list[ChainProblem]:
    """Recompute every chain; return the first broken event of each broken chain."""
    problems = []
    ring = keyring()
    heads = {h.chain: h for h in db.session.execute(db.select(AuditHead)).scalars()}
    chains = set(heads) | set(db.session.execute(db.select(AuditEvent.chain).distinct()).scalars())
    for chain in sorted(chains):
        problem = _verify_chain(chain, heads.get(chain), batch, ring)
        if problem:
            problems.append(problem)
    return problems


def verify_chain(chain: str, batch=2000) -> ChainProblem | None:
    """Recompute one chain (a school's id, or PLATFORM_CHAIN); return its first broken event, if any."""
    return _verify_chain(chain, db.session.get(AuditHead, chain), batch, keyring())


def _seal_problem(event, ring, keyed_before) -> str | None:
    """Why the event's own seal is wrong, or None."""
    if event.key_id == LEGACY_KEY_ID:
        if keyed_before:
            return "made without the audit key after keyed events: added or changed by someone without it"
    elif event.key_id not in ring.keys:
        return (f"sealed with key {event.key_id}, which is not configured: if it is an earlier audit key, "
                "add it to TRACKER_AUDIT_OLD_KEYS; otherwise the event was forged")
    if not hmac.compare_digest(event.digest(ring), event.hash):
        return "content changed after it was recorded (its seal does not match)"
    return None


def _verify_chain(chain, head, batch, ring):
    expected_prev, expected_seq, last_seq = GENESIS, 1, 0
    keyed, legacy_at_end = False, 0
    query = db.select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
    for event in db.session.execute(query.execution_options(yield_per=batch)).scalars():
        if event.seq != expected_seq:
            return ChainProblem(chain, event.id, event.seq, f"expected #{expected_seq}: events missing")
        if event.prev_hash != expected_prev:
            return ChainProblem(chain, event.id, event.seq, "does not point at the event before it")
        reason = _seal_problem(event, ring, keyed)
        if reason:
            return ChainProblem(chain, event.id, event.seq, reason)
        keyed = keyed or event.key_id != LEGACY_KEY_ID
        legacy_at_end = 0 if keyed else legacy_at_end + 1
        expected_prev, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
    if head is not None and (head.seq != last_seq or head.hash != expected_prev):
        return ChainProblem(chain, None, last_seq + 1, f"the chain head says #{head.seq}: events removed at the end")
    if legacy_at_end:
        return ChainProblem(chain, None, last_seq, f"no keyed event follows its {legacy_at_end} events made "
                            "before the audit key, so nothing vouches for them: rewritten without it")
    return None


ANCHOR_PATTERN = re.compile(r"#?(\d+):([0-9a-f]{12,64})")


def parse_anchor(text: str) -> tuple[int, str]:
    """(seq, hash prefix) from "SEQ:HASH" as printed on reports and in anchor e-mails; else ValueError."""
    match = ANCHOR_PATTERN.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not an anchor: give it as SEQ:HASH, e.g. 1234:{'0f' * 8}, as printed "
                         "on the school's reports and anchor e-mails")
    if int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is the anchor of an empty chain, which holds nothing to check")
    return int(match.group(1)), match.group(2)


@dataclass
class AnchorCheck:
    """The outcome of checking one anchor against a chain: ok, truncated, rewritten or broken."""

    anchor: str
    outcome: str
    message: str

    @property
    def ok(self):
        return self.outcome == "ok"


def check_anchor(chain: str, text: str, problem: ChainProblem | None = None) -> AnchorCheck:
    """Does the chain's history still contain the anchor? `problem` is verify_chain(chain), already run."""
    seq, prefix = parse_anchor(text)
    label = f"{seq}:{prefix}"
    head = db.session.get(AuditHead, chain)
    head_seq = head.seq if head is not None else 0
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq == seq)).scalar_one_or_none()
    if head_seq < seq or event is None:
        last = f"ends at #{head_seq}" if head_seq else "is empty"
        gone = "events recorded by the time the anchor was taken have been removed from the end"
        return AnchorCheck(label, "truncated", f"anchor {label}: the chain now {last}, before the anchor's "
                           f"#{seq}: {gone}")
    if not event.hash.startswith(prefix):
        now = event.hash[:len(prefix)]
        return AnchorCheck(label, "rewritten", f"anchor {label}: event #{seq} is not the event the anchor "
                           f"recorded (its seal now starts {now}): the history up to #{seq} was rewritten, "
                           "or cut back and recorded again, since the anchor was taken")
    if problem is not None:
        return AnchorCheck(label, "broken", f"anchor {label}: event #{seq} matches, but the chain does not "
                           f"verify: {problem}")
    return AnchorCheck(label, "ok", f"anchor {label}: found; the chain verifies up to it and past it, "
                       f"to #{head_seq}")
