"""Register and person pages: the register and its export, add and edit a person, update their checks and
risk assessments. Import pages are in import_views.py. Writes go through `saving()`."""

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import school_roles
from ..db import get_for_school_or_404
from ..evidence.services import for_items
from ..signals import page_values, person_page
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD, STAFF
from ..tracking.models import Item
from ..tracking.services import EditConflict
from ..transactions import saving
from . import bp, queries, register, services
from .forms import CheckForm, PersonForm, RiskAssessmentForm
from .models import CATEGORY_LABELS, CHECK_STATUS_LABELS, GROUP_LABELS, Person

READERS = (LEAD, HEAD, HR, ACCREDITOR)
EDITORS = (LEAD, HR)
CHECKERS = (LEAD, HEAD, HR)


@bp.route("/")
@school_roles(*READERS)
def index():
    filter_key = request.args.get("filter") or None
    if filter_key and filter_key not in register.FILTERS:
        abort(400, "Unknown filter.")
    cols, rows, page = register.build(g.school, filter_key, paged=True)
    return render_template(
        "people/index.html",
        cols=cols,
        rows=rows,
        page=page,
        filter_key=filter_key,
        filters=register.FILTERS,
        labels=CHECK_STATUS_LABELS,
        today=g.school.today(),
    )


@bp.route("/export.<fmt>")
@school_roles(*READERS)
def export(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filter_key = request.args.get("filter") or None
    if filter_key and filter_key not in register.FILTERS:
        abort(400, "Unknown filter.")
    cols, rows, _ = register.build(g.school, filter_key)
    table = register.to_table(cols, rows)
    name = f"recruitment-register-{g.school.slug}-{g.school.today().isoformat()}.{fmt}"
    if g.membership.role == ACCREDITOR:  # every download an accreditor makes is in the audit trail
        with saving():
            audit.record(
                "register.exported",
                school=g.school,
                subject=g.school,
                after={"file": name, "filter": filter_key, "people": len(rows)},
            )
    if fmt == "csv":
        body, mime = register.to_csv(table), "text/csv; charset=utf-8"
    else:
        body, mime = (
            register.to_xlsx(table),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
@school_roles(*READERS)
def person(person_id):
    person = _person_or_404(person_id)
    items, risk = queries.checklist(g.school, person)
    return render_template(
        "people/person.html",
        person=person,
        items=items,
        risk=risk,
        evidence=for_items(g.school, [i.id for i in items]),
        **page_values(person_page, person, school=g.school, own=False),
        labels=CHECK_STATUS_LABELS,
        categories=CATEGORY_LABELS,
        group_labels=GROUP_LABELS,
        today=g.school.today(),
        forms={i.id: _check_form(i) for i in items},
        risk_form=RiskAssessmentForm(),
    )


def _check_form(item):
    form = CheckForm(obj=item, prefix=f"c{item.id.hex[:8]}")
    form.check_status.data = item.check_status or "not_started"
    form.version.data = item.version
    return form


def _check_item(person, item_id):
    item = get_for_school_or_404(Item, item_id, g.school)
    if item.person_id != person.id:
        abort(404)
    return item


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>", methods=["POST"])
@school_roles(*CHECKERS)
def update_check(person_id, item_id):
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    form = CheckForm(prefix=f"c{item.id.hex[:8]}")
    if form.validate_on_submit():
        try:
            with saving(prefix=f"{item.title}: ") as tx:
                services.update_check(
                    g.school,
                    item,
                    version=form.version.data,
                    check_status=form.check_status.data,
                    verified_on=form.verified_on.data,
                    expires_on=form.expires_on.data,
                    notes=form.notes.data,
                    na_reason=form.na_reason.data,
                    user=current_user,
                )
            if tx.ok:
                flash(f"{item.title}: {CHECK_STATUS_LABELS[item.check_status]}.", "success")
                return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")
        except EditConflict:
            flash(
                f"{item.title}: someone else changed this check while you were editing. Nothing was saved; "
                "here is the current state.",
                "error",
            )
            return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}"), 409
    else:
        flash(f"{item.title}: " + " ".join(e for errs in form.errors.values() for e in errs), "error")
    return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>/risk", methods=["POST"])
@school_roles(LEAD, HR)
def risk(person_id, item_id):
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    form = RiskAssessmentForm()
    if not form.validate_on_submit():
        flash("Summarise the risk assessment before saving it.", "error")
    else:
        with saving() as tx:
            services.record_risk_assessment(g.school, item, summary=form.summary.data, user=current_user)
        if tx.ok:
            flash("Risk assessment recorded. The head now needs to sign it.", "success")
    return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>/risk/sign", methods=["POST"])
@school_roles(HEAD)
def sign_risk(person_id, item_id):
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    with saving() as tx:
        services.sign_risk_assessment(g.school, item, user=current_user)
    if tx.ok:
        flash("Risk assessment signed. The checklist shows it in place of the missing check.", "success")
    return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")


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
        **page_values(person_page, person, school=g.school, own=True),
    )
