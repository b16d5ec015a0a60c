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

from sqlalchemy import Date, bindparam

from .db import db
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
def batched(schools=None):
    """While this runs (the digest job), `per_school` computes each school-wide answer once and keeps it, so
    the lines of a school's many members cost a few queries per school, not a few per member. `schools`
    ({school id: its today}) are the schools the job builds together: `per_batch` reads them all at once."""
    token = _batch.set({"schools": dict(schools or {}), "memo": {}})
    try:
        yield
    finally:
        _batch.reset(token)


def is_batched() -> bool:
    """Whether `batched()` is running: receivers then read the whole school at once (grouped by member)."""
    return _batch.get() is not None


def per_school(school, key, compute):
    """`compute()`, once per school and `key` while `batched()` runs; every time otherwise."""
    state = _batch.get()
    if state is None:
        return compute()
    memo = state["memo"]
    full = (school.id, key)
    if full not in memo:
        memo[full] = compute()
    return memo[full]


def per_batch(school, key, today, compute, default):
    """The school's answer from `compute(school_ids, today)` ({school id: answer}; `default` for a school it
    leaves out). While `batched(schools)` runs with this school in it, `compute` runs once for every school of
    the batch with the same `today` (one query per kind per batch, not per school); otherwise for this school
    alone (once per school and `key` while `batched()` runs)."""
    state = _batch.get()
    if state is None:
        return compute([school.id], today).get(school.id, default)
    if state["schools"].get(school.id) != today:
        return per_school(school, (key, today), lambda: compute([school.id], today).get(school.id, default))
    memo = state["memo"]
    full = ("batch", key, today)
    if full not in memo:
        ids = [sid for sid, day in state["schools"].items() if day == today]
        memo[full] = compute(ids, today)
    return memo[full].get(school.id, default)


def school_in(column, shape):
    """Criterion for a statement of `prepared`: `column` is the school (`shape` "one": an equality, the plan a
    page's query always had, the id given as the `school_id` parameter) or one of the schools ("many": the
    `school_ids` parameter)."""
    if shape == "one":
        return column == bindparam("school_id")
    return column.in_(bindparam("school_ids", expanding=True))


#: statements built once per process: {(name, "one" or "many"): select with bind parameters}
_statements: dict = {}


def prepared(name, build, school_ids, today, **params):
    """The rows of `build(shape, today)`'s statement for `school_ids` on `today` (plus `params`): the
    statement is built once per process for one school and once for many (`shape` "one" or "many", for
    `school_in`), the ids, the date (`today`, a bind parameter) and `params` given at each run. Building a
    select and its cache key afresh cost each receiver ten times what running it did (the dashboard of the
    500-staff school, issue #21). `name` must say everything `build` depends on besides the shape."""
    shape = "one" if len(school_ids) == 1 else "many"
    statement = _statements.get((name, shape))
    if statement is None:
        statement = _statements[(name, shape)] = build(shape, bindparam("today", type_=Date))
    params["today"] = today
    if shape == "one":
        params["school_id"] = school_ids[0]
    else:
        params["school_ids"] = list(school_ids)
    return db.session.execute(statement, params).all()


def lines_for(school, member, today: date) -> list[WaitingLine]:
    """Every feature's lines for `member` (a Membership, or anything with its `user_id` and `role`), earliest
    due first. Outside a request (the digest job) links are built inside `links.links_context()`."""
    lines = []
    for _receiver, returned in waiting_for.send(school, member=member, today=today):
        lines.extend(returned or [])
    return sorted(lines, key=_order)
