"""PDF reports read back: what each shows, PDF/A, caching by data hash, background jobs, the time limit."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from tracker.evidence.services import add_files
from tracker.extensions import db
from tracker.reports import render, services
from tracker.reports.models import Report
from tracker.tracking.models import Item
from tracker.tracking.services import add_own_item

from .reports_helpers import pdf_text, squash, xmp
from .sign_off_helpers import sign_off
from .world import MARKER, build_worlds, sign_in


def _populate(world, n=4):
    """A few of the school's own items, each with a file whose SHA-256 the report must show."""
    from tracker.tracking.models import SchoolYear

    year = db.session.get(SchoolYear, world.objects["year_id"])
    lead = world.members["lead"].user
    hashes = []
    for i in range(n):
        item = add_own_item(
            world.school,
            year,
            title=f"Own task number {i} for the visit",
            due_on=year.starts_on + timedelta(days=30 * i),
            owner=lead,
        )
        [row] = add_files(
            world.school,
            item,
            [(f"minutes-{i}.txt", f"Minutes of meeting {i}".encode())],
            applies_on=None,
            user=lead,
        )
        hashes.append(row.sha256)
    db.session.commit()
    return year, hashes


def _get_pdf(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    assert response.mimetype == "application/pdf"
    return response.get_data()


def test_the_signed_accreditation_report_shows_the_school_its_items_hashes_and_sign_off_and_no_other_school(
    app,
):
    a, b = build_worlds()
    year, hashes = _populate(a)
    head = sign_in(app.test_client(), a.members["head"].user)
    assert sign_off(head, a.school.slug, year.id).status_code == 302
    frozen = (
        db.session.execute(
            sa.select(Report).where(
                Report.school_id == a.school.id, Report.frozen.is_(True), Report.id != a.objects["report_id"]
            )
        )
        .scalars()
        .one()
    )
    pdf = _get_pdf(head, f"/s/{a.school.slug}/reports/files/{frozen.id}")
    text = pdf_text(pdf)
    assert squash(a.school.name) in text
    titles = (
        db.session.execute(
            sa.select(Item.title).where(Item.school_id == a.school.id, Item.year_id == year.id)
        )
        .scalars()
        .all()
    )
    assert len(titles) >= 5
    for title in titles:
        assert squash(title) in text, title
    for digest in hashes + [db.session.get(Report, frozen.id).data_hash]:
        assert digest in text, digest
    assert squash(f"Signed off by {a.members['head'].user.name}") in text
    assert squash("Query plain") in text  # the world's accreditor query appears in the report
    assert MARKER not in text and MARKER.lower() not in text
    meta = xmp(pdf)
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert a.school.name in reader.metadata.title
    fonts = {f for page in reader.pages for f in _fonts(page)}
    assert fonts and all(
        "+Report-" in f for f in fonts
    )  # our @font-face fonts, fetched by asset: and embedded


def _fonts(page):
    resources = page["/Resources"].get_object()
    for font in resources.get("/Font", {}).values():
        font = font.get_object()
        descendants = font.get("/DescendantFonts")
        target = descendants[0].get_object() if descendants else font
        assert (
            "/FontFile2" in target["/FontDescriptor"].get_object()
            or "/FontFile3" in target["/FontDescriptor"].get_object()
        ), "font not embedded"
        yield str(font["/BaseFont"])


def test_another_schools_report_carries_its_own_marker(app):
    """The marker check above can fail: B's own report does contain B's marker."""
    _, b = build_worlds()
    client = sign_in(app.test_client(), b.members["lead"].user)
    text = pdf_text(
        _get_pdf(client, f"/s/{b.school.slug}/reports/years/{b.objects['year_id']}/accreditation.pdf")
    )
    assert MARKER in text


def test_one_framework_the_register_and_a_training_record_each_download_as_a_pdf(app):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    base = f"/s/{a.school.slug}/reports"
    policy = pdf_text(_get_pdf(client, f"{base}/years/{a.objects['year_id']}/frameworks/policy-form.pdf"))
    assert squash(a.item.title) in policy and squash(a.item.answer) in policy
    from tracker.people.models import Person

    person = db.session.get(Person, a.objects["person_id"])
    register = pdf_text(_get_pdf(client, f"{base}/years/{a.objects['year_id']}/register.pdf"))
    assert squash(person.full_name) in register
    record = pdf_text(_get_pdf(client, f"{base}/training-record.pdf?person={person.id}"))
    assert squash(f"Training record: {person.full_name}") in record
    for text in (policy, register, record):
        assert MARKER not in text and MARKER.lower() not in text
    assert (
        client.get(f"{base}/years/{a.objects['year_id']}/frameworks/no-such-framework.pdf").status_code == 404
    )


def test_downloading_again_with_nothing_changed_serves_the_cached_pdf_and_a_change_makes_a_new_draft(app):
    a, _ = build_worlds()
    client = sign_in(app.test_client(), a.members["lead"].user)
    url = f"/s/{a.school.slug}/reports/years/{a.objects['year_id']}/accreditation.pdf"
    first = _get_pdf(client, url)

    def gather_again(*args, **kwargs):
        raise AssertionError("nothing changed, yet the report's data was gathered again")

    with pytest.MonkeyPatch.context() as mp:  # the audit head has not moved: no gathering, no rendering
        mp.setattr(services.gather, "accreditation", gather_again)
        second = _get_pdf(client, url)
    assert first == second
    drafts = (
        sa.select(sa.func.count())
        .select_from(Report)
        .where(Report.school_id == a.school.id, Report.frozen.is_(False))
    )
    assert db.session.scalar(drafts) == 1
    from tracker.tracking.services import save_answer

    item = db.session.get(Item, a.objects["item_id"])
    save_answer(
        a.school,
        item,
        version=item.version,
        answer="Rewritten after the first download",
        answer_status="in_place",
        review_on=None,
        author=a.members["lead"].user,
    )
    db.session.commit()
    third = _get_pdf(client, url)
    assert third != first and "Rewrittenafterthefirstdownload" in pdf_text(third)


def test_a_large_report_is_made_by_a_background_job_whose_progress_a_page_polls(app, monkeypatch):
    a, _ = build_worlds()
    monkeypatch.setitem(app.config, "TRACKER_REPORT_BACKGROUND_ROWS", 0)  # every report counts as large
    monkeypatch.setitem(app.config, "TRACKER_REPORT_JOBS_THREADED", False)  # the test runs the job itself
    client = sign_in(app.test_client(), a.members["lead"].user)
    response = client.get(f"/s/{a.school.slug}/reports/years/{a.objects['year_id']}/accreditation.pdf")
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    body = page.get_data(as_text=True)
    assert 'src="/static/js/report-progress.js"' in body and "<script>" not in body
    row = (
        db.session.execute(sa.select(Report).where(Report.school_id == a.school.id, Report.frozen.is_(False)))
        .scalars()
        .one()
    )
    status_url = f"/s/{a.school.slug}/reports/jobs/{row.id}/status"
    assert client.get(status_url).get_json()["status"] == "queued"
    seen = []
    req = services.Request("accreditation", year=row.year)
    services.run_job(a.school, row, req, commit=lambda: seen.append(row.progress))
    db.session.commit()
    assert seen[0] < seen[-1] == 100 and len(seen) >= 4
    status = client.get(status_url).get_json()
    assert status["status"] == "done" and status["download"]
    assert client.get(status["download"]).get_data()[:5] == b"%PDF-"
    # asking again with nothing changed gives the finished report at once, not another job
    again = client.get(f"/s/{a.school.slug}/reports/years/{a.objects['year_id']}/accreditation.pdf")
    assert again.status_code == 200 and again.mimetype == "application/pdf"


def test_a_render_that_runs_past_its_time_limit_is_stopped():
    html = "<html lang=en><title>slow</title><table>" + "<tr><td>x</td><td>y</td></tr>" * 20000 + "</table>"
    with pytest.raises(render.RenderError, match="longer than"):
        render.render_pdf(html, title="slow", timeout=0.5)


def test_the_pdfs_streams_are_compressed_at_level_six_not_pydyfs_nine():
    """pydyf compresses every stream at zlib level 9: on a large report 1.2 s of CPU for 5% of the size. The
    zlib header of a page's content stream says the level it was made with (0x9C: level 6, 0xDA: level 9)."""
    from pypdf.generic import IndirectObject

    pdf = render.render_pdf(
        "<!doctype html><html lang=en><body>" + "<p>Some text to compress.</p>" * 50 + "</body></html>",
        title="t",
        in_process=True,
    ).pdf
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    contents = page["/Contents"]
    stream = (contents[0] if isinstance(contents, list) else contents).get_object()
    assert not isinstance(stream, IndirectObject) and stream["/Filter"] == "/FlateDecode"
    assert stream._data[:2] == b"\x78\x9c", stream._data[:2]
    assert "Sometexttocompress." in pdf_text(pdf)


def test_the_parent_imports_weasyprint_once_so_each_forked_render_inherits_it():
    """Importing WeasyPrint is a third of a second of CPU: done in the forked child it was paid by every
    report; the parent imports it before it forks (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys; from tracker.reports import render; assert 'weasyprint' not in sys.modules; "
        "r = render.render_pdf('<p>Forked once.</p>', title='t', timeout=120); "
        "print(r.pages, 'weasyprint' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "True"]
