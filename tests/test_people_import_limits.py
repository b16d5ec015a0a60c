"""The register import under bad input and at scale: long values, extra columns, control characters and dates,
huge files refused after reading no more than the row cap, forged payloads, and large confirmations run as an
all-or-nothing background job with visible progress that survives a restart as "failed"."""

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from tracker.audit import AuditEvent
from tracker.db import utcnow
from tracker.extensions import db
from tracker.people.models import Person
from tracker.tracking.models import Item

from .conftest import audit_count
from .world import sign_in

HEADER = "full_name,email,category,start_date,leave_date,countries,groups\n"
COLUMNS = HEADER.strip().split(",")


@pytest.fixture
def school_and_hr(make_school, make_member):
    school = make_school(timezone="Asia/Bangkok", year_start_month=8)
    return school, make_member(school, "hr")


@pytest.fixture
def hr_client(app, school_and_hr):
    return sign_in(app.test_client(), school_and_hr[1].user)


def _people(school):
    return _count(Person, school)


def _count(model, school):
    query = sa.select(sa.func.count()).select_from(model).where(model.school_id == school.id)
    return db.session.scalar(query)


def _upload(client, school, body: bytes, name="register.csv"):
    return client.post(
        f"/s/{school.slug}/people/import",
        data={"file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def _rows(n, start=0):
    return "".join(
        f"Person {i},p{i}@example.org,teaching,2026-08-01,,Thailand;Kenya,\n" for i in range(start, n)
    )


def _payload(page):
    return re.search(r'name="payload" type="hidden" value="([^"]+)"', page).group(1)


# --- values a row cannot hold -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line,column,length",
    [
        (3, "full_name", 200_000),  # longer than the csv module reads (its field size limit): was a 500
        (2, "email", 5_000),  # readable, but far beyond any column: was read whole and shown in the preview
    ],
)
def test_a_very_long_value_refuses_the_file_naming_its_line_and_column(
    hr_client, school_and_hr, line, column, length
):
    school, _ = school_and_hr
    values = {
        "full_name": "Ann Long",
        "email": "ann@example.org",
        "category": "teaching",
        "start_date": "2026-08-01",
        "leave_date": "",
        "countries": "Kenya",
        "groups": "",
    }
    values[column] = "x" * length
    body = HEADER + _rows(1) if line == 3 else HEADER
    body += ",".join(values[c] for c in COLUMNS) + "\n" + _rows(3, 1)
    before = audit_count()
    response = _upload(hr_client, school, body.encode())
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Line {line}, {column}: the value is" in text and "at most 2,000" in text
    assert _people(school) == 0 and audit_count() == before


def test_a_row_with_values_beyond_the_named_columns_is_shown_as_an_error(hr_client, school_and_hr):
    school, _ = school_and_hr
    body = HEADER + _rows(1) + "Smith, Jo,jo@example.org,teaching,2026-08-01,,Kenya,leadership\n"
    page = _upload(hr_client, school, body.encode()).get_data(as_text=True)
    assert "1 with errors" in page
    assert "values beyond the 7 named columns (column 8)" in page


def test_control_characters_and_implausible_dates_are_row_errors(hr_client, school_and_hr):
    school, _ = school_and_hr
    body = (
        HEADER
        + _rows(1)
        + '"Ann\nBee",ann@example.org,teaching,2026-08-01,,Kenya,\n'
        + "Cy Tab\t,cy@example.org,teaching,2026-08-01,,Kenya,\n"
        + "Di Far,di@example.org,teaching,9999-01-01,,Kenya,\n"
        + "Ed Old,ed@example.org,teaching,2026-08-01,0001-01-01,Kenya,\n"
    )
    page = _upload(hr_client, school, body.encode()).get_data(as_text=True)
    assert "4 with errors" in page
    assert page.count("full_name: Remove the invisible control characters") == 2
    assert "start_date 9999-01-01: Give a date between" in page
    assert "leave_date 0001-01-01: Give a date between" in page


# --- files far over the cap ---------------------------------------------------------------------------------


def _huge_xlsx(rows: int) -> bytes:
    """An .xlsx of `rows` register rows as openpyxl writes them (inline strings, no stated size), fast."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.create_sheet().append(COLUMNS)
    small = io.BytesIO()
    wb.save(small)

    def cell(ref, text):
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    def row(r, values):
        cells = "".join(cell(f"{col}{r}", v) for col, v in zip("ABCDEFG", values, strict=False) if v)
        return f'<row r="{r}">{cells}</row>'

    body = [row(1, COLUMNS)] + [
        row(r, [f"Person {r}", f"p{r}@example.org", "teaching", "2026-08-01", "", "Kenya", ""])
        for r in range(2, rows + 2)
    ]
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + "".join(body)
        + "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            is_sheet = info.filename == "xl/worksheets/sheet1.xml"
            dst.writestr(info.filename, sheet if is_sheet else src.read(info))
    return out.getvalue()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_200000_row_file_is_refused_after_reading_no_more_than_the_cap(
    hr_client, school_and_hr, monkeypatch, kind
):
    """Counted where the rows are parsed: the csv module's reader, and openpyxl's XML parser of the sheet
    (which load_workbook also ran over the whole sheet to find its size)."""
    import openpyxl.worksheet._reader as sheet_reader

    school, _ = school_and_hr
    parsed = {"rows": 0}
    if kind == "csv":
        body, real = (HEADER + _rows(200_000)).encode(), csv.reader

        def counting(*args, **kwargs):
            for row in real(*args, **kwargs):
                parsed["rows"] += 1
                yield row

        monkeypatch.setattr(csv, "reader", counting)
    else:
        body, real = _huge_xlsx(200_000), sheet_reader.iterparse

        def counting(*args, **kwargs):
            for event, element in real(*args, **kwargs):
                if element.tag.endswith("}row"):
                    parsed["rows"] += 1
                yield event, element

        monkeypatch.setattr(sheet_reader, "iterparse", counting)
    response = _upload(hr_client, school, body, f"register.{kind}")
    assert response.status_code == 400
    assert "The file has more than 5,000 rows; split it" in response.get_data(as_text=True)
    assert 5_000 < parsed["rows"] <= 5_002, parsed  # the header, 5,000 rows, and the one that passed the cap
    assert _people(school) == 0


# --- the confirmation payload -------------------------------------------------------------------------------


def _signed(app, school, data):
    return URLSafeSerializer(app.config["SECRET_KEY"], salt=f"people-import:{school.id}").dumps(data)


ROW = {
    "full_name": "Fay",
    "email": "fay@example.org",
    "category": "teaching",
    "start_on": "2026-08-01",
    "leave_on": None,
    "countries": [],
    "groups": [],
}


@pytest.mark.parametrize(
    "data,message",
    [
        ({"rows": 5, "bad": 0}, "earlier version"),
        ({"rows": [["Fay", "fay@example.org"]], "bad": 0}, "earlier version"),
        ({"rows": [{"full_name": "Fay"}], "bad": 0}, "earlier version"),
        (
            {"rows": [dict(ROW, email=f"p{i}@example.org") for i in range(5_001)], "bad": 0},
            "more than 5,000 rows",
        ),
    ],
)
def test_a_payload_the_preview_did_not_make_is_refused_with_a_400(
    app, hr_client, school_and_hr, data, message
):
    """Signed with this school's key (an old tracker's preview, or a leaked key), but not what a preview
    makes."""
    school, _ = school_and_hr
    before = audit_count()
    response = hr_client.post(
        f"/s/{school.slug}/people/import/confirm", data={"payload": _signed(app, school, data)}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _people(school) == 0 and audit_count() == before


def test_a_preview_whose_payload_the_confirmation_could_not_carry_asks_to_split_the_file(
    app, hr_client, school_and_hr, monkeypatch
):
    """The payload travels in the confirmation form, which may not exceed the form memory limit (else the
    confirmation would be a 413): the preview says so instead of offering a button that cannot work."""
    from tracker.people import import_views as views

    school, _ = school_and_hr
    monkeypatch.setattr(views, "_payload_limit", lambda: 32 * 1024)  # the real one: 1 MB, a 5,000-row file
    names = "".join(
        f"Person {i:05d} {chr(65 + i % 26) * (i % 50)}{i * 7919 % 100003},p{i}@example.org,"
        "teaching,2026-08-01,,Kenya,\n"
        for i in range(3_000)
    )
    response = _upload(hr_client, school, (HEADER + names).encode())
    assert response.status_code == 400
    assert "too much to import in one go. Split it into two files" in response.get_data(as_text=True)


# --- large confirmations: a background job ------------------------------------------------------------------


@pytest.fixture
def small_jobs(app, monkeypatch):
    """Imports of more than 3 rows run as jobs, which each test runs itself (its transaction is invisible to a
    thread); progress is reported every 2 rows and new people are written 2 at a time."""
    from tracker.people import bulk_import

    monkeypatch.setitem(app.config, "TRACKER_IMPORT_BACKGROUND_ROWS", 3)
    monkeypatch.setitem(app.config, "TRACKER_IMPORT_JOBS_THREADED", False)
    monkeypatch.setattr(bulk_import, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(bulk_import, "IMPORT_BATCH", 2)


def _queue(client, school, rows=6):
    page = _upload(client, school, (HEADER + _rows(rows)).encode()).get_data(as_text=True)
    assert "runs in the background" in page
    response = client.post(f"/s/{school.slug}/people/import/confirm", data={"payload": _payload(page)})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.search(r"/people/import/jobs/[0-9a-f-]{36}$", location)
    from uuid import UUID

    return UUID(location.rsplit("/", 1)[1]), location


def test_a_large_confirmation_runs_as_a_job_with_visible_progress_and_the_people_appear(
    hr_client, school_and_hr, small_jobs, monkeypatch
):
    from tracker.people import jobs

    school, hr = school_and_hr
    job_id, url = _queue(hr_client, school)
    assert _people(school) == 0  # nothing imported by the request itself
    page = hr_client.get(url).get_data(as_text=True)
    assert "6 rows are being imported in the background" in page and 'id="report-progress"' in page
    seen, publish = [], jobs._publish

    def watch(job, percent, stage, share):  # what the job's page shows while the import runs
        publish(job, percent, stage, share)
        seen.append(hr_client.get(f"{url}/status", headers={"Accept": "application/json"}).get_json())

    monkeypatch.setattr(jobs, "_publish", watch)
    jobs.run(job_id)
    assert [s["status"] for s in seen] == ["running"] * 4
    assert [s["stage"] for s in seen[1:]] == [
        "Imported 2 of 6 rows",
        "Imported 4 of 6 rows",
        "Imported 6 of 6 rows",
    ]
    assert [s["progress"] for s in seen] == sorted(s["progress"] for s in seen) and seen[1]["progress"] > 2
    status = hr_client.get(f"{url}/status", headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and status["progress"] == 100 and status["added"] == 6
    assert _people(school) == 6
    assert "Import done: 6 added, 0 updated, 0 unchanged" in hr_client.get(url).get_data(as_text=True)
    events = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.after).where(
            AuditEvent.school_id == school.id,
            AuditEvent.action.in_(("people.import_queued", "person.added", "people.imported")),
        )
    ).all()
    # one event for the whole import, naming every person added (not an event per person)
    assert sorted(a for a, _, _ in events) == ["people.import_queued", "people.imported"]
    imported = next(after for a, _, after in events if a == "people.imported")
    added = db.session.execute(sa.select(Person.id, Person.full_name).where(Person.school_id == school.id))
    assert sorted(imported["people_added"]) == sorted([str(i), n] for i, n in added)
    assert imported["added"] == 6 and imported["checks_added"] == _count(Item, school) > 0
    assert {actor for _, actor, _ in events} == {hr.user_id}  # the job acts for who confirmed it


@pytest.mark.parametrize("where", ["people", "audit"])
def test_a_failing_job_leaves_nothing_behind(hr_client, school_and_hr, small_jobs, monkeypatch, where):
    """It fails on the fifth person's checklist, after two batches of people were written; or on the import's
    audit event, after every person and their checklists were written. Either way all of it goes."""
    from tracker import audit
    from tracker.people import bulk_import, jobs

    school, _ = school_and_hr
    job_id, url = _queue(hr_client, school)
    before = audit_count()
    calls = []
    if where == "people":
        build = bulk_import._plan

        def failing(*args, **kwargs):
            calls.append(1)
            if len(calls) == 5:
                raise RuntimeError("disk full")
            return build(*args, **kwargs)

        monkeypatch.setattr(bulk_import, "_plan", failing)
    else:
        record = audit.record

        def failing(action, **kwargs):
            calls.append(action)
            if action == "people.imported":
                raise RuntimeError("disk full")
            return record(action, **kwargs)

        monkeypatch.setattr(audit, "record", failing)
    jobs.run(job_id)
    assert len(calls) == 5 if where == "people" else calls == ["people.imported", "people.import_failed"]
    assert _people(school) == 0
    assert _count(Item, school) == 0
    assert audit_count() == before + 1  # only the failure itself
    status = hr_client.get(f"{url}/status", headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "failed" and "nothing was imported" in status["error"]
    assert "nothing was imported" in hr_client.get(url).get_data(as_text=True)


def test_a_job_left_running_by_a_dead_process_is_shown_as_failed_and_cannot_finish(
    hr_client, school_and_hr, small_jobs, monkeypatch
):
    from tracker.people import jobs
    from tracker.people.models import ImportJob

    school, _ = school_and_hr
    dead_id, dead_url = _queue(hr_client, school)
    dead = db.session.get(ImportJob, dead_id)
    dead.status, dead.started_at = "running", utcnow() - timedelta(hours=1)  # its process was killed
    db.session.commit()
    status = hr_client.get(f"{dead_url}/status", headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "failed" and "stopped before it finished" in status["error"]
    # A job declared failed while it still runs (it took longer than the limit) does not finish afterwards.
    job_id, url = _queue(hr_client, school, rows=5)
    publish = jobs._publish

    def declared_dead(job, percent, stage, share):
        publish(job, percent, stage, share)
        db.session.execute(sa.update(ImportJob).where(ImportJob.id == job).values(status="failed"))

    monkeypatch.setattr(jobs, "_publish", declared_dead)
    jobs.run(job_id)
    assert _people(school) == 0
    status = hr_client.get(f"{url}/status", headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "failed" and "stopped before it finished" in status["error"]
