"""One page per recruitment check (its stage, date, who verified it, the document seen, evidence, notes and
risk assessment), and marking a person as left. Writes go through `saving()`."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import school_roles
from ..db import get_for_school_or_404
from ..evidence import services as evidence
from ..evidence.checks import describe_accepted
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD
from ..tracking.holders import holders
from ..tracking.models import Item, ItemKind
from ..tracking.services import EditConflict
from ..transactions import saving
from . import bp, leavers, queries, services
from .checks import record_of
from .due_dates import needed_before_day_one
from .forms import CheckPageForm, LeaveForm, RiskAssessmentForm
from .models import CHECK_STATUS_LABELS, DOCUMENT_TYPE_LABELS, LEAVE_REASON_LABELS, Person
from .views import person_page

READERS = (LEAD, HEAD, HR, ACCREDITOR)


def _person_or_404(person_id):
    return get_for_school_or_404(Person, person_id, g.school)


def _check_item(person, item_id):
    item = get_for_school_or_404(Item, item_id, g.school)
    if item.person_id != person.id or item.kind != ItemKind.CHECK:
        abort(404)
    return item


def _prefix(item):
    return f"c{item.id.hex[:8]}"


def _stored_form(item):
    """The form showing the check as stored."""
    form = CheckPageForm(formdata=None, obj=item, prefix=_prefix(item))
    record = record_of(g.school, item)
    form.check_status.data = item.check_status or "not_started"
    form.version.data = item.version
    form.na_reason.data = item.na_reason or ""
    form.document_type.data = record.document_type
    form.document_reference.data = record.document_reference
    form.covers.data = record.covers
    return form


def check_page(person, item, *, form=None, risk_form=None, status=200):
    """The check's page, with its form as submitted (errors shown) or as stored."""
    ra = queries.risk_of(g.school, item)
    today = g.school.today()
    return render_template(
        "people/check.html",
        person=person,
        item=item,
        form=form or _stored_form(item),
        risk_form=risk_form or RiskAssessmentForm(formdata=None, summary=ra.summary if ra else ""),
        ra=ra,
        risk={item.id: ra} if ra else {},
        record=record_of(g.school, item),
        requirement=item.requirement,
        evidence=evidence.for_items(g.school, [item.id])[item.id],
        accepted=describe_accepted(),
        labels=CHECK_STATUS_LABELS,
        document_labels=DOCUMENT_TYPE_LABELS,
        before_day_one=needed_before_day_one(item, person, today),
        holder=None if item.owner_id else holders(g.school).get(item.owner_role),
        today=today,
    ), status


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>", methods=["GET", "POST"])
@school_roles(*READERS)
def update_check(person_id, item_id):
    """The one page of a check; its form saves the stage, dates, document seen, notes and evidence files."""
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    if request.method == "GET":
        return check_page(person, item)
    if g.membership.role not in (LEAD, HEAD, HR):
        abort(403)
    form = CheckPageForm(prefix=_prefix(item))
    if not form.validate_on_submit():
        return check_page(person, item, form=form, status=400)
    files = form.chosen_files()
    rows = []
    try:
        with saving(form, "check_status", show=False) as tx:
            tx.after_rollback(lambda: evidence.discard(g.school, rows))  # files of rows that were not saved
            services.update_check(
                g.school,
                item,
                version=form.version.data,
                check_status=form.check_status.data,
                verified_on=form.verified_on.data,
                expires_on=form.expires_on.data,
                notes=form.notes.data,
                na_reason=form.na_reason.data,
                document=dict(
                    document_type=form.document_type.data,
                    document_reference=form.document_reference.data,
                    covers=form.covers.data,
                ),
                user=current_user,
            )
            if files:
                rows = evidence.add_files(
                    g.school,
                    item,
                    [(f.filename, f.read()) for f in files],
                    applies_on=form.verified_on.data,
                    user=current_user,
                )
    except EditConflict:
        db_item = get_for_school_or_404(Item, item_id, g.school)
        form = _stored_form(db_item)
        form.check_status.errors = [
            "Someone else changed this check while you were editing. Nothing was saved; this is the "
            "current state."
        ]
        return check_page(person, db_item, form=form, status=409)
    if not tx.ok:
        field = form.files if files and "file" in str(tx.error).lower() else form.check_status
        field.errors = [*field.errors, f"{tx.error} Nothing was saved."]
        return check_page(person, get_for_school_or_404(Item, item_id, g.school), form=form, status=400)
    added = f" Evidence added ({len(rows)})." if rows else ""
    flash(f"{item.title}: {CHECK_STATUS_LABELS[item.check_status]}.{added}", "success")
    return redirect(url_for(".update_check", person_id=person.id, item_id=item.id))


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>/risk", methods=["POST"])
@school_roles(LEAD, HR)
def risk(person_id, item_id):
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    form = RiskAssessmentForm()
    if not form.validate_on_submit():
        return check_page(person, item, risk_form=form, status=400)
    with saving(form, "summary") as tx:
        services.record_risk_assessment(g.school, item, summary=form.summary.data, user=current_user)
    if not tx.ok:
        return check_page(person, item, risk_form=form, status=400)
    flash("Risk assessment recorded. The head now needs to sign it.", "success")
    return redirect(url_for(".update_check", person_id=person.id, item_id=item.id) + "#risk")


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>/risk/sign", methods=["POST"])
@school_roles(HEAD)
def sign_risk(person_id, item_id):
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    with saving() as tx:
        services.sign_risk_assessment(g.school, item, user=current_user)
    if tx.ok:
        flash("Risk assessment signed. The checklist shows it in place of the missing check.", "success")
    return redirect(url_for(".update_check", person_id=person.id, item_id=item.id) + "#risk")


@bp.route("/<uuid:person_id>/leave", methods=["POST"])
@school_roles(LEAD, HR)
def leave(person_id):
    """Mark a person as left: the date and reason, their open checks closed, their leaving tasks added."""
    person = _person_or_404(person_id)
    form = LeaveForm()
    if not form.validate_on_submit():
        return person_page(person, leave_form=form, status=400)
    with saving(form, "left_on") as tx:
        closed = leavers.mark_left(
            g.school,
            person,
            leave_on=form.left_on.data,
            reason=form.leave_reason.data,
            note=form.leave_note.data,
            user=current_user,
        )
    if not tx.ok:
        return person_page(_person_or_404(person_id), leave_form=form, status=400)
    flash(
        f"{person.full_name} is marked as left on {person.leave_on.strftime('%-d %B %Y')} "
        f"({LEAVE_REASON_LABELS[person.leave_reason].lower()}). {closed} open checks closed; their leaving "
        "tasks are on this page.",
        "success",
    )
    return redirect(url_for(".person", person_id=person.id) + "#leaving")
