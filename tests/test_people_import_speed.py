"""A register import's database work does not grow with its rows: a fixed number of statements per batch of
people (one INSERT of people, one of their checks, one audit event for the import), and reading the people
already on the register and their checks once per batch of ids."""

from datetime import date

import pytest
import sqlalchemy as sa

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.people import bulk_import
from tracker.people.importing import check_rows
from tracker.people.models import Person
from tracker.tracking.models import Item

from .test_tracking_queries import counted_queries

TODAY = date(2026, 11, 23)


def _rows(n, start=0):
    raw = [
        (
            i + 2,
            {
                "full_name": f"Person {i:05d}",
                "email": f"p{i}@example.org" if i % 4 else "",
                "category": "Teaching staff" if i % 2 else "support",
                "start_date": f"2026-0{1 + i % 9}-01",
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
