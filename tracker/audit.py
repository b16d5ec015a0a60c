"""Append-only audit trail, hash-chained per school so that tampering is detectable."""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .db import UTCDateTime, db, utcnow

PLATFORM_CHAIN = "platform"
GENESIS = "0" * 64


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
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("chain", "seq"),)

    def digest(self) -> str:
        """Return the SHA-256 of this event's content and its predecessor's hash."""
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
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(raw.encode()).hexdigest()


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
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(chain=chain, seq=0, hash=GENESIS)
        db.session.add(head)
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
    )
    event.hash = event.digest()
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
    heads = {h.chain: h for h in db.session.execute(db.select(AuditHead)).scalars()}
    chains = set(heads) | set(db.session.execute(db.select(AuditEvent.chain).distinct()).scalars())
    for chain in sorted(chains):
        problem = _verify_chain(chain, heads.get(chain), batch)
        if problem:
            problems.append(problem)
    return problems


def _verify_chain(chain, head, batch):
    expected_prev, expected_seq, last_seq = GENESIS, 1, 0
    query = db.select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
    for event in db.session.execute(query.execution_options(yield_per=batch)).scalars():
        if event.seq != expected_seq:
            return ChainProblem(chain, event.id, event.seq, f"expected #{expected_seq}: events missing")
        if event.prev_hash != expected_prev:
            return ChainProblem(chain, event.id, event.seq, "does not point at the event before it")
        if event.digest() != event.hash:
            return ChainProblem(chain, event.id, event.seq, "content changed after it was recorded")
        expected_prev, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
    if head is not None and (head.seq != last_seq or head.hash != expected_prev):
        return ChainProblem(chain, None, last_seq + 1, f"the chain head says #{head.seq}: events removed at the end")
    return None
