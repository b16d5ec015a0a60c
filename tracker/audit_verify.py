"""Checking the audit trail: recompute each chain's seals (verify_chains, verify_chain) and tell whether a
chain's history still holds an anchor taken earlier (parse_anchor, check_anchor). `flask audit verify` runs
them."""

import hmac
import re
from dataclasses import dataclass

from .audit import GENESIS, LEGACY_KEY_ID, AuditEvent, AuditHead, keyring
from .db import db


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
        return (
            f"sealed with key {event.key_id}, which is not configured: if it is an earlier audit key, "
            "add it to TRACKER_AUDIT_OLD_KEYS; otherwise the event was forged"
        )
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
        return ChainProblem(
            chain, None, last_seq + 1, f"the chain head says #{head.seq}: events removed at the end"
        )
    if legacy_at_end:
        return ChainProblem(
            chain,
            None,
            last_seq,
            f"no keyed event follows its {legacy_at_end} events made "
            "before the audit key, so nothing vouches for them: rewritten without it",
        )
    return None


ANCHOR_PATTERN = re.compile(r"#?(\d+):([0-9a-f]{12,64})")


def parse_anchor(text: str) -> tuple[int, str]:
    """(seq, hash prefix) from "SEQ:HASH" as printed on reports and in anchor e-mails; else ValueError."""
    match = ANCHOR_PATTERN.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(
            f"{text!r} is not an anchor: give it as SEQ:HASH, e.g. 1234:{'0f' * 8}, as printed "
            "on the school's reports and anchor e-mails"
        )
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
        db.select(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq == seq)
    ).scalar_one_or_none()
    if head_seq < seq or event is None:
        last = f"ends at #{head_seq}" if head_seq else "is empty"
        gone = "events recorded by the time the anchor was taken have been removed from the end"
        return AnchorCheck(
            label, "truncated", f"anchor {label}: the chain now {last}, before the anchor's #{seq}: {gone}"
        )
    if not event.hash.startswith(prefix):
        now = event.hash[: len(prefix)]
        return AnchorCheck(
            label,
            "rewritten",
            f"anchor {label}: event #{seq} is not the event the anchor "
            f"recorded (its seal now starts {now}): the history up to #{seq} was rewritten, "
            "or cut back and recorded again, since the anchor was taken",
        )
    if problem is not None:
        return AnchorCheck(
            label, "broken", f"anchor {label}: event #{seq} matches, but the chain does not verify: {problem}"
        )
    return AnchorCheck(
        label, "ok", f"anchor {label}: found; the chain verifies up to it and past it, to #{head_seq}"
    )
