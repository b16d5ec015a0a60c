"""The register's exports round-trip: CSV and XLSX with one column per check for status, date, expiry and who
verified; importing an export of the same school changes nothing, a changed date in the file changes exactly
that, and the import accepts the labels the app shows."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.people import importing, register
from tracker.people import services as people
from tracker.people.models import Person
from tracker.tracking.models import Item

from .world import sign_in


@pytest.fixture
def register_school(make_school, make_member):
    """A school in Thailand with six people of four categories, some checks verified (with expiry), one not
    required with a reason, one requested; one person without an e-mail and one whose name a spreadsheet
    would read as a formula."""
    school = make_school(country="Thailand", timezone="Asia/Bangkok")
    hr = make_member(school, "hr", name="Hana Resources")
    today = school.today()
    specs = [
        ("Ana Teacher", "ana@example.org", "teaching", ["Thailand", "Kenya", "Brazil"]),
        ("Ben Support", "ben@example.org", "support", ["United Kingdom"]),
        ("Cy Volunteer", None, "volunteer", []),
        ("=Dee Agency", "dee@example.org", "agency", ["France"]),
        ("Eli Board", "eli@example.org", "board", ["Japan"]),
        ("Fay Teacher", None, "teaching", ["Kenya"]),
    ]
    for n, (name, email, category, countries) in enumerate(specs):
        person = people.add_person(
            school,
            full_name=name,
            email=email,
            category=category,
            start_on=today + timedelta(days=30 * n - 60),
            countries=countries,
            groups=["leadership"] if n == 0 else [],
        )
        items = _items(person)
        for k, item in enumerate(items):
            if k % 3 == 0:
                people.update_check(
                    school,
                    item,
                    version=item.version,
                    check_status="verified",
                    verified_on=today - timedelta(days=10 + k),
                    expires_on=today + timedelta(days=400 + k) if item.country else None,
                    user=hr.user,
                )
            elif k % 5 == 1:
                people.update_check(
                    school, item, version=item.version, check_status="requested", user=hr.user
                )
            elif k == 2:
                people.update_check(
                    school,
                    item,
                    version=item.version,
                    check_status="not_required",
                    na_reason="Covered by the previous school's statement.",
                    user=hr.user,
                )
    db.session.commit()
    return school, hr


def _items(person):
    return (
        db.session.execute(
            sa.select(Item).where(Item.person_id == person.id).order_by(Item.requirement_key, Item.country)
        )
        .scalars()
        .all()
    )


def _dump(school):
    """Every column of every person and check item of the school, as sorted tuples."""
    people_rows = db.session.execute(
        sa.select(*Person.__table__.c).where(Person.__table__.c.school_id == school.id)
    ).all()
    items = db.session.execute(
        sa.select(*Item.__table__.c).where(Item.__table__.c.school_id == school.id)
    ).all()
    return sorted(map(tuple, people_rows), key=str), sorted(map(tuple, items), key=str)


def _export(client, school, fmt, **query):
    response = client.get(f"/s/{school.slug}/people/export.{fmt}", query_string=query)
    assert response.status_code == 200
    return response.data


def _import(client, school, body, name):
    page = client.post(
        f"/s/{school.slug}/people/import",
        data={"file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    found = re.search(r'name="payload" type="hidden" value="([^"]+)"', page)
    assert found, re.findall(r'class="error[^"]*"[^>]*>([^<]+)', page) or page[:2000]
    response = client.post(
        f"/s/{school.slug}/people/import/confirm", data={"payload": found.group(1)}, follow_redirects=True
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_importing_an_export_of_the_same_school_changes_nothing(app, register_school, fmt):
    school, hr = register_school
    client = sign_in(app.test_client(), hr.user)
    before = _dump(school)
    page = _import(client, school, _export(client, school, fmt), f"register.{fmt}")
    assert "Import done: 0 added, 0 updated, 6 unchanged" in page
    db.session.expire_all()
    assert _dump(school) == before


def test_a_changed_date_in_the_file_changes_exactly_that(app, register_school):
    school, hr = register_school
    client = sign_in(app.test_client(), hr.user)
    rows = list(csv.reader(io.StringIO(_export(client, school, "csv").decode("utf-8-sig"))))
    header = rows[0]
    ana = next(r for r in rows if r[0] == "Ana Teacher")
    status = next(n for n, v in enumerate(ana) if v == "Verified" and "(" not in header[n])
    title = header[status].rsplit(" — ", 1)[0]
    when = header.index(f"{title} — date")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", ana[when])
    new = date.fromisoformat(ana[when]) - timedelta(days=3)
    ana[when] = new.isoformat()
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    (before_people, before_items) = _dump(school)
    page = _import(client, school, buf.getvalue().encode(), "register.csv")
    assert "Import done: 0 added, 1 updated, 5 unchanged" in page
    db.session.expire_all()
    after_people, after_items = _dump(school)
    assert after_people == before_people
    changed = set(after_items) - set(before_items)
    assert len(changed) == 1 and len(set(before_items) - set(after_items)) == 1
    [row] = changed
    item = db.session.get(Item, row[list(Item.__table__.c.keys()).index("id")])
    assert item.verified_on == new
    assert item.title == title and item.person.full_name == "Ana Teacher"


def test_the_csv_export_has_a_column_per_check_for_status_date_expiry_and_who_verified(app, register_school):
    school, hr = register_school
    client = sign_in(app.test_client(), hr.user)
    rows = list(csv.reader(io.StringIO(_export(client, school, "csv").decode("utf-8-sig"))))
    header = rows[0]
    assert header[:7] == list(register.PERSON_HEADERS)
    police = "Police check from each country lived or worked in"
    for suffix in ("status", "date", "expires", "verified by"):
        assert f"{police} (Kenya) — {suffix}" in header
    assert f"{police} (Thailand) — status" not in header  # the host country has its own check
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {
        "Ana Teacher",
        "Ben Support",
        "Cy Volunteer",
        "'=Dee Agency",
        "Eli Board",
        "Fay Teacher",
    }
    assert by_name["'=Dee Agency"]["Category"] == "Agency staff"  # the label the app shows; formula-safe name
    assert by_name["Ana Teacher"]["Groups"] == "Leadership"
    verified = [k for k, v in by_name["Ana Teacher"].items() if v == "Verified"]
    assert verified
    for column in verified:
        base = column.rsplit(" — ", 1)[0]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", by_name["Ana Teacher"][f"{base} — date"])
        assert by_name["Ana Teacher"][f"{base} — verified by"] == "Hana Resources"
    assert any(by_name["Ana Teacher"][f"{police} ({c}) — expires"] for c in ("Kenya", "Brazil"))


def test_the_xlsx_export_has_real_dates_a_filter_row_and_a_frozen_header(app, register_school):
    from openpyxl import load_workbook

    school, hr = register_school
    client = sign_in(app.test_client(), hr.user)
    ws = load_workbook(io.BytesIO(_export(client, school, "xlsx"))).active
    assert ws.freeze_panes == "B2"
    header = [c.value for c in ws[1]]
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}7"
    start = header.index("Start date") + 1
    assert all(hasattr(ws.cell(r, start).value, "year") for r in range(2, 8))
    assert ws.cell(2, start).number_format == "yyyy-mm-dd"
    assert ws.cell(2, 1).font.b is False and ws.cell(1, 1).font.b is True


def test_an_export_imports_into_an_empty_school_with_the_same_states(
    app, register_school, make_school, make_member
):
    school, hr = register_school
    client = sign_in(app.test_client(), hr.user)
    body = _export(client, school, "csv")
    other = make_school(country="Thailand", timezone="Asia/Bangkok")
    other_hr = make_member(other, "hr", user=hr.user)
    assert other_hr
    page = _import(client, other, body, "register.csv")
    assert "Import done: 6 added, 0 updated, 0 unchanged" in page

    def states(s):
        return sorted(
            db.session.execute(
                sa.select(
                    Person.full_name,
                    Person.category,
                    Item.requirement_key,
                    Item.country,
                    Item.check_status,
                    Item.status,
                    Item.verified_on,
                    Item.expires_on,
                )
                .join(Person, Person.id == Item.person_id)
                .where(Item.school_id == s.id)
            ).all()
        )

    assert states(other) == states(school)
    # and the copy, exported and imported again, changes nothing
    again = _import(client, other, _export(client, other, "xlsx"), "register.xlsx")
    assert "Import done: 0 added, 0 updated, 6 unchanged" in again


def test_the_import_accepts_the_labels_the_app_shows_and_says_what_it_accepts():
    rows = importing.check_rows(
        [
            (
                2,
                {
                    "full_name": "A",
                    "email": "",
                    "category": "Teaching staff",
                    "start_date": "2026-09-01",
                    "countries": "Brasil; UK",
                    "groups": "Safeguarding response team",
                },
            ),
            (3, {"full_name": "B", "email": "", "category": "Spaceman", "start_date": "2026-09-01"}),
        ],
        today=date(2026, 11, 23),
    )
    assert rows[0].ok and rows[0].values["category"] == "teaching"
    assert rows[0].values["countries"] == ["Brazil", "United Kingdom"]
    assert rows[0].values["groups"] == ["response_team"]
    assert not rows[1].ok and "Teaching staff (teaching)" in rows[1].errors[0]


def test_a_check_column_with_a_bad_status_or_a_date_on_an_open_check_is_a_row_error(app):
    header = importing.check_header
    assert header("Identity verified in person or by video — status") == "check|identity-verified||status"
    assert header("Police check from each country lived or worked in (Brasil) — date") == (
        "check|police-check-country|Brazil|date"
    )
    assert header("Identity verified in person or by video — colour") is None
    rows = importing.check_rows(
        [
            (
                2,
                {
                    "full_name": "A",
                    "category": "teaching",
                    "start_date": "2026-09-01",
                    "check|identity-verified||status": "Done-ish",
                    "check|right-to-work||status": "Requested",
                    "check|right-to-work||date": "2026-11-01",
                },
            ),
        ],
        today=date(2026, 11, 23),
    )
    errors = " ".join(rows[0].errors)
    assert "status “Done-ish” is not one of" in errors
    assert "leave it empty unless the status is Verified" in errors
