"""Waiting for you: the lines at the top of a member's dashboard and daily digest.

Each feature knows what it asks of whom (queries to answer, risk assessments to sign, checks due before a
start date, documents to acknowledge, the member's own items) and answers the `waiting_for` signal of
`tracker/signals.py` with `WaitingLine`s; the dashboard and the digest show what every feature returned, in
one order, without importing the features.
"""

from dataclasses import dataclass
from datetime import date

from .signals import waiting_for


@dataclass(frozen=True)
class WaitingLine:
    """One thing waiting for a member: `text` says what ("3 accreditor queries to answer"), `url` is the page
    (site-relative, one the member's role may open) where they do it; `count` how many things the line stands
    for; `due_on` the earliest date it is due by, if any (lines with a date sort first, earliest first);
    `kind` a short stable key ("queries", "risk_sign", ...) for tests, styling and the digest's grouping."""

    kind: str
    text: str
    url: str
    count: int = 1
    due_on: date | None = None


def _order(line: WaitingLine):
    return (line.due_on is None, line.due_on or date.max, line.kind, line.text)


def lines_for(school, member, today: date) -> list[WaitingLine]:
    """Every feature's lines for `member`, earliest due first."""
    lines = []
    for _receiver, returned in waiting_for.send(school, member=member, today=today):
        lines.extend(returned or [])
    return sorted(lines, key=_order)
