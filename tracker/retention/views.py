"""Retention pages: the rules and upcoming removals (the lead edits and places holds, the head reads), and a
person's data: the subject-access export and the erasure (lead or HR). Writes go through `saving()`."""

import io
import uuid

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ..access import school_roles
from ..db import get_for_school_or_404
from ..people.models import Person
from ..tenancy import HEAD, HR, LEAD
from ..transactions import saving
from . import bp, services, subject
from .forms import ButtonForm, EraseForm, HoldForm, RulesForm
from .models import RetentionHold
from .rules import KINDS, limits, periods

READERS = (LEAD, HEAD)
EDITORS = (LEAD,)
PERSON_DATA = (LEAD, HR)


def _page(form=None, status=200):
    today = g.school.today()
    if form is None:
        form = RulesForm(data=periods(g.school))
    holds = services.active_holds(g.school)
    return render_template(
        "retention/index.html",
        form=form,
        kinds=KINDS,
        limits={k: limits(k) for k in KINDS},
        upcoming=services.upcoming(g.school, today),
        holds=holds,
        hold_labels=services.hold_labels(g.school, holds),
        tombstones=services.tombstones(g.school),
        days=services.UPCOMING_DAYS,
        button=ButtonForm(),
        today=today,
    ), status


@bp.route("/")
@school_roles(*READERS)
def index():
    return _page()


@bp.route("/rules", methods=["POST"])
@school_roles(*EDITORS)
def rules():
    form = RulesForm()
    if form.validate_on_submit():
        with saving(form) as tx:
            services.set_periods(g.school, {k: form[k].data for k in KINDS}, user=current_user)
        if tx.ok:
            flash("Retention periods saved. The daily run applies them from tonight.", "success")
            return redirect(url_for(".index"))
    return _page(form, 400)


@bp.route("/holds", methods=["POST"])
@school_roles(*EDITORS)
def hold():
    form = HoldForm()
    if form.validate_on_submit():
        try:
            record_id = uuid.UUID(form.record_id.data)
        except ValueError:
            abort(400, "That record does not exist.")
        with saving() as tx:
            services.place_hold(
                g.school,
                record_type=form.record_type.data,
                record_id=record_id,
                reason=form.reason.data,
                user=current_user,
            )
        if tx.ok:
            flash("Hold placed. Nothing of this record is removed until you lift it.", "success")
            return redirect(url_for(".index"))
    else:
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
    return _page(status=400)


@bp.route("/holds/<uuid:hold_id>/lift", methods=["POST"])
@school_roles(*EDITORS)
def lift(hold_id):
    row = get_for_school_or_404(RetentionHold, hold_id, g.school)
    form = ButtonForm()
    if form.validate_on_submit():
        with saving() as tx:
            services.lift_hold(g.school, row, user=current_user)
        if tx.ok:
            flash("Hold lifted. The record's retention rule applies again.", "success")
            return redirect(url_for(".index"))
    return _page(status=400)


@bp.route("/people/<uuid:person_id>/export")
@school_roles(*PERSON_DATA)
def export_person(person_id):
    person = get_for_school_or_404(Person, person_id, g.school)
    with saving() as tx:
        data, name = subject.export_zip(g.school, person, user=current_user)
    if not tx.ok:
        abort(400)
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name)


@bp.route("/people/<uuid:person_id>/erase", methods=["GET", "POST"])
@school_roles(*PERSON_DATA)
def erase_person(person_id):
    person = get_for_school_or_404(Person, person_id, g.school)
    form = EraseForm()
    today = g.school.today()
    if request.method == "POST" and form.validate_on_submit():
        with saving(form) as tx:
            tx.after_commit(services.purge_files, g.school.id)
            services.erase_person(
                g.school,
                person,
                reason=form.reason.data,
                confirm_name=form.confirm_name.data,
                user=current_user,
                today=today,
            )
        if tx.ok:
            flash(
                "Erased. A tombstone in the audit trail records who erased the record, when and why.",
                "success",
            )
            return redirect(url_for("people.index"))
    return render_template(
        "retention/erase.html", person=person, form=form, today=today
    ), 400 if request.method == "POST" else 200
