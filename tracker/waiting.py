"""Waiting for you: the lines at the top of a member's dashboard and daily digest.

Each feature knows what it asks of whom (queries to answer, risk assessments to sign, checks due before a
start date, documents to acknowledge, the member's own items) and answers the `waiting_for` signal of
`tracker/signals.py` with `WaitingLine`s; the dashboard and the digest show what every feature returned, in
one order, without importing the features.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

from .signals import waiting_for


@dataclass(frozen=True)
class WaitingLine:
    """One thing waiting for a member: `text` says what ("3 accreditor queries to answer"), `url` is the page
    (site-relative, one the member's role may open) where they do it; `count` how many things the line stands
    for; `due_on` the earliest date it is due by, if any (lines with a date sort first, earliest first);
    `kind` a short stable key ("queries", "risk_sign", ...) for tests, styling and the digest's grouping;
    `nudge` False for a line that only sums up what the digest's dated reminders already list (the member's
    own items): such a line alone sends no digest."""

    kind: str
    text: str
    url: str
    count: int = 1
    due_on: date | None = None
    nudge: bool = True


def _order(line: WaitingLine):
    return (line.due_on is None, line.due_on or date.max, line.kind, line.text)


_batch: ContextVar[dict | None] = ContextVar("waiting_batch", default=None)


@contextmanager
def batched():
    """While this runs (the digest job), `per_school` computes each school-wide answer once and keeps it, so
    the lines of a school's many members cost a few queries per school, not a few per member."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def is_batched() -> bool:
    """Whether `batched()` is running: receivers then read the whole school at once (grouped by member)."""
    return _batch.get() is not None


def per_school(school, key, compute):
    """`compute()`, once per school and `key` while `batched()` runs; every time otherwise."""
    memo = _batch.get()
    if memo is None:
        return compute()
    full = (school.id, key)
    if full not in memo:
        memo[full] = compute()
    return memo[full]


def lines_for(school, member, today: date) -> list[WaitingLine]:
    """Every feature's lines for `member` (a Membership, or anything with its `user_id` and `role`), earliest
    due first. Outside a request (the digest job) links are built inside `links.links_context()`."""
    lines = []
    for _receiver, returned in waiting_for.send(school, member=member, today=today):
        lines.extend(returned or [])
    return sorted(lines, key=_order)
