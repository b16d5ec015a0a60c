"""Person pages: add and edit a person, their page (checks summary, next action, leaving) and a member's own
record. The register is in register_views.py, a check's page and leaving in check_views.py, import pages in
import_views.py. Writes go through `saving()`."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import school_roles
from ..db import get_for_school_or_404
from ..evidence.services import for_items
from ..signals import page_values
from ..signals import person_page as person_page_signal
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD, STAFF
from ..transactions import saving
from . import bp, leavers, queries, services
from .due_dates import needed_before_day_one
from .forms import LeaveForm, PersonForm
from .models import CATEGORY_LABELS, CHECK_STATUS_LABELS, GROUP_LABELS, LEAVE_REASON_LABELS, Person

READERS = (LEAD, HEAD, HR, ACCREDITOR)
EDITORS = (LEAD, HR)


def _form_values(form):
    return dict(
        full_name=form.full_name.data,
        email=form.email.data,
        category=form.category.data,
        start_on=form.start_on.data,
        leave_on=form.leave_on.data,
        countries=form.country_list(),
        groups=form.groups.data or [],
    )


@bp.route("/new", methods=["GET", "POST"])
@school_roles(*EDITORS)
def add():
    form = PersonForm()
    if form.validate_on_submit():
        with saving(form, "email") as tx:
            person = services.add_person(g.school, **_form_values(form))
        if tx.ok:
            flash(f"{person.full_name} is on the register with their safer-recruitment checklist.", "success")
            return redirect(url_for(".person", person_id=person.id))
    return render_template("people/form.html", form=form, person=None), 400 if form.errors else 200


def _person_or_404(person_id):
    return get_for_school_or_404(Person, person_id, g.school)


@bp.route("/<uuid:person_id>/edit", methods=["GET", "POST"])
@school_roles(*EDITORS)
def edit(person_id):
    person = _person_or_404(person_id)
    form = PersonForm(obj=person)
    if request.method == "GET":
        form.countries.data = ", ".join(person.countries or [])
        form.groups.data = person.groups or []
    if form.validate_on_submit():
        with saving(form, "email") as tx:
            services.update_person(g.school, person, **_form_values(form))
        if tx.ok:
            flash("Saved. The checklist follows the countries and start date.", "success")
            return redirect(url_for(".person", person_id=person.id))
    return render_template("people/form.html", form=form, person=person), 400 if form.errors else 200


@bp.route("/<uuid:person_id>")
@school_roles(*READERS, group="registers")
def person(person_id):
    return person_page(_person_or_404(person_id))


def person_page(person, *, leave_form=None, status=200):
    """A person's page: their checks with a summary and the next action, their leaving, training and
    documents; `leave_form` as submitted when "Mark as left" was refused."""
    items, risk = queries.checklist(g.school, person)
    today = g.school.today()
    return render_template(
        "people/person.html",
        person=person,
        items=items,
        risk=risk,
        summary=queries.summary(person, items, risk, today),
        before_day_one={i.id for i in items if needed_before_day_one(i, person, today)},
        evidence=for_items(g.school, [i.id for i in items]),
        leaving_tasks=leavers.leaving_tasks(g.school, person),
        leave_form=leave_form or LeaveForm(formdata=None, left_on=today),
        leave_reasons=LEAVE_REASON_LABELS,
        **page_values(person_page_signal, person, school=g.school, own=False),
        labels=CHECK_STATUS_LABELS,
        categories=CATEGORY_LABELS,
        group_labels=GROUP_LABELS,
        today=today,
    ), status


@bp.route("/me")
@school_roles(LEAD, HEAD, HR, STAFF)
def me():
    person = queries.person_of(g.school, current_user.id)
    if person is None:
        return render_template("people/me.html", person=None)
    items, risk = queries.checklist(g.school, person)
    return render_template(
        "people/me.html",
        person=person,
        items=items,
        risk=risk,
        labels=CHECK_STATUS_LABELS,
        today=g.school.today(),
        **page_values(person_page_signal, person, school=g.school, own=True),
    )
