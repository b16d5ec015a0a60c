"""Bulk work on the item list: search, sort by any column, bulk assign / move / change status (all or nothing,
audited like one by one), the CSV and XLSX export of everything the filters find, and query counts."""

import csv
import io
import re
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tracker.audit import AuditEvent
from tracker.extensions import db
from tracker.tracking import services
from tracker.tracking.models import DONE, IN_PROGRESS, NOT_APPLICABLE, NOT_STARTED, Item

from .conftest import audit_count
from .test_tracking_queries import _count_get, _school_with_items, counted_queries
from .world import sign_in

ROOT = Path(__file__).resolve().parent.parent
STATUS_ORDER = {NOT_STARTED: 0, IN_PROGRESS: 1, DONE: 2, NOT_APPLICABLE: 3}
NAMES = {
    "lead": "Dana Lead",
    "head": "Hana Head",
    "hr": "Harri Recruit",
    "staff": "Sam Staff",
    "alex": "alex Teacher",  # lower case: the owner sort ignores case
    "accreditor": "Avery Visitor",
}
#: (title, section, framework index or None, owner key or None, status, days after the year starts)
SPECS = [
    ("alpha check", "Start of year", 0, "staff", NOT_STARTED, 10),
    ("Bravo review", "Each term", 1, "lead", IN_PROGRESS, 40),
    ("charlie plan", "Mid year", None, None, DONE, 5),
    ("Delta audit", "End of year", 0, "alex", NOT_APPLICABLE, 200),
    ("echo session", "Start of year", 1, None, NOT_STARTED, 40),
    ("Foxtrot survey", "Mid year", None, "staff", IN_PROGRESS, 120),
    ("golf 100% trained", "Each term", 1, "head", NOT_STARTED, 60),
    ("hotel under_score", "End of year", None, "lead", DONE, 60),
]


class World:
    pass


def _items(year_id):
    return db.session.execute(sa.select(Item).where(Item.year_id == year_id)).scalars().all()


@pytest.fixture
def world(make_school, make_member):
    w = World()
    w.school = make_school(timezone="UTC", year_start_month=8)
    w.members = {
        key: make_member(
            w.school,
            "staff" if key == "alex" else key,
            name=name,
            email=f"{key}-{uuid.uuid4().hex[:6]}@example.org",
        )
        for key, name in NAMES.items()
    }
    w.year = services._create_year(w.school, 2026)
    w.frameworks = w.year.frameworks[:2]
    w.items = {}
    for title, section, fw, owner, status, days in SPECS:
        item = Item(
            school_id=w.school.id,
            year_id=w.year.id,
            framework_id=w.frameworks[fw].id if fw is not None else None,
            kind="task" if fw is not None else "own",
            section_title=section,
            title=title,
            owner_role="lead",
            owner_id=w.members[owner].user_id if owner else None,
            due_on=w.year.starts_on + timedelta(days=days),
            status=status,
            na_reason="Not here" if status == NOT_APPLICABLE else "",
            completed_on=date(2026, 9, 1) if status == DONE else None,
        )
        db.session.add(item)
        w.items[title] = item
    db.session.commit()
    return w


def _client(app, world, role="lead"):
    return sign_in(app.test_client(), world.members[role].user)


def _titles(html, slug):
    """The item titles the list shows, in order."""
    return re.findall(rf'<a href="/s/{slug}/items/[0-9a-f-]{{36}}">([^<]*)</a>', html)


def _list(client, world, **params):
    params.setdefault("year", world.year.id)
    response = client.get(f"/s/{world.school.slug}/items", query_string=params)
    return response, response.get_data(as_text=True)


# --- search -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q,expected",
    [
        ("BRAVO", {"Bravo review"}),  # case-insensitive
        ("mid YEAR", {"charlie plan", "Foxtrot survey"}),  # the section
        ("sam staff", {"alpha check", "Foxtrot survey"}),  # the owner's name
        ("alex", {"Delta audit"}),  # lower-case name, and the e-mail address
        ("start check", {"alpha check"}),  # every word somewhere
        ("100%", {"golf 100% trained"}),  # % is a character, not "anything"
        ("%", {"golf 100% trained"}),
        ("_", {"hotel under_score"}),  # _ is a character, not "any one character"
        ("r_v", set()),
        ("\\", set()),
        ("nothing-like-this", set()),
    ],
)
def test_search_finds_words_in_title_section_framework_and_owner(app, world, q, expected):
    response, html = _list(_client(app, world), world, q=q)
    assert response.status_code == 200
    assert set(_titles(html, world.school.slug)) == expected
    if not expected:
        assert "No items match" in html and "Show every item" in html


def test_search_by_framework_title(app, world):
    title = world.frameworks[1].title
    word = max(title.split(), key=len)
    _, html = _list(_client(app, world), world, q=word.upper())
    found = set(_titles(html, world.school.slug))
    assert {t for t, _, fw, *_ in SPECS if fw == 1} <= found
    assert not {t for t, _, fw, *_ in SPECS if fw is None} & found


def test_search_refuses_what_it_cannot_search_for(app, world):
    client = _client(app, world)
    assert _list(client, world, q="x" * 201)[0].status_code == 400
    response, html = _list(client, world, q="bad\x1btext")
    assert response.status_code == 400 and "U+001B" in html
    assert _list(client, world, framework="bad\x01key")[0].status_code == 400
    assert _export(client, world, "csv", q="bad\x1btext").status_code == 400


def test_staff_search_only_their_own_items(app, world):
    _, html = _list(_client(app, world, "staff"), world, q="e")  # most titles have an e
    assert set(_titles(html, world.school.slug)) == {"alpha check", "Foxtrot survey"}


# --- sort ---------------------------------------------------------------------------------------------------


def _expected_order(world, sort, desc):
    names = {m.user_id: m.user.name for m in world.members.values()}
    own = "School's own"
    rows = []
    for title, _section, fw, _owner, status, _days in SPECS:
        item = world.items[title]
        rows.append(
            {
                "title": title,
                "framework": (world.frameworks[fw].title if fw is not None else own).lower(),
                "due": item.due_on,
                "owner": names[item.owner_id].lower() if item.owner_id else None,
                "status": STATUS_ORDER[status],
            }
        )
    ties = (lambda r: (r["title"].lower(),)) if sort == "due" else (lambda r: (r["due"], r["title"].lower()))
    rows.sort(key=ties)
    if sort == "owner":
        rows.sort(key=lambda r: r["owner"] or "", reverse=desc)
        rows.sort(key=lambda r: r["owner"] is None)  # no owner: last, either way
    else:
        rows.sort(key=lambda r: r["title"].lower() if sort == "title" else r[sort], reverse=desc)
    return [r["title"] for r in rows]


@pytest.mark.parametrize("desc", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", ["title", "framework", "due", "owner", "status"])
def test_sort_by_every_column_both_ways(app, world, sort, desc):
    response, html = _list(_client(app, world), world, sort=sort, dir="desc" if desc else "asc")
    assert response.status_code == 200
    assert _titles(html, world.school.slug) == _expected_order(world, sort, desc)
    sorted_by = re.findall(r'<th scope="col" aria-sort="(\w+)"><a class="sort-link" href="([^"]+)"', html)
    assert len(sorted_by) == 1, "one column says it is the sorted one"
    aria, href = sorted_by[0]
    assert aria == ("descending" if desc else "ascending")
    assert f"sort={sort}" in href and ("dir=desc" in href) != desc, "its heading turns the order round"


def test_sort_is_kept_by_pagination_filters_and_export_and_refuses_unknown_columns(app, world):
    for n in range(55):
        db.session.add(
            Item(
                school_id=world.school.id,
                year_id=world.year.id,
                kind="own",
                title=f"extra {n:02d}",
                owner_role="lead",
                due_on=world.year.starts_on + timedelta(days=n),
            )
        )
    db.session.commit()
    client = _client(app, world)
    response, html = _list(client, world, sort="title", dir="desc", q="extra")
    assert _titles(html, world.school.slug)[:2] == ["extra 54", "extra 53"]
    next_link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    for part in ("sort=title", "dir=desc", "q=extra", "page=2"):
        assert part in next_link
    page_two = client.get(next_link).get_data(as_text=True)
    assert _titles(page_two, world.school.slug) == [
        "extra 04",
        "extra 03",
        "extra 02",
        "extra 01",
        "extra 00",
    ]
    assert re.search(r'export\.csv\?[^"]*sort=title', html) and re.search(
        r'export\.xlsx\?[^"]*dir=desc', html
    )
    assert 'name="sort"' in html and '<option value="title" selected>' in html  # the filter form keeps it
    assert _list(client, world, sort="owner_id")[0].status_code == 400
    assert _list(client, world, sort="title", dir="sideways")[0].status_code == 400


# --- bulk changes -------------------------------------------------------------------------------------------


def _bulk(client, world, items, query=None, **data):
    query = {"year": world.year.id, **(query or {})}
    return client.post(
        f"/s/{world.school.slug}/items/bulk",
        query_string=query,
        data={"items": [str(world.items[t].id) for t in items], **data},
    )


def _events(world, since):
    return (
        db.session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.school_id == world.school.id, AuditEvent.seq > since)
            .order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def _head(world):
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0)).where(
            AuditEvent.school_id == world.school.id
        )
    )


def _fresh(world, title):
    db.session.expire_all()
    return db.session.get(Item, world.items[title].id)


def test_lead_assigns_several_items_each_audited_and_the_list_keeps_its_filters(app, world):
    client = _client(app, world)
    staff = world.members["staff"].user
    chosen = ["Bravo review", "charlie plan", "echo session"]
    head = _head(world)
    query = {"q": "e", "sort": "owner", "dir": "desc", "status": ""}
    response = _bulk(client, world, chosen, query=query, change="assign", owner=str(staff.id))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    location = response.headers["Location"]
    for part in ("q=e", "sort=owner", "dir=desc", f"year={world.year.id}"):
        assert part in location
    for title in chosen:
        assert _fresh(world, title).owner_id == staff.id
    events = _events(world, head)
    assert [e.action for e in events] == ["item.changed"] * 3
    assert {e.subject_id for e in events} == {str(world.items[t].id) for t in chosen}
    assert all(e.after == {"owner": staff.email} for e in events)
    assert all(e.actor_email == world.members["lead"].user.email for e in events)
    page = client.get(location).get_data(as_text=True)
    assert "Assigned 3 items to Sam Staff." in page


def test_taking_the_owner_off_and_items_already_so(app, world):
    client = _client(app, world)
    response = _bulk(client, world, ["alpha check", "charlie plan"], change="assign", owner="none")
    assert response.status_code == 302
    assert _fresh(world, "alpha check").owner_id is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Took the owner off 2 items. 1 of them already was." in page


def test_move_due_dates_to_a_date_and_by_days(app, world):
    client = _client(app, world)
    before = {t: world.items[t].due_on for t in ("alpha check", "Bravo review")}
    response = _bulk(client, world, list(before), change="move", due_on="2026-10-15")
    assert response.status_code == 302
    assert {_fresh(world, t).due_on for t in before} == {date(2026, 10, 15)}
    head = _head(world)
    response = _bulk(client, world, list(before), change="move", shift_days="-7")
    assert response.status_code == 302
    assert {_fresh(world, t).due_on for t in before} == {date(2026, 10, 8)}
    events = _events(world, head)
    assert [(e.before, e.after) for e in events] == [({"due_on": "2026-10-15"}, {"due_on": "2026-10-08"})] * 2
    assert "Moved 2 items 7 days earlier." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_move_needs_a_date_or_days_but_not_both(app, world):
    client = _client(app, world)
    for data, message in (
        ({}, "Give a new due date, or a number of days"),
        ({"due_on": "2026-10-15", "shift_days": "3"}, "not both"),
        ({"shift_days": "0"}, "other than 0"),
        ({"shift_days": "9999"}, "at most 366 days"),
        ({"due_on": "2026-02-30"}, "Not a valid date"),
    ):
        response = _bulk(client, world, ["alpha check"], change="move", **data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert _fresh(world, "alpha check").due_on == world.year.starts_on + timedelta(days=10)


def test_change_status_with_the_rules_of_one_by_one(app, world):
    client = _client(app, world)
    chosen = ["alpha check", "echo session"]
    head = _head(world)
    response = _bulk(client, world, chosen, change="status", status="not_applicable", na_reason="")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Say why the items do not apply" in html and "Nothing was changed" in html
    assert _head(world) == head and {_fresh(world, t).status for t in chosen} == {NOT_STARTED}

    response = _bulk(client, world, chosen, change="status", status="done", completed_on="2026-09-20")
    assert response.status_code == 302
    for title in chosen:
        item = _fresh(world, title)
        assert (item.status, item.completed_on, item.na_reason) == (DONE, date(2026, 9, 20), "")
    events = _events(world, head)
    assert [e.after for e in events] == [{"status": "done", "completed_on": "2026-09-20"}] * 2

    response = _bulk(client, world, chosen, change="status", status="not_applicable", na_reason="No boarders")
    assert response.status_code == 302
    item = _fresh(world, "alpha check")
    assert (item.status, item.completed_on, item.na_reason) == (NOT_APPLICABLE, None, "No boarders")
    assert "Marked 2 items Not applicable." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_policy_questions_status_is_not_changed_in_bulk_but_its_owner_is(app, world):
    """A policy question's status follows where the school stands (set on its page), so a bulk status change
    that includes one changes nothing and says so; assigning it works."""
    question = world.items["echo session"]
    question.kind = "answer"
    db.session.commit()
    client = _client(app, world)
    head = _head(world)
    response = _bulk(client, world, ["alpha check", "echo session"], change="status", status="done")
    assert response.status_code == 400
    assert "“echo session”" in response.get_data(as_text=True) and "policy question" in response.get_data(
        as_text=True
    )
    assert _head(world) == head and _fresh(world, "alpha check").status == NOT_STARTED
    response = _bulk(client, world, ["echo session"], change="assign", owner=str(world.members["hr"].user_id))
    assert (
        response.status_code == 302 and _fresh(world, "echo session").owner_id == world.members["hr"].user_id
    )


def test_all_or_nothing_a_failing_item_names_itself_and_nothing_is_saved(app, world):
    """The last of three items cannot move (its new due date is past the date policy's window): the two
    before it are not moved either, no event is recorded, and the page names the item, says why and keeps the
    form."""
    late = world.items["hotel under_score"]
    late.due_on = date.today() + timedelta(days=5 * 365 - 3)
    db.session.commit()
    client = _client(app, world)
    chosen = ["alpha check", "Bravo review", "hotel under_score"]
    before = {t: _fresh(world, t).due_on for t in chosen}
    head, count = _head(world), audit_count()
    response = _bulk(client, world, chosen, query={"q": "o"}, change="move", shift_days="30")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was changed" in html and "“hotel under_score”" in html and "check the year" in html
    assert f'id="row-{late.id}" class="row-error"' in html
    assert 'name="shift_days" type="number" value="30"' in html or 'value="30"' in html
    for title in chosen:
        assert re.search(rf'value="{world.items[title].id}"[^>]*checked', html), "the selection is kept"
    assert {t: _fresh(world, t).due_on for t in chosen} == before
    assert _head(world) == head and audit_count() == count


def test_owner_must_be_a_member_who_may_own_items(app, world, make_school, make_member):
    client = _client(app, world)
    outsider = make_member(make_school(), "lead")
    for owner in (str(outsider.user_id), str(world.members["accreditor"].user_id), "not-a-uuid", ""):
        response = _bulk(client, world, ["alpha check"], change="assign", owner=owner)
        assert response.status_code == 400, owner
        assert "Choose the new owner" in response.get_data(as_text=True)
    assert _fresh(world, "alpha check").owner_id == world.members["staff"].user_id


def test_items_of_another_school_or_year_are_refused(app, world, make_school):
    other = make_school()
    other_year = services._create_year(other, 2026)
    foreign = Item(
        school_id=other.id,
        year_id=other_year.id,
        kind="own",
        title="Theirs",
        owner_role="lead",
        due_on=date(2026, 9, 1),
    )
    next_year = services._create_year(world.school, 2027)
    later = Item(
        school_id=world.school.id,
        year_id=next_year.id,
        kind="own",
        title="Next year",
        owner_role="lead",
        due_on=date(2027, 9, 1),
    )
    db.session.add_all([foreign, later])
    db.session.commit()
    client = _client(app, world)
    head = _head(world)
    for stranger in (foreign, later):
        response = client.post(
            f"/s/{world.school.slug}/items/bulk?year={world.year.id}",
            data={
                "items": [str(world.items["alpha check"].id), str(stranger.id)],
                "change": "move",
                "shift_days": "1",
            },
        )
        assert response.status_code == 400
        assert "no longer in 2026" in response.get_data(as_text=True)
    response = client.post(
        f"/s/{world.school.slug}/items/bulk?year={world.year.id}",
        data={"items": ["not-an-id"], "change": "move", "shift_days": "1"},
    )
    assert response.status_code == 400
    assert _head(world) == head
    db.session.expire_all()
    assert db.session.get(Item, foreign.id).due_on == date(2026, 9, 1)


@pytest.mark.parametrize(
    "role,allowed", [("lead", True), ("head", True), ("hr", False), ("staff", False), ("accreditor", False)]
)
def test_only_leads_and_heads_change_items_in_bulk(app, world, role, allowed):
    client = _client(app, world, role)
    head = _head(world)
    response = _bulk(client, world, ["alpha check"], change="move", shift_days="1")
    assert response.status_code == (302 if allowed else 403)
    assert (_head(world) > head) == allowed
    html = _list(client, world)[1]
    assert ('name="items"' in html) == allowed, "the checkboxes and bulk bar only for those who may use them"
    assert ('action="/s/' in html and "items/bulk" in html) == allowed


def test_select_every_item_on_the_page_without_javascript(app, world):
    _, html = _list(_client(app, world), world, select="page")
    assert len(re.findall(r'name="items" value="[0-9a-f-]{36}" form="bulk-form" checked', html)) == len(SPECS)
    _, html = _list(_client(app, world), world)
    assert len(re.findall(r'name="items" value="[0-9a-f-]{36}" form="bulk-form" checked', html)) == 0
    assert len(re.findall(r'name="items" value="[0-9a-f-]{36}"', html)) == len(SPECS)


def test_a_change_that_empties_the_page_goes_back_to_the_last_page(app, world):
    for n in range(50):
        db.session.add(
            Item(
                school_id=world.school.id,
                year_id=world.year.id,
                kind="own",
                title=f"bulk {n:02d}",
                owner_role="lead",
                due_on=world.year.starts_on + timedelta(days=300),
            )
        )
    db.session.commit()
    client = _client(app, world)
    # page 2 of "not started" holds the last of the 53 items; marking them done empties it
    _, html = _list(client, world, status="not_started", page="2")
    on_page = _titles(html, world.school.slug)
    assert len(on_page) == 53 - 50
    ids = [str(i.id) for i in _items(world.year.id) if i.title in on_page]
    response = client.post(
        f"/s/{world.school.slug}/items/bulk?year={world.year.id}&status=not_started&page=2",
        data={"items": ids, "change": "status", "status": "done"},
    )
    assert response.status_code == 302
    assert (
        "page=" not in response.headers["Location"] and "status=not_started" in response.headers["Location"]
    )
    assert client.get(response.headers["Location"]).status_code == 200


# --- export -------------------------------------------------------------------------------------------------


def _export(client, world, fmt, **params):
    params.setdefault("year", world.year.id)
    return client.get(f"/s/{world.school.slug}/items/export.{fmt}", query_string=params)


def _csv(response):
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_csv_export_has_every_page_the_filters_and_the_sort(app, world):
    for n in range(60):
        db.session.add(
            Item(
                school_id=world.school.id,
                year_id=world.year.id,
                kind="own",
                title=f"extra {n:02d}",
                owner_role="lead",
                due_on=world.year.starts_on + timedelta(days=n),
            )
        )
    db.session.commit()
    client = _client(app, world)
    response = _export(client, world, "csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:5] == ["Item", "Term", "Section", "Framework", "Due date"]
    assert len(rows) == 1 + len(SPECS) + 60, "every page, not just the first 50"
    rows = _csv(_export(client, world, "csv", q="extra", sort="title", dir="desc"))
    assert [r[0] for r in rows[1:4]] == ["extra 59", "extra 58", "extra 57"] and len(rows) == 61
    rows = _csv(_export(client, world, "csv", status="done"))
    assert sorted(r[0] for r in rows[1:]) == ["charlie plan", "hotel under_score"]
    charlie = next(r for r in rows if r[0] == "charlie plan")
    assert (
        charlie[3] == "School's own" and charlie[4] == (world.year.starts_on + timedelta(days=5)).isoformat()
    )
    assert charlie[7] == "Done" and charlie[9] == "2026-09-01"
    assert charlie[11].startswith("http") and charlie[11].endswith(f"/items/{world.items['charlie plan'].id}")


def test_staff_export_only_what_their_list_shows(app, world):
    rows = _csv(_export(_client(app, world, "staff"), world, "csv"))
    assert sorted(r[0] for r in rows[1:]) == ["Foxtrot survey", "alpha check"]


def test_export_turns_no_text_into_a_formula(app, world):
    evil = {'=HYPERLINK("http://x")': "=", "+1+1": "+", "-2+3": "-", "@SUM(A1)": "@"}
    for title in evil:
        db.session.add(
            Item(
                school_id=world.school.id,
                year_id=world.year.id,
                kind="own",
                title=title,
                section_title="=cmd|' /C calc'!A0",
                owner_role="lead",
                due_on=world.year.starts_on,
            )
        )
    db.session.commit()
    client = _client(app, world)
    rows = _csv(_export(client, world, "csv"))
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], "no cell starts like a formula"
    for title in evil:
        assert "'" + title in cells
    book = load_workbook(io.BytesIO(_export(client, world, "xlsx").get_data()))
    sheet = book.active
    texts = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert {c.value for c in texts} >= set(evil), "the XLSX keeps the text as it is"
    assert all(c.data_type == "s" for c in texts), "...as text, never a formula"


def test_xlsx_export_has_date_cells_a_frozen_bold_header_and_an_autofilter(app, world):
    response = _export(_client(app, world), world, "xlsx", sort="title")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:5] == ["Item", "Term", "Section", "Framework", "Due date"]
    assert all(c.font.b for c in rows[0])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:L{1 + len(SPECS)}"
    assert [r[0].value for r in rows[1:]] == sorted((s[0] for s in SPECS), key=str.lower)
    alpha = rows[1]
    assert alpha[4].is_date and alpha[4].value.date() == world.year.starts_on + timedelta(days=10)
    charlie = rows[3]
    assert charlie[9].is_date and charlie[9].value.date() == date(2026, 9, 1)


def test_an_accreditors_export_is_audited_and_bad_formats_are_refused(app, world):
    client = _client(app, world, "accreditor")
    head = _head(world)
    assert _export(client, world, "csv").status_code == 200
    [event] = _events(world, head)
    assert event.action == "items.exported" and event.after["file"].endswith(".csv")
    assert _export(client, world, "pdf").status_code == 404
    assert _export(client, world, "csv", status="finished").status_code == 400


def test_export_of_5000_items_is_bounded_in_memory(app, make_school, make_member):
    school = make_school(timezone="UTC")
    lead = make_member(school, "lead", name="Big Lead")
    year = services._create_year(school, 2026)
    db.session.execute(
        sa.insert(Item),
        [
            {
                "id": uuid.uuid4(),
                "school_id": school.id,
                "year_id": year.id,
                "kind": "own",
                "title": f"Item number {n} with a longer title to weigh something",
                "section_title": "School's own items",
                "owner_role": "lead",
                "owner_id": lead.user_id if n % 2 else None,
                "due_on": year.starts_on + timedelta(days=n % 300),
                "status": NOT_STARTED,
                "version": 1,
            }
            for n in range(5000)
        ],
    )
    db.session.commit()
    client = sign_in(app.test_client(), lead.user)
    peaks = {}
    for fmt in ("csv", "xlsx"):
        tracemalloc.start()
        response = client.get(f"/s/{school.slug}/items/export.{fmt}?year={year.id}", buffered=False)
        size = sum(len(chunk) for chunk in response.response)  # read it as a browser would, chunk by chunk
        peaks[fmt] = (tracemalloc.get_traced_memory()[1], size)
        tracemalloc.stop()
        response.close()
        assert response.status_code == 200
    rows = peaks["csv"][1] / 5000
    assert rows > 50
    # all 5,000 items loaded at once peak at about 21 MB (measured); batches of 500 at under 5 MB
    print(f"export of 5,000 items: peak (bytes allocated, bytes sent) {peaks}")
    assert peaks["csv"][0] < 12_000_000, peaks
    assert peaks["xlsx"][0] < 12_000_000, peaks


# --- query counts and the page itself -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "staff"])
def test_the_list_searched_and_sorted_uses_the_same_number_of_queries_for_20_and_200_items(
    app, make_school, make_member, role
):
    measured = {}
    for n in (20, 200):
        school, members, _owners = _school_with_items(make_school, make_member, n)
        client = sign_in(app.test_client(), members[role].user)
        for name, query in (
            ("plain", ""),
            ("searched, sorted by owner", "?q=item&sort=owner&dir=desc"),
            ("sorted by framework, page 1", "?sort=framework&overdue=1"),
        ):
            count, statements, _ = _count_get(client, f"/s/{school.slug}/items{query}")
            measured[(name, n)] = (count, statements)
        client.get(f"/s/{school.slug}/items/export.csv?sort=status").get_data()  # warm up
        with counted_queries() as statements:
            response = client.get(f"/s/{school.slug}/items/export.csv?sort=status")
            response.get_data()
        measured[("export", n)] = (len(statements), statements)
    report = "; ".join(f"{name} with {n}: {count}" for (name, n), (count, _) in measured.items())
    for name in ("plain", "searched, sorted by owner", "sorted by framework, page 1", "export"):
        small, large = measured[(name, 20)], measured[(name, 200)]
        assert small[0] == large[0], f"{role}: {report}\n--- {name}:\n" + "\n".join(large[1])
        assert small[0] <= 30, report


def test_the_list_page_has_its_parts_for_people_and_printers(app, world):
    _, html = _list(_client(app, world), world, q="e", status="not_started", overdue="")
    assert '<h2 class="list-summary"' in html and "matching “e”, not started" in html
    assert '<input type="search" name="q"' in html and 'value="e"' in html
    assert 'aria-live="polite"' in html and "selected" in html
    assert "data-select-all" in html and "items-bulk.js" in html
    css = (ROOT / "static" / "css" / "app.css").read_text()
    block = css[css.index("@media print") :]
    hidden = block[: block.index("display: none !important")]
    for part in (".topbar", ".schoolnav", ".filter-bar", ".bulk-bar", ".pagination", ".select-col", "button"):
        assert part in hidden, f"printing hides {part}"
