"""The audit trail is chained and sealed with a key: any edit, insertion or deletion of a stored event is
detected and named, also when the attacker re-chains every later event and moves the head (without the key);
key rotation and the sealing of chains made before keys existed."""

import hashlib
import hmac
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker import audit, audit_verify
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
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.chain == str(school.id)).order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def platform_chain():
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.chain == audit.PLATFORM_CHAIN).order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def verify():
    db.session.expire_all()  # verify what is stored, not what this session remembers
    return audit_verify.verify_chains()


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
        db.session.execute(
            sa.update(EVENTS).where(EVENTS.c.id == event_id).values({column: tampered(target, column)})
        )
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
    db.session.execute(
        sa.update(EVENTS)
        .where(EVENTS.c.id == target.id)
        .values(actor_email="forger@example.org", hash=new_hash)
    )
    problems = verify()
    assert [(p.chain, p.event_id) for p in problems] == [(str(trail[0].id), following.id)]
    assert "does not point at the event before it" in problems[0].reason


def test_a_raw_sql_edit_is_detected(trail):
    """The same with hand-written SQL, as someone with database access would do it."""
    target = chain_of(trail[1])[1]
    db.session.execute(
        sa.text("UPDATE audit_events SET actor_email = 'someone.else@example.org' WHERE id = :id"),
        {"id": target.id},
    )
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


# --- The keyed chain: someone with write access to the database but not the audit key -----------------------
#
# Each attack below is made the way an attacker with database access would: rows are changed with direct SQL,
# every later event is re-chained and re-sealed, and the chain head is moved to match, so that the only thing
# left to catch them is the key. Each must be reported by verify.

ATTACKER_KEY = "attacker-" + "x" * 40
HEADS = audit.AuditHead.__table__
COLUMNS = [c.name for c in EVENTS.columns if c.name not in ("id", "hash")]


def stored_rows(chain):
    return [
        dict(r._mapping)
        for r in db.session.execute(sa.select(EVENTS).where(EVENTS.c.chain == chain).order_by(EVENTS.c.seq))
    ]


def plain_sha256(event):
    return hashlib.sha256(event.canonical()).hexdigest()


def mac_with(key):
    return lambda event: hmac.new(key.encode(), event.canonical(), hashlib.sha256).hexdigest()


def rewrite(chain, rows, seal, key_id=None, from_seq=1):
    """Store `rows` as the whole chain: renumbered, re-chained and re-sealed with `seal` from position
    `from_seq` on (earlier rows are kept as they are), stamped with `key_id` when given; the head follows."""
    db.session.execute(sa.update(EVENTS).where(EVENTS.c.chain == chain).values(seq=-EVENTS.c.seq))
    prev = audit.GENESIS
    for seq, row in enumerate(rows, 1):
        row = {**row, "seq": seq}
        if seq >= from_seq:
            row["prev_hash"] = prev
            if key_id is not None:
                row["key_id"] = key_id
            event = AuditEvent(**{c: row[c] for c in COLUMNS})
            row["hash"] = seal(event)
        if row.get("id"):
            db.session.execute(
                sa.update(EVENTS)
                .where(EVENTS.c.id == row["id"])
                .values({c: row[c] for c in COLUMNS + ["hash"]})
            )
        else:
            db.session.execute(sa.insert(EVENTS).values({c: row[c] for c in COLUMNS + ["hash"]}))
        prev = row["hash"]
    db.session.execute(sa.delete(EVENTS).where(EVENTS.c.chain == chain, EVENTS.c.seq < 0))
    db.session.execute(sa.update(HEADS).where(HEADS.c.chain == chain).values(seq=len(rows), hash=prev))


def edited(rows, index, **values):
    return [({**row, **values} if i == index else row) for i, row in enumerate(rows)]


def forged_event(rows, index):
    """A plausible new event to slip in at `index`: a copy of its neighbour claiming another change."""
    model = rows[min(index, len(rows) - 1)]
    return {
        **model,
        "id": None,
        "action": "member.role_changed",
        "after": {"role": "lead"},
        "actor_email": "forger@example.org",
    }


def attack_edit_plain_sha256_same_key_id(chain, rows, ring):
    rewrite(chain, edited(rows, 2, actor_email="forger@example.org"), plain_sha256, from_seq=3)
    return 3


def attack_edit_plain_sha256_as_legacy(chain, rows, ring):
    rewrite(chain, edited(rows, 2, actor_email="forger@example.org"), plain_sha256, key_id="", from_seq=3)
    return 3


def attack_whole_chain_rewritten_as_legacy(chain, rows, ring):
    rewrite(chain, edited(rows, 2, actor_email="forger@example.org"), plain_sha256, key_id="")
    return len(rows)  # internally consistent, but nothing keyed vouches for it


def attack_edit_wrong_key_same_key_id(chain, rows, ring):
    rewrite(chain, edited(rows, 2, after={"role": "lead"}), mac_with(ATTACKER_KEY), from_seq=3)
    return 3


def attack_edit_wrong_key_own_key_id(chain, rows, ring):
    rewrite(
        chain,
        edited(rows, 2, after={"role": "lead"}),
        mac_with(ATTACKER_KEY),
        key_id=audit.key_id(ATTACKER_KEY),
        from_seq=3,
    )
    return 3


def attack_insert_in_the_middle_plain_sha256(chain, rows, ring):
    rewrite(chain, rows[:2] + [forged_event(rows, 2)] + rows[2:], plain_sha256, from_seq=3)
    return 3


def attack_insert_in_the_middle_wrong_key(chain, rows, ring):
    rewrite(chain, rows[:2] + [forged_event(rows, 2)] + rows[2:], mac_with(ATTACKER_KEY), from_seq=3)
    return 3


def attack_append_at_the_end_plain_sha256(chain, rows, ring):
    rewrite(chain, rows + [forged_event(rows, len(rows))], plain_sha256, from_seq=len(rows) + 1)
    return len(rows) + 1


def attack_append_at_the_end_as_legacy(chain, rows, ring):
    rewrite(chain, rows + [forged_event(rows, len(rows))], plain_sha256, key_id="", from_seq=len(rows) + 1)
    return len(rows) + 1


def attack_delete_in_the_middle_and_reseal_wrong_key(chain, rows, ring):
    rewrite(chain, rows[:2] + rows[3:], mac_with(ATTACKER_KEY), from_seq=3)
    return 3


KEYLESS_ATTACKS = [
    attack_edit_plain_sha256_same_key_id,
    attack_edit_plain_sha256_as_legacy,
    attack_whole_chain_rewritten_as_legacy,
    attack_edit_wrong_key_same_key_id,
    attack_edit_wrong_key_own_key_id,
    attack_insert_in_the_middle_plain_sha256,
    attack_insert_in_the_middle_wrong_key,
    attack_append_at_the_end_plain_sha256,
    attack_append_at_the_end_as_legacy,
    attack_delete_in_the_middle_and_reseal_wrong_key,
]


@pytest.mark.parametrize("attack", KEYLESS_ATTACKS, ids=lambda f: f.__name__.removeprefix("attack_"))
@pytest.mark.parametrize("whose", ["school", "platform"])
def test_a_rewrite_without_the_audit_key_is_detected(trail, attack, whose):
    """Re-chaining every later event and moving the head is not enough without the key: verify names the
    first forged position, in that chain only, and the CLI fails."""
    chain = str(trail[0].id) if whose == "school" else audit.PLATFORM_CHAIN
    rows = stored_rows(chain)
    assert len(rows) >= 4 and {r["key_id"] for r in rows} == {audit.keyring().current_id}
    first_bad = attack(chain, rows, audit.keyring())
    problems = verify()
    assert [(p.chain, p.seq) for p in problems] == [(chain, first_bad)], problems
    result = trail_cli()
    assert result.exit_code == 1 and "BROKEN" in result.output and "every chain intact" not in result.output


def trail_cli(*args):
    from flask import current_app

    db.session.expire_all()
    return current_app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_the_attack_helpers_are_faithful(trail):
    """Control: rewriting a chain with the real key and changing nothing leaves it verifying, so what the
    attacks above are caught on is the missing key, not a slip in the way they write rows."""
    chain = str(trail[0].id)
    rows = stored_rows(chain)
    rewrite(chain, rows, lambda event: event.digest(), from_seq=1)
    assert verify() == []
    assert [r["hash"] for r in stored_rows(chain)] == [r["hash"] for r in rows]


def test_events_are_sealed_with_hmac_under_the_key_and_record_its_id_not_the_key(app, trail):
    key = app.config["TRACKER_AUDIT_KEY"]
    [row] = stored_rows(str(trail[0].id))[:1]
    event = AuditEvent(**{c: row[c] for c in COLUMNS})
    assert row["key_id"] == audit.key_id(key) and len(row["key_id"]) == 12 and row["key_id"] not in key
    assert row["hash"] == mac_with(key)(event) != plain_sha256(event)


@pytest.fixture
def rotate(app, monkeypatch):
    """Make `new` the current key, with `old` (a list) still allowed to verify."""

    def rotate(new, old):
        monkeypatch.setitem(app.config, "TRACKER_AUDIT_KEY", new)
        monkeypatch.setitem(app.config, "TRACKER_AUDIT_OLD_KEYS", old)

    return rotate


def test_after_rotation_old_events_verify_with_old_keys_and_fail_without(app, trail, rotate):
    first_key = app.config["TRACKER_AUDIT_KEY"]
    second_key, third_key = "second-" + "s" * 40, "third-" + "t" * 40
    school = trail[0]
    rotate(second_key, [first_key])
    update_settings(school, name="Renamed under the second key")  # audited: an event under the second key
    db.session.commit()
    rotate(third_key, [first_key, second_key])
    update_settings(school, name="Renamed under the third key")
    db.session.commit()
    ids = [r["key_id"] for r in stored_rows(str(school.id))]
    assert ids[0] == audit.key_id(first_key) and ids[-1] == audit.key_id(third_key)
    assert audit.key_id(second_key) in ids
    assert verify() == []
    assert trail_cli().exit_code == 0

    rotate(third_key, [second_key])  # the first key removed while events made with it exist
    problems = verify()
    assert {p.chain for p in problems} == {str(trail[0].id), str(trail[1].id), audit.PLATFORM_CHAIN}
    assert all(
        p.seq == 1 and audit.key_id(first_key) in p.reason and "TRACKER_AUDIT_OLD_KEYS" in p.reason
        for p in problems
    ), problems
    rotate(third_key, [first_key])  # the second removed: the school's chain fails where it was used
    [problem] = verify()
    assert problem.chain == str(school.id) and audit.key_id(second_key) in problem.reason
    assert ids[problem.seq - 1] == audit.key_id(second_key)


def test_the_keys_come_from_the_settings_and_production_requires_one(tmp_path, monkeypatch):
    from tracker.config import ConfigError, build_config

    monkeypatch.delenv("TRACKER_AUDIT_KEY", raising=False)
    monkeypatch.delenv("TRACKER_AUDIT_OLD_KEYS", raising=False)
    with pytest.raises(ConfigError, match="TRACKER_AUDIT_KEY"):
        build_config(tmp_path, {"TRACKER_ENV": "production", "SECRET_KEY": "s" * 64})
    assert not (tmp_path / "audit_key").exists()
    first = build_config(tmp_path, {"SECRET_KEY": "s" * 64})["TRACKER_AUDIT_KEY"]
    assert len(first) == 64 and build_config(tmp_path, {"SECRET_KEY": "s"})["TRACKER_AUDIT_KEY"] == first
    assert (tmp_path / "audit_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("TRACKER_AUDIT_KEY", "n" * 40)
    monkeypatch.setenv("TRACKER_AUDIT_OLD_KEYS", f" {'o' * 40} ,{'p' * 40},")
    config = build_config(
        tmp_path,
        {
            "TRACKER_ENV": "production",
            "SECRET_KEY": "s" * 64,
            "TRACKER_BASE_URL": "https://tracker.example.org",
        },
    )
    assert config["TRACKER_AUDIT_KEY"] == "n" * 40
    assert config["TRACKER_AUDIT_OLD_KEYS"] == ["o" * 40, "p" * 40]
    monkeypatch.setenv("TRACKER_AUDIT_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        build_config(tmp_path, {"SECRET_KEY": "s" * 64})


# --- Chains made before the key: the migration seals them ---------------------------------------------------


def _migration():
    import importlib.util
    from pathlib import Path

    path = next((Path(__file__).parent.parent / "migrations" / "versions").glob("*_c0ffee000071_*.py"))
    spec = importlib.util.spec_from_file_location("audit_key_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_legacy(chain):
    """Turn a chain into what the code before keys stored: empty key ids, plain SHA-256."""
    rewrite(chain, stored_rows(chain), plain_sha256, key_id="")


def test_the_migration_seals_legacy_chains_so_they_verify_and_stay_protected(app, trail):
    chains = [str(trail[0].id), str(trail[1].id), audit.PLATFORM_CHAIN]
    before = {chain: stored_rows(chain) for chain in chains}
    for chain in chains:
        make_legacy(chain)
    problems = verify()
    assert {p.chain for p in problems} == set(chains)
    assert all("no keyed event follows" in p.reason for p in problems)

    sealed = _migration().seal_chains(db.session.connection(), app.config["TRACKER_AUDIT_KEY"])
    assert sealed == 3
    assert verify() == []
    for chain in chains:
        rows = stored_rows(chain)
        assert [r["seq"] for r in rows[:-1]] == [r["seq"] for r in before[chain]]  # one added, none rewritten
        assert rows[-1]["action"] == "audit.sealed" and rows[-1]["key_id"] == audit.keyring().current_id
        assert all(r["key_id"] == "" for r in rows[:-1])
    assert _migration().seal_chains(db.session.connection(), app.config["TRACKER_AUDIT_KEY"]) == 0  # once

    # a legacy event edited afterwards, with every legacy hash recomputed, is caught at the keyed seal
    chain = chains[0]
    rows = stored_rows(chain)
    rewrite(chain, edited(rows, 1, actor_email="forger@example.org"), plain_sha256, from_seq=2)
    [problem] = verify()
    assert (problem.chain, problem.seq) == (chain, len(rows))
