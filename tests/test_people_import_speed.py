"""A register import's database work does not grow with its rows: a fixed number of statements per batch of
people (one INSERT of people, one of their checks, one audit event for the import), and reading the people
already on the register and their checks once per batch of ids. A re-import that moves start dates moves the
open checks a batch of people at a time, and leaves the data update_person leaves."""

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tracker import audit_verify
from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.people import bulk_import, due_dates
from tracker.people import services as people
from tracker.people.importing import check_rows
from tracker.people.models import Person
from tracker.tracking.models import OPEN_STATUSES, Item

from .test_tracking_queries import counted_queries

TODAY = date(2026, 11, 23)


def _rows(n, start=0, year=2026):
    raw = [
        (
            i + 2,
            {
                "full_name": f"Person {i:05d}",
                "email": f"p{i}@example.org" if i % 4 else "",
                "category": "Teaching staff" if i % 2 else "support",
                "start_date": f"{year}-0{1 + i % 9}-01",
                "countries": "Kenya; France" if i % 3 else "",
                "groups": "",
            },
        )
        for i in range(start, start + n)
    ]
    checked = check_rows(raw, today=TODAY)
    assert all(r.ok for r in checked), [r.errors for r in checked if not r.ok][:3]
    return [r.values for r in checked]


def _count(model, school):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.school_id == school.id)
    )


def _import(school, rows):
    with counted_queries() as statements:
        report = bulk_import.import_rows(school, rows)
    return report, statements


def test_adding_20_or_200_people_takes_the_same_statements(make_school):
    counts = []
    for n in (20, 200):
        school = make_school(country="Thailand")
        report, statements = _import(school, _rows(n))
        assert report.added == n and _count(Person, school) == n
        checks = _count(Item, school)
        assert checks > 10 * n
        inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
        assert sum("INTO people" in s for s in inserts) == 1
        assert sum("INTO items" in s for s in inserts) == 1
        assert sum("INTO audit_events" in s for s in inserts) == 1
        counts.append(len(statements))
        event = db.session.execute(
            sa.select(AuditEvent.after).where(
                AuditEvent.school_id == school.id, AuditEvent.action == "people.imported"
            )
        ).scalar_one()
        assert event["added"] == n and len(event["people_added"]) == n and event["checks_added"] == checks
    assert counts[0] == counts[1], counts


def test_importing_the_same_20_or_200_people_again_reads_them_once_and_changes_nothing(make_school):
    counts = []
    for n in (20, 200):
        school = make_school(country="Thailand")
        rows = _rows(n)
        bulk_import.import_rows(school, rows)
        db.session.commit()
        version = db.session.scalar(sa.select(sa.func.sum(Item.version)).where(Item.school_id == school.id))
        report, statements = _import(school, rows)
        assert (report.added, report.changed, report.unchanged) == (0, 0, n)
        assert not [
            s for s in statements if s.lstrip().upper().startswith(("UPDATE ITEMS", "INSERT INTO ITEMS"))
        ]
        assert (
            db.session.scalar(sa.select(sa.func.sum(Item.version)).where(Item.school_id == school.id))
            == version
        )
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("batch", [3, 7])
def test_people_are_written_a_batch_at_a_time(make_school, monkeypatch, batch):
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", batch)
    school = make_school(country="Thailand")
    _, statements = _import(school, _rows(20))
    assert sum("INTO people" in s for s in statements) == -(-20 // batch)
    assert _count(Person, school) == 20


def _events(school, action):
    return db.session.execute(
        sa.select(AuditEvent.after)
        .where(AuditEvent.school_id == school.id, AuditEvent.action == action)
        .order_by(AuditEvent.seq)
    ).all()


def test_moving_the_start_dates_of_20_or_200_people_takes_the_same_statements(make_school):
    """Every start date moves (into the next year, so that the checks' due dates move too): one audit event
    for the import naming each person changed, and the open checks moved a batch of people at a time. (A
    person without an e-mail is matched by name and start date: with another start date, they are new.)"""
    counts = []
    for n in (20, 200):
        school = make_school(country="Thailand")
        bulk_import.import_rows(school, _rows(n))
        db.session.commit()
        report, statements = _import(school, _rows(n, year=2027))
        db.session.commit()
        changed = [r["full_name"] for r in _rows(n) if r["email"]]
        assert (report.added, report.changed, report.unchanged) == (n - len(changed), len(changed), 0)
        assert sum(s.lstrip().upper().startswith("UPDATE ITEMS") for s in statements) == 1
        assert sum("INTO audit_events" in s for s in statements) == 1
        assert _events(school, "person.changed") == []
        [_, (event,)] = _events(school, "people.imported")
        assert sorted(name for _, name, _, _ in event["people_changed"]) == changed
        assert all(set(after) == {"start_on"} for _, _, _, after in event["people_changed"])
        today = school.today()
        open_checks = db.session.execute(
            sa.select(Item, Person.start_on)
            .join(Person, Person.id == Item.person_id)
            .where(Item.school_id == school.id, Item.status.in_(OPEN_STATUSES), Person.email.is_not(None))
        ).all()
        assert event["checks_moved"] == len(open_checks) > 10 * n
        for item, start_on in open_checks:
            due = due_dates.due_for(start_on, due_dates.offset_of(item.requirement), today)
            assert (item.due_on, item.planned_due_on, item.version) == (due.on, due.planned, 2)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert audit_verify.verify_chains() == []


def _changed_rows():
    """Every start date moved a year on (but those of the people without an e-mail, 0 and 4: they would be
    new people); person 1 moved to other countries, person 2 a volunteer now, person 3 with a check verified
    in the file, person 5 with their countries and a check changed too."""
    rows = _rows(8, year=2027)
    old = _rows(8)
    rows[0]["start_on"], rows[4]["start_on"] = old[0]["start_on"], old[4]["start_on"]
    rows[1]["countries"] = ["Brazil"]
    rows[2]["category"] = "volunteer"
    rows[3]["checks"] = [["identity-verified", "", "verified", "2026-11-02", None]]
    rows[5]["countries"] = ["Kenya", "Japan"]
    rows[5]["checks"] = [["police-check-country", "Kenya", "requested", None, None]]
    return rows


def _update_one_by_one(school, rows):
    """What an import did before start-date moves were batched: update_person, then update_check for each
    check the file changes."""
    for r in rows:
        person = db.session.execute(
            sa.select(Person).where(Person.school_id == school.id, Person.full_name == r["full_name"])
        ).scalar_one()
        people.update_person(
            school,
            person,
            email=r["email"],
            full_name=r["full_name"],
            category=r["category"],
            start_on=date.fromisoformat(r["start_on"]),
            leave_on=None,
            countries=r["countries"],
            groups=r["groups"],
        )
        for key, country, status, verified_on, expires_on in r.get("checks") or []:
            item = db.session.execute(
                sa.select(Item).where(
                    Item.person_id == person.id, Item.requirement_key == key, Item.country == country
                )
            ).scalar_one()
            people.update_check(
                school,
                item,
                version=item.version,
                check_status=status,
                verified_on=date.fromisoformat(verified_on) if verified_on else None,
                expires_on=expires_on,
                user=SimpleNamespace(id=None),
            )
    db.session.flush()


def _state(school):
    """Every person and check of the school, by name, without ids and times."""
    db.session.expire_all()
    persons = {
        p.full_name: (p.email, p.category, p.start_on, p.leave_on, p.countries, p.groups, p.user_id)
        for p in db.session.execute(sa.select(Person).where(Person.school_id == school.id)).scalars()
    }
    checks = {
        (i.person.full_name, i.requirement_key, i.country): (
            i.title,
            i.status,
            i.check_status,
            i.due_on,
            i.planned_due_on,
            i.completed_on,
            i.verified_on,
            i.na_reason,
            i.expires_on,
            i.owner_id,
            i.version,
        )
        for i in db.session.execute(sa.select(Item).where(Item.school_id == school.id)).scalars()
    }
    return persons, checks


def test_a_reimport_moving_start_dates_leaves_what_update_person_leaves(make_school):
    """Start dates, countries, categories and checks changed at once: the same people and checks, the same
    versions, as changing each person with update_person; the person changes are in the import's one event."""
    batched, one_by_one = make_school(country="Thailand"), make_school(country="Thailand")
    for school in (batched, one_by_one):
        bulk_import.import_rows(school, _rows(8))
    db.session.commit()
    report = bulk_import.import_rows(batched, _changed_rows())
    _update_one_by_one(one_by_one, _changed_rows())
    db.session.commit()
    assert (report.added, report.changed, report.unchanged) == (0, 6, 2)
    expected = _state(one_by_one)
    assert _state(batched) == expected
    persons, checks = expected
    assert checks[("Person 00001", "police-check-country", "Kenya")][2] == "not_required"
    assert ("Person 00001", "police-check-country", "Brazil") in checks
    verified = checks[("Person 00003", "identity-verified", "")]
    assert verified[2] == "verified" and verified[3] > date(2027, 1, 1)  # moved, then verified
    assert _events(batched, "person.changed") == []
    assert len(_events(batched, "check.changed")) == 2
    [_, (event,)] = _events(batched, "people.imported")
    assert len(event["people_changed"]) == 6
    assert audit_verify.verify_chains() == []


def test_a_check_saved_while_its_due_date_moves_fails_the_move(make_school, monkeypatch):
    """The batched move keeps the optimistic lock: a check whose version changed after it was read is not
    overwritten (StaleDataError, and the import with it), as a flush would refuse it."""
    from sqlalchemy.orm.exc import StaleDataError

    school = make_school(country="Thailand")
    bulk_import.import_rows(school, _rows(4))
    db.session.commit()
    person = (
        db.session.execute(sa.select(Person).where(Person.school_id == school.id, Person.email.is_not(None)))
        .scalars()
        .first()
    )
    due_for, saved = due_dates.due_for, []

    def saved_meanwhile(*args):  # someone saves one of the person's checks after the move read them
        if not saved:
            saved.append(1)
            db.session.execute(
                sa.update(Item)
                .where(
                    Item.id
                    == sa.select(Item.id).where(Item.person_id == person.id).limit(1).scalar_subquery()
                )
                .values(version=Item.version + 1)
            )
        return due_for(*args)

    monkeypatch.setattr(due_dates, "due_for", saved_meanwhile)
    with pytest.raises(StaleDataError):
        due_dates.move_open_checks_of(school, {person.id: date(2027, 5, 1)}, school.today())
