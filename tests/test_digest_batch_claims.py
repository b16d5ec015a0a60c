"""The digest job claims the days of a batch of schools and queues their digests with a few statements for the
whole batch, and keeps what claiming school by school guaranteed: a school whose digests the database refuses
fails alone (not claimed, nothing queued, tried again by the next run) while the rest of its batch is queued
exactly once; a school another run claimed meanwhile gets nothing queued; a second run queues nothing
twice."""

from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, func, select

from tracker.db import new_id, utcnow
from tracker.extensions import db
from tracker.reminders import digest
from tracker.reminders.digest import run_daily_digests
from tracker.reminders.models import DigestState, OutboxMessage

from .test_tracking_queries import counted_queries
from .waiting_helpers import waiting_school


def _morning(school, days=0):
    return datetime.combine(school.today() + timedelta(days=days), time(8), tzinfo=UTC)


def _outbox(school):
    """{idempotency key: how many rows} of the school's outbox."""
    keys = db.session.scalars(
        select(OutboxMessage.idempotency_key).where(OutboxMessage.school_id == school.id)
    ).all()
    return Counter(keys)


def _last_digest_on(school):
    return db.session.scalar(select(DigestState.last_digest_on).where(DigestState.school_id == school.id))


def _schools(make_school, make_member, n):
    return [waiting_school(make_school, make_member, n=1).school for _ in range(n)]


def test_a_school_whose_digests_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_queued_once(
    app, make_school, make_member, monkeypatch
):
    schools = _schools(make_school, make_member, 3)
    bad = schools[1]
    now = _morning(bad)
    render = digest.render_message

    def refused_for_one_school(school, *args):
        row = render(school, *args)
        if school.id == bad.id:
            row["to_address"] = None  # NOT NULL: the batch's INSERT fails in the database, not in Python
        return row

    monkeypatch.setattr(digest, "render_message", refused_for_one_school)
    first = run_daily_digests(now)
    assert first.skipped == [bad.slug]
    assert first.schools == 2
    assert _outbox(bad) == Counter() and _last_digest_on(bad) is None, "neither queued nor claimed"
    good = {school.slug: _outbox(school) for school in schools if school is not bad}
    assert all(keys and set(keys.values()) == {1} for keys in good.values()), good
    assert sum(sum(keys.values()) for keys in good.values()) == first.messages
    assert all(_last_digest_on(school) == now.date() for school in schools if school is not bad)

    monkeypatch.setattr(digest, "render_message", render)  # mended: the next run queues the school left out
    second = run_daily_digests(now + timedelta(minutes=15))
    assert second.skipped == [] and second.schools == 1
    assert second.messages == sum(_outbox(bad).values()) > 0
    assert set(_outbox(bad).values()) == {1}
    assert {school.slug: _outbox(school) for school in schools if school is not bad} == good, "nothing twice"
    assert run_daily_digests(now + timedelta(hours=1)).messages == 0


def test_a_school_whose_digests_cannot_be_written_is_left_unclaimed_and_the_others_are_queued(
    app, make_school, make_member, monkeypatch
):
    schools = _schools(make_school, make_member, 3)
    bad = schools[0]
    collect = digest.collect_lines

    def failing_for_one_school(data, *args):
        if data["recipients"] and next(iter(data["recipients"].values())).email in _emails(bad):
            raise RuntimeError("a stored value this school's digests cannot be written with")
        return collect(data, *args)

    monkeypatch.setattr(digest, "collect_lines", failing_for_one_school)
    report = run_daily_digests(_morning(bad))
    assert report.skipped == [bad.slug] and report.schools == 2
    assert _last_digest_on(bad) is None and _outbox(bad) == Counter()
    assert all(_outbox(school) and _last_digest_on(school) for school in schools[1:])


def _emails(school):
    from tracker.auth.models import User
    from tracker.tenancy import Membership

    return set(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.school_id == school.id)
        )
    )


def test_schools_another_run_claimed_after_this_one_read_them_get_nothing_queued(
    app, make_school, make_member, monkeypatch
):
    """Between `prepare` and the batch's claim another run claims two schools: one that had a digest state
    (the compare-and-set UPDATE matches nothing) and one that had none (its INSERT meets the other run's row,
    which is read again). Neither gets a digest from this run; the third school does."""
    schools = _schools(make_school, make_member, 3)
    yesterday_morning = _morning(schools[0], days=-1)
    run_daily_digests(yesterday_morning)
    db.session.execute(delete(OutboxMessage))
    db.session.execute(delete(DigestState).where(DigestState.school_id == schools[1].id))
    db.session.commit()
    now = _morning(schools[0])
    today = now.date()
    real = digest.prepare

    def prepare_then_another_run_claims(batch, when):
        prepared = real(batch, when)
        assert prepared.states[schools[0].id] == today - timedelta(days=1)
        assert schools[1].id not in prepared.states
        state = db.session.scalar(select(DigestState).where(DigestState.school_id == schools[0].id))
        state.last_digest_on = today
        db.session.add(
            DigestState(id=new_id(), school_id=schools[1].id, last_digest_on=today, updated_at=utcnow())
        )
        db.session.flush()
        return prepared

    monkeypatch.setattr(digest, "prepare", prepare_then_another_run_claims)
    report = run_daily_digests(now)
    assert report.skipped == [] and report.schools == 1
    assert _outbox(schools[0]) == Counter() and _outbox(schools[1]) == Counter()
    assert report.messages == sum(_outbox(schools[2]).values()) > 0


def test_the_next_day_claims_every_school_from_its_last_date_and_a_rerun_queues_nothing(
    app, make_school, make_member
):
    schools = _schools(make_school, make_member, 3)
    day_one = _morning(schools[0], days=-1)
    first = run_daily_digests(day_one)
    assert first.schools == 3
    second = run_daily_digests(day_one + timedelta(days=1))
    assert second.schools == 3 and second.messages > 0
    assert all(_last_digest_on(school) == (day_one + timedelta(days=1)).date() for school in schools)
    assert run_daily_digests(day_one + timedelta(days=1, hours=2)).messages == 0
    total = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.school_id.in_([s.id for s in schools]))
    )
    assert total == first.messages + second.messages
    for school in schools:
        assert set(_outbox(school).values()) == {1}


def test_claiming_and_queueing_cost_the_same_statements_for_two_schools_as_for_four(
    app, make_school, make_member
):
    """What grows per school is gone: the batch's claim is one INSERT (or one UPDATE per last date) and its
    digests one INSERT, whatever the number of schools in the batch."""
    now = _morning(_schools(make_school, make_member, 2)[0])
    with counted_queries() as few:
        assert run_daily_digests(now).schools == 2
    _schools(make_school, make_member, 4)
    with counted_queries() as more:
        assert run_daily_digests(now).schools == 4
    # the test session's own savepoints (each test runs in a transaction rolled back at its end) left out
    few, more = _without_savepoints(few), _without_savepoints(more)
    assert len(more) == len(few), "\n".join(more)
    writes = [s for s in more if s.split()[0] in ("INSERT", "UPDATE")]
    assert len(writes) == 2, "\n".join(writes)  # the days claimed, the digests queued


def _without_savepoints(statements):
    return [s.lstrip().upper() for s in statements if "SAVEPOINT" not in s.upper()]
