"""The head's sign-off freezes the accreditation report: later edits make new drafts, never alter it."""

import hashlib

import sqlalchemy as sa

from tracker.extensions import db
from tracker.reports import render
from tracker.reports.models import Report
from tracker.tracking.models import Item, SchoolYear

from .reports_helpers import pdf_text
from .sign_off_helpers import sign_off
from .world import build_worlds, sign_in


def _frozen(world):
    return (
        db.session.execute(
            sa.select(Report).where(
                Report.school_id == world.school.id,
                Report.frozen.is_(True),
                Report.id != world.objects["report_id"],
            )
        )
        .scalars()
        .all()
    )


def test_the_signed_report_keeps_its_bytes_and_hash_after_later_edits(app):
    a, _ = build_worlds()
    slug, year_id = a.school.slug, a.objects["year_id"]
    head = sign_in(app.test_client(), a.members["head"].user)
    # the head's password and "reviewed" ticked; the report's job runs in the request here
    assert sign_off(head, slug, year_id).status_code == 302
    [frozen] = _frozen(a)
    url = f"/s/{slug}/reports/files/{frozen.id}"
    signed = head.get(url)
    signed_bytes, signed_hash = signed.get_data(), frozen.pdf_sha256
    assert hashlib.sha256(signed_bytes).hexdigest() == signed_hash == signed.headers["X-Report-SHA256"]
    assert signed_hash in head.get(f"/s/{slug}/reports/").get_data(as_text=True)  # shown with its hash

    item = db.session.get(Item, a.objects["item_id"])
    item.title, item.answer = "Edited after the sign-off", "A new answer written later"
    db.session.commit()
    lead = sign_in(app.test_client(), a.members["lead"].user)
    draft = lead.get(f"/s/{slug}/reports/years/{year_id}/accreditation.pdf").get_data()
    assert "Editedafterthesign-off" in pdf_text(draft)

    again = head.get(url)
    assert again.get_data() == signed_bytes
    db.session.expire_all()
    [still] = _frozen(a)
    assert still.id == frozen.id and still.pdf_sha256 == signed_hash and still.pdf == signed_bytes
    assert "Editedafterthesign-off" not in pdf_text(signed_bytes)
    from tracker.audit import AuditEvent

    actions = (
        db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.school_id == a.school.id))
        .scalars()
        .all()
    )
    assert {"year.sign_off_requested", "year.signed_off", "report.frozen"} <= set(actions)


def test_a_year_is_not_signed_off_when_its_report_cannot_be_made(app, monkeypatch):
    a, _ = build_worlds()

    def fail(*args, **kwargs):
        raise render.RenderError("The report took longer than 1 seconds to render and was stopped.")

    monkeypatch.setattr("tracker.reports.jobs.render_pdf", fail)  # the report is made by the sign-off's job
    head = sign_in(app.test_client(), a.members["head"].user)
    response = sign_off(head, a.school.slug, a.objects["year_id"], follow_redirects=True)
    assert "could not be signed off" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SchoolYear, a.objects["year_id"]).signed_off_at is None
    # the failed job's row is kept, failed, with the reason; no report is frozen (done)
    assert [r.status for r in _frozen(a)] == ["failed"]
