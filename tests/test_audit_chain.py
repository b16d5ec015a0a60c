"""The audit trail is hash-chained: any edit or deletion of a stored event is detected and named."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker import audit
from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.schools.services import change_role, invite, update_settings

from .conftest import login

EVENTS = AuditEvent.__table__


@pytest.fixture
def trail(app, make_school, make_member):
    """Two schools with several audited actions each, plus platform events (sign-ins)."""
    schools = []
    for tag in ("a", "b"):
        school = make_school()
        lead = make_member(school, "lead")
        staff = make_member(school, "staff")
        invite(school, email=f"invitee-{tag}@example.org", role="staff")
        change_role(school, staff, role="hr")
        update_settings(school, name=f"Renamed {tag}")
        db.session.commit()
        assert login(app.test_client(), lead.user.email).status_code == 302
        assert login(app.test_client(), lead.user.email, "wrong password").status_code == 400
        schools.append(school)
    db.session.expire_all()
    return schools


def chain_of(school):
    return db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.chain == str(school.id)).order_by(AuditEvent.seq)
    ).scalars().all()


def platform_chain():
    return db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.chain == audit.PLATFORM_CHAIN).order_by(AuditEvent.seq)
    ).scalars().all()


def verify():
    db.session.expire_all()  # verify what is stored, not what this session remembers
    return audit.verify_chains()


def tampered(event, column):
    """A different value for one stored column of `event`."""
    value = getattr(event, column)
    if column == "created_at":
        return value + timedelta(seconds=1)
    if column == "after":
        return {**(value or {}), "role": "lead"}
    if column in ("prev_hash", "hash"):
        return "f" * 64 if value != "f" * 64 else "e" * 64
    return value + "x"


def test_an_untouched_trail_verifies(trail):
    assert len(chain_of(trail[0])) >= 4
    assert len(platform_chain()) >= 4
    assert verify() == []


@pytest.mark.parametrize("column", ["action", "after", "actor_email", "created_at", "prev_hash", "hash"])
def test_editing_any_stored_field_names_exactly_that_event(trail, column):
    """For the first, a middle and the last event of a school's chain, and a platform event, an UPDATE of
    one column makes verify report that event, and only it."""
    a_chain = chain_of(trail[0])
    targets = [a_chain[0], a_chain[len(a_chain) // 2], a_chain[-1], platform_chain()[-2]]
    for target in targets:
        event_id, chain = target.id, target.chain
        savepoint = db.session.begin_nested()
        db.session.execute(sa.update(EVENTS).where(EVENTS.c.id == event_id)
                           .values({column: tampered(target, column)}))
        problems = verify()
        assert [(p.chain, p.event_id) for p in problems] == [(chain, event_id)], (column, event_id, problems)
        savepoint.rollback()
        assert verify() == [], "the savepoint should have put the event back"


def test_an_edit_that_reseals_its_own_hash_is_detected_at_the_next_event(trail):
    """Recomputing the edited event's hash does not help: the event after it points at the old hash."""
    events = chain_of(trail[0])
    target, following = events[1], events[2]
    target.actor_email = "forger@example.org"
    new_hash = target.digest()
    db.session.expire_all()
    db.session.execute(sa.update(EVENTS).where(EVENTS.c.id == target.id)
                       .values(actor_email="forger@example.org", hash=new_hash))
    problems = verify()
    assert [(p.chain, p.event_id) for p in problems] == [(str(trail[0].id), following.id)]
    assert "does not point at the event before it" in problems[0].reason


def test_a_raw_sql_edit_is_detected(trail):
    """The same with hand-written SQL, as someone with database access would do it."""
    target = chain_of(trail[1])[1]
    db.session.execute(sa.text("UPDATE audit_events SET actor_email = 'someone.else@example.org' WHERE id = :id"),
                       {"id": target.id})
    [problem] = verify()
    assert problem.event_id == target.id
    assert "content changed" in problem.reason


def test_deleting_a_middle_event_is_detected(trail):
    events = chain_of(trail[0])
    middle_id, middle_seq, following_id = events[2].id, events[2].seq, events[3].id
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.id == middle_id))
    [problem] = verify()
    assert problem.chain == str(trail[0].id)
    assert (problem.event_id, problem.seq) == (following_id, middle_seq + 1)
    assert "missing" in problem.reason


def test_deleting_the_first_event_is_detected(trail):
    first_id, second_id = [e.id for e in chain_of(trail[1])[:2]]
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.id == first_id))
    [problem] = verify()
    assert (problem.chain, problem.event_id) == (str(trail[1].id), second_id)


def test_deleting_the_last_event_is_detected(trail):
    last_id, last_seq = chain_of(trail[0])[-1].id, chain_of(trail[0])[-1].seq
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.id == last_id))
    [problem] = verify()
    assert problem.chain == str(trail[0].id)
    assert problem.seq == last_seq
    assert "removed at the end" in problem.reason


def test_deleting_the_last_platform_event_is_detected(trail):
    last_id, last_seq = platform_chain()[-1].id, platform_chain()[-1].seq
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.id == last_id))
    [problem] = verify()
    assert (problem.chain, problem.seq) == (audit.PLATFORM_CHAIN, last_seq)


def test_renumbering_after_a_deletion_is_detected(trail):
    """Closing the gap left by a deleted event (shifting later events down) still breaks the chain."""
    events = [(e.id, e.seq) for e in chain_of(trail[0])]
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.id == events[1][0]))
    for event_id, seq in events[2:]:
        db.session.execute(sa.update(EVENTS).where(EVENTS.c.id == event_id).values(seq=seq - 1))
    problems = verify()
    assert [(p.chain, p.event_id) for p in problems] == [(str(trail[0].id), events[2][0])]


def test_the_cli_reports_ok_for_an_intact_trail(app, trail):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")
    assert "every chain intact" in result.output
    assert "BROKEN" not in result.output


def test_the_cli_fails_and_names_the_broken_event(app, trail):
    target = chain_of(trail[0])[2]
    db.session.execute(sa.update(EVENTS).where(EVENTS.c.id == target.id).values(action="member.nothing"))
    db.session.expire_all()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"BROKEN chain {trail[0].id}: event {target.id} (#{target.seq})" in result.output
    assert "every chain intact" not in result.output
