"""Digests: who must hear about what, decided once per school and local day and written to the outbox.

A run looks at every school; a school whose local time has reached 07:00 and whose digests for today are not
built yet gets them built in one transaction (claim the day, insert the messages). After a pause, only today's
digest is built, covering the reminder days missed since the last one (at most a week back). What each member
is told is decided in digest_lines.py, and how it reads in digest_mail.py. Each digest starts with what is
waiting for the member (tracker/waiting.py). What a batch of schools' digests read is read for the whole batch
at once (`prepare`, and `waiting.batched()` for the receivers of `waiting_for`): a few queries per batch."""

import gc
import logging
import zoneinfo
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from flask import has_request_context
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from ..db import db, new_id, utcnow
from ..links import links_context
from ..tenancy import Membership, School
from ..waiting import batched, lines_for
from .digest_lines import (  # load_school_data: devtools.demo_reminders imports it from here
    CATCH_UP_DAYS,
    WEEKLY_DAY,
    collect_lines,
    load_school_data,  # noqa: F401
    load_schools_data,
    training_activities,
)
from .digest_mail import render_message, unwritten_message
from .models import OFF, WEEKLY, DigestState, OutboxMessage
from .outbox import with_write_retries

log = logging.getLogger(__name__)

REMINDER_HOUR = 7
#: schools whose digests are built in one transaction (one commit, each school in a savepoint of its own)
DIGEST_BATCH = 25


@dataclass
class RunReport:
    schools: int = 0
    messages: int = 0
    skipped: list = field(default_factory=list)


@dataclass(frozen=True)
class SchoolInfo:
    """What a digest needs of a school, copied so that commits between schools cause no reloading."""

    id: object
    slug: str
    name: str
    timezone: str


def _insert(model):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def local_now(school, now: datetime) -> datetime:
    return now.astimezone(zoneinfo.ZoneInfo(school.timezone))


@contextmanager
def heap_frozen():
    """The objects alive when a run starts (the app, its frameworks, the session's) are left out of the full
    garbage collections the run's allocations trigger (`gc.freeze`), and given back when it ends: on the
    1,000-school benchmark those collections scanned the whole heap again and again, a sixth of the job's CPU.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_daily_digests(now: datetime | None = None) -> RunReport:
    """Build today's digests for every school whose morning has come and whose digests are not built yet."""
    now = now or utcnow()
    report = RunReport()
    activities = training_activities()
    schools = [
        (SchoolInfo(row.id, row.slug, row.name, row.timezone), row.last_digest_on)
        for row in db.session.execute(
            select(School.id, School.slug, School.name, School.timezone, DigestState.last_digest_on)
            .outerjoin(DigestState, DigestState.school_id == School.id)
            .order_by(School.slug)
        )
    ]
    db.session.rollback()  # nothing is held open between batches
    due = [
        school
        for school, last in schools
        if local_now(school, now).hour >= REMINDER_HOUR
        and (last is None or last < local_now(school, now).date())
    ]
    with links_context(), heap_frozen():  # every link on TRACKER_BASE_URL
        for start in range(0, len(due), DIGEST_BATCH):
            batch = due[start : start + DIGEST_BATCH]
            try:
                # built and committed together; tried again while SQLite says another writer holds the lock
                results = with_write_retries(partial(_build_batch, batch, now, activities))
            except Exception:  # noqa: BLE001  the batch's commit failed: each school on its own, as before
                db.session.rollback()
                results = []
                for school in batch:
                    try:
                        results += with_write_retries(partial(_build_batch, [school], now, activities))
                    except Exception:  # noqa: BLE001
                        db.session.rollback()
                        log.exception("digests for %s failed", school.slug)
                        results.append((school, "failed"))
            for school, count in results:
                if count == "failed":
                    report.skipped.append(school.slug)
                elif count is not None:
                    report.schools += 1
                    report.messages += count
    return report


@dataclass
class Prepared:
    """What the digests of a batch of schools read, read for the whole batch at once (a few queries per batch,
    not per school): each school's today, its last digest date (none when it has no row yet), its data
    (digest_lines.load_schools_data), its School and its Memberships (what the `waiting_for` receivers are
    given)."""

    todays: dict
    states: dict
    data: dict
    schools: dict
    memberships: dict


def prepare(batch, now) -> Prepared:
    todays = {school.id: local_now(school, now).date() for school in batch}
    ids = list(todays)
    one = len(ids) == 1
    states = dict(
        db.session.execute(
            select(DigestState.school_id, DigestState.last_digest_on).where(
                DigestState.school_id == ids[0] if one else DigestState.school_id.in_(ids)
            )
        ).all()
    )
    schools = {
        row.id: row
        for row in db.session.execute(
            select(School).where(School.id == ids[0] if one else School.id.in_(ids))
        )
        .scalars()
        .all()
    }
    memberships = {school_id: {} for school_id in ids}
    for m in db.session.execute(
        select(Membership).where(Membership.school_id == ids[0] if one else Membership.school_id.in_(ids))
    ).scalars():
        memberships[m.school_id][m.user_id] = m
    return Prepared(todays, states, load_schools_data(todays), schools, memberships)


def _build_batch(batch, now, activities) -> list:
    """Build the digests of a batch of schools in one transaction. What they read is read for the batch at
    once (`prepare`, and `waiting.batched` for the "Waiting for you" lines); each school's digests are then
    written in memory, and the days of the schools whose digests could be written are claimed, and their
    digests queued, with a few statements for the whole batch (`_queue`). [(school, number of digests, or
    None when another run built them, or "failed")]: a school whose digests cannot be written is not claimed
    (the next run tries it again) and the others are queued as if it were not there. A busy database
    (SQLite's lock) fails the whole batch, tried again."""
    prepared = prepare(batch, now)
    outcome, built = {}, {}
    with batched(prepared.todays):
        for school in batch:
            previous = prepared.states.get(school.id, _NO_ROW)
            if previous not in (_NO_ROW, None) and previous >= prepared.todays[school.id]:
                outcome[school.id] = None  # built already (by another run since this one listed it)
                continue
            try:
                built[school.id] = _digest_rows(
                    school, now, activities, prepared, None if previous is _NO_ROW else previous
                )
            except OperationalError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("digests for %s failed", school.slug)
                outcome[school.id] = "failed"
        if built:
            outcome.update(_queue([s for s in batch if s.id in built], now, activities, prepared, built))
    return [(school, outcome[school.id]) for school in batch]


def _queue(schools, now, activities, prepared, built) -> dict:
    """Claim the day of each of `schools` and queue the digests `built` for it ({school id: rows}), in a
    savepoint: one INSERT for the schools that have no digest state yet, one compare-and-set UPDATE per
    (last date, today) among the others, one INSERT of every claimed school's digests. A school another run
    claimed meanwhile gets nothing queued (None); one whose state row another run inserted meanwhile is built
    again on its own (`build_school_digests`), from that row. Should the batch's statements fail (a digest
    the database refuses), the savepoint is rolled back and each school is claimed and queued on its own, in
    a savepoint of its own, as before batching: the school at fault fails alone. {school id: outcome}"""
    try:
        with db.session.begin_nested():
            claimed, contested = _claim_days(schools, prepared)
            rows = [row for school in schools if school.id in claimed for row in built[school.id]]
            if rows:
                db.session.execute(
                    _insert(OutboxMessage).on_conflict_do_nothing(
                        index_elements=["school_id", "idempotency_key"]
                    ),
                    rows,
                )
    except OperationalError:
        raise
    except Exception:  # noqa: BLE001  each school on its own: the one at fault fails alone
        log.warning("a batch's digests could not be queued together; queued school by school", exc_info=True)
        contested, claimed = {school.id for school in schools}, set()
    outcome = {school.id: len(built[school.id]) if school.id in claimed else None for school in schools}
    for school in schools:
        if school.id not in contested:
            continue
        try:
            with db.session.begin_nested():
                outcome[school.id] = build_school_digests(school, now, activities, prepared, _UNREAD)
        except OperationalError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("digests for %s failed", school.slug)
            outcome[school.id] = "failed"
    return outcome


def _claim_days(schools, prepared) -> tuple[set, set]:
    """Record today as built for each school whose last digest date is still the one `prepare` read
    (compare-and-set, so two runs at once cannot both claim a day): (ids claimed, ids whose state row another
    run inserted since `prepare` read there was none)."""
    stamp = utcnow()
    new, known = [], defaultdict(list)
    for school in schools:
        previous = prepared.states.get(school.id, _NO_ROW)
        if previous is _NO_ROW:
            new.append(school.id)
        else:
            known[(previous, prepared.todays[school.id])].append(school.id)
    claimed = set()
    if new:
        claimed.update(
            db.session.execute(
                _insert(DigestState)
                .values(
                    [
                        dict(
                            id=new_id(), school_id=sid, last_digest_on=prepared.todays[sid], updated_at=stamp
                        )
                        for sid in new
                    ]
                )
                .on_conflict_do_nothing(index_elements=["school_id"])
                .returning(DigestState.school_id)
            ).scalars()
        )
    contested = set(new) - claimed
    for (previous, today), ids in known.items():
        same = (
            DigestState.last_digest_on.is_(None)
            if previous is None
            else DigestState.last_digest_on == previous
        )
        claimed.update(
            db.session.execute(
                update(DigestState)
                .where(DigestState.school_id.in_(ids), same)
                .values(last_digest_on=today, updated_at=stamp)
                .returning(DigestState.school_id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
    return claimed, contested


_UNREAD = object()
_NO_ROW = object()


def _claim_day(school, today: date, known=_UNREAD):
    """Record today as built for the school; return (claimed, previous date). Compare-and-set, so two runs
    at once cannot both claim it (the loser's update matches no row). `known`: the school's last digest date
    read earlier in this transaction (`_NO_ROW`: it had no row), to save reading it again."""
    if known is _UNREAD:
        row = db.session.execute(
            select(DigestState.last_digest_on).where(DigestState.school_id == school.id)
        ).first()
    else:
        row = None if known is _NO_ROW else (known,)
    if row is None:
        inserted = db.session.execute(
            _insert(DigestState)
            .values(id=new_id(), school_id=school.id, last_digest_on=today, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["school_id"])
            .returning(DigestState.id)
        ).first()
        if inserted is not None:
            return True, None
        row = db.session.execute(
            select(DigestState.last_digest_on).where(DigestState.school_id == school.id)
        ).one()
    previous = row[0]
    if previous is not None and previous >= today:
        return False, previous
    same = (
        DigestState.last_digest_on.is_(None) if previous is None else DigestState.last_digest_on == previous
    )
    claimed = db.session.execute(
        update(DigestState)
        .where(DigestState.school_id == school.id, same)
        .values(last_digest_on=today, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1, previous


def build_school_digests(
    school, now: datetime, activities=None, prepared: Prepared | None = None, known=None
) -> int | None:
    """Claim the school's day and queue its digests; None when another run already built them. Flushes
    only. `prepared`: what the school's batch read at once (else it is read for this school alone); `known`
    (`_UNREAD`): read the school's last digest date again rather than take the one `prepared` read."""
    if prepared is None:
        prepared = prepare([school], now)
        with batched(prepared.todays):
            return build_school_digests(school, now, activities, prepared)
    today = prepared.todays[school.id]
    if known is None:
        known = prepared.states.get(school.id, _NO_ROW)
    claimed, previous = _claim_day(school, today, known)
    if not claimed:
        return None
    rows = _digest_rows(school, now, activities, prepared, previous)
    if rows:
        db.session.execute(
            _insert(OutboxMessage).on_conflict_do_nothing(index_elements=["school_id", "idempotency_key"]),
            rows,
        )
    return len(rows)


def _digest_rows(school, now: datetime, activities, prepared: Prepared, previous) -> list[dict]:
    """The outbox rows of the school's digests for its today, covering the days since `previous` (its last
    digest date, None for none): no statement of its own (what it reads, `prepared` and `waiting.batched`
    read for the batch)."""
    today = prepared.todays[school.id]
    week_back = today - timedelta(days=CATCH_UP_DAYS)
    since = today if previous is None else max(previous + timedelta(days=1), week_back)
    if activities is None:
        activities = training_activities()
    data = prepared.data[school.id]
    recipients = data["recipients"]
    # each kind of digest worked out only if someone gets it (most members take the daily one)
    frequencies = {r.frequency for r in recipients.values()}
    daily = collect_lines(data, since, today, activities) if frequencies - {OFF, WEEKLY} else {}
    weekly = (
        collect_lines(data, week_back, today, activities)
        if today.weekday() == WEEKLY_DAY and WEEKLY in frequencies
        else {}
    )
    rows = []
    with ExitStack() as stack:
        if not has_request_context():  # every link on TRACKER_BASE_URL, however the build was started
            stack.enter_context(links_context())
        # the receivers of `waiting_for` are given what a page gives them: the school and the Membership
        sender = prepared.schools[school.id]
        memberships = prepared.memberships[school.id]
        for user_id, recipient in recipients.items():
            if recipient.frequency == OFF:
                continue
            lines = (weekly if recipient.frequency == WEEKLY else daily).get(user_id) or []
            try:
                waiting = lines_for(sender, memberships[user_id], today)
                # nobody gets an empty digest, nor one that only sums up reminders it has not got
                if not lines and not any(w.nudge for w in waiting):
                    continue
                rows.append(render_message(school, recipient, lines, today, now, waiting))
            except Exception as exc:  # noqa: BLE001  one digest that cannot be written must not stop the others
                log.warning(
                    "digest for %s in %s could not be written", recipient.user_id, school.slug, exc_info=exc
                )
                rows.append(unwritten_message(school, recipient, today, now, exc))
    return rows
