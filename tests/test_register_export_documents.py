"""The register's exports carry each check's "document seen" (its type, as the app labels it, and its
reference) beside its status, date, expiry and who verified it; the import reads past those columns, so an
export still imports into its own school without changing anything."""

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.people import register
from tracker.people import services as people
from tracker.tracking.models import Item

from .test_register_roundtrip import _export, _import
from .world import sign_in

IDENTITY = "Identity verified in person or by video"


@pytest.fixture
def documented(make_school, make_member):
    """Two teachers: Ana's identity check verified on her passport (a reference a spreadsheet would read as a
    formula), Ben's not started."""
    school = make_school(country="Thailand", timezone="Asia/Bangkok")
    hr = make_member(school, "hr", name="Hana Resources")
    today = school.today()
    for name in ("Ana Teacher", "Ben Teacher"):
        person = people.add_person(
            school,
            full_name=name,
            email=f"{name.split()[0].lower()}@example.org",
            category="teaching",
            start_on=today - timedelta(days=60),
            countries=[],
        )
        if name == "Ana Teacher":
            item = db.session.execute(
                sa.select(Item).where(
                    Item.person_id == person.id, Item.requirement_key == "identity-verified"
                )
            ).scalar_one()
            people.update_check(
                school,
                item,
                version=item.version,
                check_status="verified",
                verified_on=today - timedelta(days=3),
                document=dict(document_type="passport", document_reference="=ends 4821", covers=""),
                user=hr.user,
            )
    db.session.commit()
    return school, hr


def test_the_export_has_the_document_seen_per_check_and_still_imports_unchanged(app, documented):
    school, hr = documented
    client = sign_in(app.test_client(), hr.user)
    body = _export(client, school, "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header = rows[0]
    for suffix in ("status", "date", "expires", "verified by", "document seen", "document reference"):
        assert f"{IDENTITY} — {suffix}" in header
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_name["Ana Teacher"][f"{IDENTITY} — document seen"] == "Passport"
    assert by_name["Ana Teacher"][f"{IDENTITY} — document reference"] == "'=ends 4821"  # never a formula
    assert by_name["Ben Teacher"][f"{IDENTITY} — document seen"] == ""
    assert by_name["Ben Teacher"][f"{IDENTITY} — document reference"] == ""

    for fmt, name in (("csv", "register.csv"), ("xlsx", "register.xlsx")):
        page = _import(client, school, _export(client, school, fmt), name)
        assert "Import done: 0 added, 0 updated, 2 unchanged" in page


def test_documents_seen_lists_the_checks_that_name_a_document(app, documented):
    school, _hr = documented
    documents = register.documents_seen(school)
    assert list(documents.values()) == [("Passport", "=ends 4821")]
    cols, rows, _ = register.build(school)
    table = register.to_table(cols, rows, documents)
    line = dict(zip(table[0], next(r for r in table[1:] if r[0] == "Ana Teacher"), strict=True))
    assert line[f"{IDENTITY} — document seen"] == "Passport"
