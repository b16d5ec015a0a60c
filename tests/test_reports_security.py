"""Hostile content cannot make a PDF fetch, embed or run anything: the renderer loads only bundled assets."""

import io

import sqlalchemy as sa
from pypdf import PdfReader

from tracker.extensions import db
from tracker.people.models import Person
from tracker.reports import render
from tracker.reports.services import finish_now
from tracker.tracking.models import Item, SchoolYear
from tracker.tracking.services import add_own_item, sign_off, update_item

from .reports_helpers import counting_listener, pdf_text, squash
from .world import build_worlds, sign_in


def test_the_renderer_refuses_every_url_but_bundled_assets_and_embeds_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETFILECONTENT")
    with counting_listener() as (base, hits):
        html = (
            f"""<!doctype html><html lang="en"><head><title>Hostile</title>
          <link rel="stylesheet" href="{base}/linked.css">
          <link rel="attachment" href="file://{secret}" title="secret">
          <link rel="attachment" href="{base}/attached.bin">
          <style>@import url("{base}/imported.css"); body {{ background: url("{base}/bg.png") }}</style>"""
            f"""</head>
          <body><p>Visible text</p><img src="file://{secret}"><img src="file:///etc/passwd">
          <img src="{base}/img.png"><img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E">
          <iframe src="{base}/frame"></iframe><object data="{base}/object"></object>
          <img src="asset:img/mark.svg" alt=""><img src="asset:../../../etc/passwd"></body></html>"""
        )
        result = render.render_pdf(html, title="Hostile")
    assert hits == []
    refused = " ".join(result.refused)
    for url in (
        f"file://{secret}",
        "file:///etc/passwd",
        f"{base}/img.png",
        f"{base}/linked.css",
        f"{base}/imported.css",
        "data:image/svg+xml",
        "asset:../../../etc/passwd",
    ):
        assert url in refused, url
    assert (
        f"{base}/attached.bin" not in refused
    )  # <link rel=attachment> is dropped before anything is fetched
    assert "asset:img/mark.svg" not in refused  # the bundled image is served
    reader = PdfReader(io.BytesIO(result.pdf))
    assert reader.attachments == {}
    text = pdf_text(result.pdf)
    assert "Visibletext" in text
    assert "TOPSECRET" not in text and "root:x:0" not in text
    assert b"TOPSECRET" not in result.pdf


HOSTILE = [
    "<img src=file:///etc/passwd>",
    '<link rel=attachment href="file:///etc/passwd">',
    "<style>@import url(http://127.0.0.1:{port}/x.css);</style>",
    "<script>alert(1)</script> & \"quotes\" 'single'",
]


def test_hostile_text_in_every_user_field_is_printed_as_typed_and_fetches_nothing(app):
    a, _ = build_worlds()
    lead = a.members["lead"].user
    with counting_listener() as (base, hits):
        port = base.rsplit(":", 1)[1]
        texts = [h.replace("{port}", port) for h in HOSTILE]
        year = db.session.get(SchoolYear, a.objects["year_id"])
        a.school.name = f"School {texts[0]}"
        item = db.session.get(Item, a.objects["item_id"])
        item.answer, item.notes = f"Answer {texts[1]}", f"Notes {texts[2]}"
        own = add_own_item(a.school, year, title=f"Task {texts[2]}", due_on=year.starts_on, owner=lead)
        update_item(
            a.school,
            own,
            version=own.version,
            status="not_applicable",
            na_reason=f"Because {texts[3]}",
            manage=False,
        )
        person = db.session.get(Person, a.objects["person_id"])
        person.full_name = f"Person {texts[3]}"
        from tracker.review import services as review

        review.raise_query(
            a.school,
            item,
            body=f"Query {texts[0]} {texts[2]}",
            user=a.members["accreditor"].user,
            role="accreditor",
        )
        db.session.commit()
        client = sign_in(app.test_client(), lead)
        response = client.get(f"/s/{a.school.slug}/reports/years/{year.id}/accreditation.pdf")
        assert response.status_code == 200
        pdf = response.get_data()
        record = client.get(f"/s/{a.school.slug}/reports/training-record.pdf?person={person.id}").get_data()
    assert hits == []
    text = pdf_text(pdf)
    for expected in (
        f"School {texts[0]}",
        f"Answer {texts[1]}",
        f"Task {texts[2]}",
        f"Because {texts[3]}",
        f"Person {texts[3]}",
        f"Query {texts[0]} {texts[2]}",
    ):
        assert squash(expected) in text, expected
    assert squash(f"Person {texts[3]}") in pdf_text(record)
    for data in (pdf, record):
        assert PdfReader(io.BytesIO(data)).attachments == {}
        assert "root:x:0" not in pdf_text(data)


def test_a_signed_report_with_hostile_text_is_stored_as_typed(app):
    a, _ = build_worlds()
    year = db.session.get(SchoolYear, a.objects["year_id"])
    item = db.session.get(Item, a.objects["item_id"])
    item.title = HOSTILE[0]
    db.session.commit()
    sign_off(a.school, year, a.members["head"].user, reviewed=True)  # the year is "signing"
    db.session.commit()
    finish_now(a.school, year, commit=db.session.commit)  # the report job, here rather than in a thread
    from tracker.reports.models import Report

    row = (
        db.session.execute(
            sa.select(Report).where(
                Report.school_id == a.school.id, Report.frozen.is_(True), Report.id != a.objects["report_id"]
            )
        )
        .scalars()
        .one()
    )
    assert squash(HOSTILE[0]) in pdf_text(row.pdf)
