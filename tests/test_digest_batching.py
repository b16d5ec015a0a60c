"""The digest job reads a batch of schools at once: what each school's digests need (digest_lines) and every
feature's "Waiting for you" (waiting.per_batch) cost a few queries per batch of schools, not per school, and
each school still gets exactly its own lines."""

import gc
from datetime import UTC, datetime, time, timedelta

import pytest

from tracker.db import utcnow
from tracker.reminders import digest
from tracker.reminders.digest import DIGEST_BATCH, run_daily_digests
from tracker.waiting import batched, lines_for

from .test_tracking_queries import counted_queries
from .waiting_helpers import ROLES, waiting_school


def _selects(statements):
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_a_batch_of_schools_reads_as_much_as_one_school_more_or_less(app, make_school, make_member):
    """Two schools, then four more: the second run reads with as many SELECTs as the first (the batch's
    schools at once); what grows per school is its savepoint, its claim and its digests' insert."""
    now = utcnow()
    for n in (1, 2):
        waiting_school(make_school, make_member, n=n)
    with counted_queries() as few:
        first = run_daily_digests(now)
    for n in (1, 2, 3, 1):
        waiting_school(make_school, make_member, n=n)
    with counted_queries() as more:
        second = run_daily_digests(now)
    assert first.schools == 2 and second.schools == 4
    assert 4 + 1 < DIGEST_BATCH, "one batch each"
    assert len(_selects(more)) == len(_selects(few)), "\n".join(_selects(more))
    # per school: SAVEPOINT, its claim (INSERT), the digests' INSERT, RELEASE
    assert len(more) - len(few) <= 2 * 4, "\n".join(more)


def test_each_school_of_a_batch_gets_its_own_lines(app, make_school, make_member):
    """The same lines for every member whether the schools are read one at a time (the dashboard) or all
    together (the digest job), and a batch reads them with a fixed number of statements."""
    worlds = [waiting_school(make_school, make_member, n=n) for n in (1, 3, 2)]
    with app.test_request_context():
        alone = {
            (w.school.slug, role): lines_for(w.school, w.members[role], w.school.today())
            for w in worlds
            for role in ROLES
        }
        with counted_queries() as statements, batched({w.school.id: w.school.today() for w in worlds}):
            together = {
                (w.school.slug, role): lines_for(w.school, w.members[role], w.school.today())
                for w in worlds
                for role in ROLES
            }
    assert together == alone
    counts = {
        slug: {ln.kind: ln.count for ln in lines} for (slug, role), lines in alone.items() if role == "lead"
    }
    assert sorted(c["queries"] for c in counts.values()) == [1, 2, 3], counts
    with app.test_request_context(), counted_queries() as one:
        with batched({worlds[0].school.id: worlds[0].school.today()}):
            for role in ROLES:
                lines_for(worlds[0].school, worlds[0].members[role], worlds[0].school.today())
    assert len(statements) == len(one), "\n".join(statements)


def test_a_school_of_another_day_in_the_batch_is_read_for_its_own_day(app, make_school, make_member):
    """Schools whose local dates differ are read per date: a school's lines use its own today."""
    a = waiting_school(make_school, make_member, n=1)
    b = waiting_school(make_school, make_member, n=2)
    tomorrow = b.school.today() + timedelta(days=1)
    with app.test_request_context():
        alone = lines_for(b.school, b.members["staff"], tomorrow)
        with batched({a.school.id: a.school.today(), b.school.id: tomorrow}):
            lines_for(a.school, a.members["staff"], a.school.today())
            together = lines_for(b.school, b.members["staff"], tomorrow)
    assert together == alone


def _next_monday_morning(school):
    today = school.today()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), time(8), tzinfo=UTC)


def test_a_monday_works_out_the_weekly_digest_only_for_a_school_where_someone_takes_it(
    app, make_school, make_member, monkeypatch
):
    """Each kind of digest is worked out only if a member gets it: on a Monday a school whose members all
    take the daily digest has its lines collected once (for the day), not twice."""
    world = waiting_school(make_school, make_member, n=1)
    calls = []
    real = digest.collect_lines
    monkeypatch.setattr(
        digest, "collect_lines", lambda data, since, *a: calls.append(since) or real(data, since, *a)
    )
    assert run_daily_digests(_next_monday_morning(world.school)).schools == 1
    assert len(calls) == 1


def test_the_run_gives_back_the_heap_it_froze(app, make_school, make_member, monkeypatch):
    """The objects alive when the run starts are frozen out of full collections while it runs (gc.freeze),
    and unfrozen when it ends, even when it fails."""
    world = waiting_school(make_school, make_member, n=1)
    monday = _next_monday_morning(world.school)
    seen = []
    real = digest.prepare
    monkeypatch.setattr(digest, "prepare", lambda *a: seen.append(gc.get_freeze_count()) or real(*a))
    assert run_daily_digests(monday).schools == 1
    assert seen and seen[0] > 0, "frozen while the run builds"
    assert gc.get_freeze_count() == 0

    def failing(*_, **__):
        raise RuntimeError("the database is gone, and the log with it")

    monkeypatch.setattr(digest, "with_write_retries", failing)  # each school fails...
    monkeypatch.setattr(digest.log, "exception", failing)  # ...and so does saying so: the run raises
    with pytest.raises(RuntimeError):
        run_daily_digests(monday + timedelta(days=1))
    assert gc.get_freeze_count() == 0
