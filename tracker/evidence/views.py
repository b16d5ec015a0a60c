"""Evidence pages of an item: add files or a link, download a file, remove one (URLs under the item's).

A staff member's evidence for their own item is stored pending verification (evidence/verification.py); the
lead or head verifies it from the item page, a recruitment check's page or the "To verify" list
(tracker/training/verify_views.py). The removal sends the member back to the page it came from (`back`)."""

from flask import Blueprint, abort, flash, g, redirect, request, send_file, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles
from ..db import get_for_school_or_404
from ..tenancy import ACCREDITOR, ALL_MEMBERS, MANAGERS, STAFF, init_school_blueprint
from ..tracking.item_views import item_or_404, item_page
from ..transactions import saving
from . import services
from .forms import EvidenceForm
from .models import Evidence

bp = init_school_blueprint(Blueprint("evidence", __name__, url_prefix="/s/<school>"))


@bp.route("/items/<uuid:item_id>/evidence", methods=["POST"])
@school_roles(*ALL_MEMBERS)
def add(item_id):
    item = item_or_404(item_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return item_page(item, evidence_form=form, status=400)
    files = form.chosen_files()
    if not files and not form.url.data:
        form.files.errors.append("Choose one or more files, or give a link.")
        return item_page(item, evidence_form=form, status=400)
    rows = []
    pending = g.membership.role == STAFF  # counts once a lead or head has verified it
    with saving(show=False) as tx:
        tx.after_rollback(lambda: services.discard(g.school, rows))  # files of rows that were not saved
        if files:
            rows = services.add_files(
                g.school,
                item,
                [(f.filename, f.read()) for f in files],
                applies_on=form.applies_on.data,
                user=current_user,
                pending=pending,
            )
        if form.url.data:
            services.add_link(
                g.school,
                item,
                url=form.url.data,
                title=form.link_title.data,
                applies_on=form.applies_on.data,
                user=current_user,
                pending=pending,
            )
    if not tx.ok:
        form.files.errors.append(f"{tx.error} Nothing was uploaded.")
        return item_page(item_or_404(item_id), evidence_form=form, status=400)
    added = len(rows) + (1 if form.url.data else 0)
    if pending:
        flash(
            f"Evidence sent for verification ({added}). It shows as pending until the safeguarding lead "
            "verifies it; you will see the outcome here.",
            "success",
        )
    else:
        flash(f"Evidence added ({added}).", "success")
    return redirect(url_for("tracking.item", item_id=item.id) + "#evidence")


def _evidence_or_404(item, evidence_id):
    row = get_for_school_or_404(Evidence, evidence_id, g.school)
    allowed = {item.id, item.carried_from_id}
    if row.item_id not in allowed:
        abort(404)
    return row


@bp.route("/items/<uuid:item_id>/evidence/<uuid:evidence_id>")
@school_roles(*ALL_MEMBERS)
def download(item_id, evidence_id):
    item = item_or_404(item_id)
    row = _evidence_or_404(item, evidence_id)
    if row.kind != "file":
        abort(404)  # links are shown on the item page itself
    if g.membership.role == ACCREDITOR:
        with saving():  # every download an accreditor makes is in the audit trail
            audit.record("evidence.downloaded", school=g.school, subject=item, after=row.audit_view())
    path = services.store().path(g.school.id, row.stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.name, max_age=0)


@bp.route("/items/<uuid:item_id>/evidence/<uuid:evidence_id>/remove", methods=["POST"])
@school_roles(*MANAGERS)
def remove(item_id, evidence_id):
    item = item_or_404(item_id)
    row = _evidence_or_404(item, evidence_id)
    if row.item_id != item.id:
        abort(404)  # last year's evidence is read-only
    with saving() as tx:
        services.remove(g.school, item, row)
        tx.after_commit(services.discard, g.school, [row])  # the file goes only once its removal is saved
    flash(f"“{row.name}” was removed from this item. Its record stays in the history.", "success")
    if request.form.get("back") == "check" and item.person_id:  # the removal was on the check's page
        return redirect(
            url_for("people.update_check", person_id=item.person_id, item_id=item.id) + "#evidence"
        )
    return redirect(url_for("tracking.item", item_id=item.id) + "#evidence")
