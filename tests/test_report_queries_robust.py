"""The accreditation report's statements and the sign-off's count of incomplete records are driven the way
that stays fast on PostgreSQL before its planner has statistics (a school that has just imported its staff):
no `person_id IN (SELECT people)` semi-join and no join from evidence to the items (each was a nested loop
over a whole table per row, seconds for bench/bench_reports.py's 500 staff); their number does not grow with
the staff; and what they return is the same as before."""

import re
from datetime import timedelta

import pytest

from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.people import register
from tracker.people import services as people
from tracker.reports import data as gather
from tracker.reports.sign_off import open_elsewhere
from tracker.tracking import services as tracking
from tracker.tracking.models import DONE, Item

from .test_tracking_queries import counted_queries

#: `items.person_id IN (SELECT people.id ...)`: the semi-join planned as a nested loop without statistics
PEOPLE_SUBSELECT = re.compile(r"person_id\s+IN\s*\(\s*SELECT\s+people\.id", re.IGNORECASE)
#: evidence joined to the items (rather than each piece's item read by its primary key)
EVIDENCE_JOINS_ITEMS = re.compile(r"FROM evidence JOIN items", re.IGNORECASE)


@pytest.fixture
def school_year(make_school, make_member):
    school = make_school(timezone="Asia/Bangkok", year_start_month=8)
    head = make_member(school, "head").user
    today = school.today()
    year = tracking.start_year(school, today.year if today.month >= 8 else today.year - 1)
    db.session.commit()
    return school, year, head


def _add_staff(school, head, n, tag, *, leave_on=None):
    today = school.today()
    added = [
        people.add_person(
            school,
            full_name=f"{tag} person {k}",
            email=None,
            category="teaching",
            start_on=today - timedelta(days=400),
            countries=["Thailand", "Kenya"],
        )
        for k in range(n)
    ]
    db.session.flush()
    for person in added:
        checks = (
            db.session.execute(db.select(Item).where(Item.person_id == person.id).order_by(Item.title))
            .scalars()
            .all()
        )
        checks[0].status = DONE
        checks[0].check_status, checks[0].verified_on = "verified", today - timedelta(days=30)
        _evidence(school, checks[0], f"{tag}-{person.full_name}.pdf", head)
        if leave_on is not None:
            person.leave_on = leave_on
    db.session.commit()
    return added


def _evidence(school, item, name, head):
    db.session.add(
        Evidence(
            school_id=school.id,
            item_id=item.id,
            kind="file",
            name=name,
            stored_name=None,
            content_type="application/pdf",
            size=10,
            sha256=name.encode().hex()[:64].ljust(64, "0"),
            uploaded_by_id=head.id,
        )
    )


def _gathered(school, year):
    gather.accreditation(
        school, year
    )  # warm up: objects expired by the commit, what is read once per context
    with counted_queries() as statements:
        data = gather.accreditation(school, year)
    return data, statements


def test_gathering_the_accreditation_report_is_driven_robustly_and_does_not_grow_with_the_staff(school_year):
    school, year, head = school_year
    year_item = (
        db.session.execute(db.select(Item).where(Item.year_id == year.id).order_by(Item.title))
        .scalars()
        .first()
    )
    _evidence(school, year_item, "year-plan.pdf", head)
    _add_staff(school, head, 2, "First")
    _, few = _gathered(school, year)
    _add_staff(school, head, 4, "Second")
    data, more = _gathered(school, year)
    assert len(more) == len(few)
    for statement in more:
        assert not PEOPLE_SUBSELECT.search(statement), statement
        assert not EVIDENCE_JOINS_ITEMS.search(statement), statement
    # every current person's verified check and the year's item are in the evidence index, in upload order
    names = [e["name"] for e in data["evidence"]]
    assert names[0] == "year-plan.pdf" and len(names) == 7
    assert [e["ref"] for e in data["evidence"]] == [f"E{n}" for n in range(1, 8)]
    assert all(e["uploaded_by"] == (head.name or head.email) for e in data["evidence"])
    assert data["register"]["people"] == 6


def test_evidence_of_a_leaver_or_of_another_year_is_not_in_the_index(school_year):
    school, year, head = school_year
    _add_staff(school, head, 1, "Current")
    _add_staff(school, head, 1, "Gone", leave_on=school.today() - timedelta(days=5))
    older = tracking.start_year(school, year.starts_on.year - 1)
    db.session.flush()
    old_item = db.session.execute(db.select(Item).where(Item.year_id == older.id)).scalars().first()
    _evidence(school, old_item, "last-year.pdf", head)
    db.session.commit()
    names = [e["name"] for e in gather.accreditation(school, year)["evidence"]]
    assert names == ["Current-Current person 0.pdf"]


def test_the_register_and_the_sign_offs_count_agree_whoever_has_left(school_year):
    school, year, head = school_year
    current = _add_staff(school, head, 3, "Current")
    gone = _add_staff(school, head, 2, "Gone", leave_on=school.today() - timedelta(days=5))
    _, rows, _ = register.build(school)
    assert sorted(r.person.full_name for r in rows) == sorted(p.full_name for p in current)
    _, left, _ = register.build(school, "leavers")
    assert sorted(r.person.full_name for r in left) == sorted(p.full_name for p in gone)
    # each leaver's row holds their own checks (kept in Python from the school's, not read per person)
    assert all(i.person_id == r.person.id for r in left for c in r.cells.values() for i in c.items)
    assert all(any(c.items for c in r.cells.values()) for r in left)
    # the incomplete people as a list of ids, a set, or the register's SELECT: the same answer
    query = register._people_query(school, "").with_only_columns(register.Person.id).order_by(None)
    ids = [p.id for p in current]
    assert (
        register._incomplete_people(school, ids)
        == register._incomplete_people(school, set(ids))
        == register._incomplete_people(school, query)
        == set(ids)
    )
    with counted_queries() as statements:
        lines = open_elsewhere(school, year=year, today=school.today())
    [recruitment] = [line for line in lines if line.kind == "recruitment"]
    assert recruitment.count == 3  # the leavers' open checks do not count
    assert not any(PEOPLE_SUBSELECT.search(s) for s in statements), statements


def test_a_register_page_reads_only_its_people_checks(school_year, app):
    school, _, head = school_year
    _add_staff(school, head, 3, "Paged")
    with app.test_request_context("/?page=1"), counted_queries() as statements:
        _, rows, page = register.build(school, paged=True)
    assert len(rows) == 3 and page is not None
    [items] = [s for s in statements if re.search(r"FROM items LEFT OUTER JOIN users", s)]
    assert re.search(r"person_id\s+IN\s*\(", items)  # the page's (few) people, bound


def test_gathering_and_laying_out_run_without_cyclic_collections_and_give_them_back(app, monkeypatch):
    """Full collections over the whole heap were 40% of gathering and templating the 500-staff report."""
    import gc

    from tracker.reports import drafts

    seen = []
    monkeypatch.setattr(drafts.gather, "training_record", lambda school, person: seen.append(gc.isenabled()))
    assert gc.isenabled()
    drafts.collect(None, drafts.Request("training_record"))
    assert seen == [False] and gc.isenabled()
    gc.disable()  # off already (someone else's choice): left off
    try:
        drafts.collect(None, drafts.Request("training_record"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_render_child_is_forked_from_a_frozen_heap_and_the_parent_unfreezes(monkeypatch):
    import gc
    import multiprocessing

    from tracker.reports import render

    frozen_at_start = []
    real = multiprocessing.get_context("fork").Process.start

    def start(self):
        frozen_at_start.append(gc.get_freeze_count())
        return real(self)

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", start)
    rendered = render.render_pdf("<!doctype html><html lang=en><p>Frozen.</p></html>", title="t")
    assert rendered.pages == 1
    assert frozen_at_start and frozen_at_start[0] > 0
    assert gc.get_freeze_count() == 0
