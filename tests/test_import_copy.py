"""A register import's checks are inserted a batch at a time with ids made at once (by the server on
PostgreSQL, in the driver's form elsewhere)."""

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.people import bulk_import, checklist
from tracker.people.models import Person
from tracker.tracking.models import Item

from .import_rows import checked_rows


def _rows(n):
    return checked_rows(n, label="Copy Person")


def _postgresql():
    return db.engine.dialect.name == "postgresql"


def test_hex_ids_are_new_random_version_4_uuids():
    ids = bulk_import._hex_ids(2000)
    assert len(set(ids)) == 2000
    for text in ids:
        value = uuid.UUID(hex=text)
        assert value.hex == text
        assert value.version == 4 and value.variant == uuid.RFC_4122
    assert bulk_import._hex_ids(0) == []


def test_every_imported_check_is_the_planned_one_with_its_own_id(make_school, monkeypatch):
    """Several batches (overlapped on PostgreSQL): every person gets exactly their planned checklist, each
    check a distinct id that loads as an Item."""
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", 7)
    school = make_school(country="Thailand")
    rows = _rows(40)
    report = bulk_import.import_rows(school, rows)
    assert report.added == 40
    framework = checklist.recruitment_framework()
    context = checklist.plan_context(school)
    people = db.session.execute(sa.select(Person).where(Person.school_id == school.id)).scalars().all()
    assert len(people) == 40
    items = db.session.execute(sa.select(Item).where(Item.school_id == school.id)).scalars().all()
    assert len({i.id for i in items}) == len(items)
    assert all(isinstance(i.id, uuid.UUID) and i.id.version == 4 for i in items)
    by_person = {}
    for item in items:
        by_person.setdefault(item.person_id, set()).add(
            (item.requirement_key, item.country, item.due_on, item.planned_due_on, item.owner_id, item.title)
        )
    for person in people:
        planned = {
            (v["requirement_key"], v["country"], v["due_on"], v["planned_due_on"], v["owner_id"], v["title"])
            for v in checklist.missing_item_values(school, person, framework, context=context)
        }
        assert planned and by_person.get(person.id) == planned, person.full_name
    event = db.session.execute(
        sa.select(AuditEvent.after).where(
            AuditEvent.school_id == school.id, AuditEvent.action == "people.imported"
        )
    ).scalar_one()
    assert event["checks_added"] == len(items)
    db.session.expire_all()
    assert db.session.get(Item, items[0].id).person_id == items[0].person_id


def test_a_failing_insert_of_checks_fails_the_import_and_leaves_nothing(make_school, monkeypatch):
    """The checks' INSERT fails (a requirement that does not exist): the import raises the IntegrityError
    (the job's "someone else added these people"), and nothing of it is kept."""
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", 5)
    school = make_school(country="Thailand")
    real = checklist.missing_item_values

    def broken(*args, **kwargs):
        return [{**v, "requirement_id": uuid.uuid4()} for v in real(*args, **kwargs)]

    monkeypatch.setattr(checklist, "missing_item_values", broken)
    savepoint = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        bulk_import.import_rows(school, _rows(12))
    savepoint.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).where(Person.school_id == school.id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(Item.school_id == school.id)) == 0
