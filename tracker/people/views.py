"""Register, person and import pages. Views parse forms, call services, commit once and redirect."""

from flask import Response, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import school_roles
from ..db import db, get_for_school_or_404
from ..evidence.services import for_items
from ..tenancy import ACCREDITOR, HEAD, HR, LEAD, STAFF
from ..tracking.models import Item
from ..tracking.services import EditConflict
from ..training.services import person_record, person_sessions
from . import bp, jobs, register, services
from .forms import CheckForm, ConfirmImportForm, ImportForm, PersonForm, RiskAssessmentForm
from .importing import MAX_ROWS, ImportFileError, check_rows, read_table
from .models import (CATEGORY_LABELS, CHECK_STATUS_LABELS, GROUP_LABELS, IMPORT_DONE, ImportJob, Person,
                     RiskAssessment)

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
    return render_template("people/index.html", cols=cols, rows=rows, page=page, filter_key=filter_key,
                           filters=register.FILTERS, labels=CHECK_STATUS_LABELS, today=g.school.today())


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
        audit.record("register.exported", school=g.school, subject=g.school,
                     after={"file": name, "filter": filter_key, "people": len(rows)})
        db.session.commit()
    if fmt == "csv":
        body, mime = register.to_csv(table), "text/csv; charset=utf-8"
    else:
        body, mime = register.to_xlsx(table), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _form_values(form):
    return dict(full_name=form.full_name.data, email=form.email.data, category=form.category.data,
                start_on=form.start_on.data, leave_on=form.leave_on.data, countries=form.country_list(),
                groups=form.groups.data or [])


@bp.route("/new", methods=["GET", "POST"])
@school_roles(*EDITORS)
def add():
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = services.add_person(g.school, **_form_values(form))
        except services.PeopleError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
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
        try:
            services.update_person(g.school, person, **_form_values(form))
        except services.PeopleError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Saved. The checklist follows the countries and start date.", "success")
            return redirect(url_for(".person", person_id=person.id))
    return render_template("people/form.html", form=form, person=person), 400 if form.errors else 200


def _checklist(person):
    items = db.session.execute(db.select(Item).where(Item.school_id == g.school.id, Item.person_id == person.id)
                               .order_by(Item.due_on, Item.country)).scalars().all()
    risk = {r.item_id: r for r in db.session.execute(
        db.select(RiskAssessment).where(RiskAssessment.school_id == g.school.id,
                                        RiskAssessment.item_id.in_([i.id for i in items]))).scalars()} if items else {}
    return items, risk


@bp.route("/<uuid:person_id>")
@school_roles(*READERS)
def person(person_id):
    person = _person_or_404(person_id)
    items, risk = _checklist(person)
    return render_template("people/person.html", person=person, items=items, risk=risk,
                           evidence=for_items(g.school, [i.id for i in items]),
                           training=person_record(g.school, person),
                           sessions=person_sessions(g.school, person),
                           labels=CHECK_STATUS_LABELS,
                           categories=CATEGORY_LABELS, group_labels=GROUP_LABELS, today=g.school.today(),
                           can_edit=g.membership.role in EDITORS, can_check=g.membership.role in CHECKERS,
                           forms={i.id: _check_form(i) for i in items}, risk_form=RiskAssessmentForm())


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
            services.update_check(g.school, item, version=form.version.data, check_status=form.check_status.data,
                                  verified_on=form.verified_on.data, expires_on=form.expires_on.data,
                                  notes=form.notes.data, na_reason=form.na_reason.data, user=current_user)
            db.session.commit()
            flash(f"{item.title}: {CHECK_STATUS_LABELS[item.check_status]}.", "success")
            return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")
        except services.PeopleError as exc:
            db.session.rollback()
            flash(f"{item.title}: {exc}", "error")
        except EditConflict:
            db.session.rollback()
            flash(f"{item.title}: someone else changed this check while you were editing. Nothing was saved; "
                  "here is the current state.", "error")
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
        try:
            services.record_risk_assessment(g.school, item, summary=form.summary.data, user=current_user)
            db.session.commit()
            flash("Risk assessment recorded. The head now needs to sign it.", "success")
        except services.PeopleError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")


@bp.route("/<uuid:person_id>/checks/<uuid:item_id>/risk/sign", methods=["POST"])
@school_roles(HEAD)
def sign_risk(person_id, item_id):
    person = _person_or_404(person_id)
    item = _check_item(person, item_id)
    try:
        services.sign_risk_assessment(g.school, item, user=current_user)
        db.session.commit()
        flash("Risk assessment signed. The checklist shows it in place of the missing check.", "success")
    except services.PeopleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for(".person", person_id=person.id) + f"#check-{item.id}")


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"people-import:{g.school.id}")


#: the keys of a checked row in the confirmation payload (importing.check_rows)
ROW_KEYS = {"full_name", "email", "category", "start_on", "leave_on", "countries", "groups"}


def _payload_limit():
    """The largest payload the confirmation form can carry (the form memory limit, less room for the rest)."""
    return current_app.config.get("MAX_FORM_MEMORY_SIZE", 1024 * 1024) - 16 * 1024


@bp.route("/import", methods=["GET", "POST"])
@school_roles(*EDITORS)
def import_people():
    form = ImportForm()
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        if not upload or not upload.filename:
            form.file.errors.append("Choose a .csv or .xlsx file.")
        else:
            try:
                rows = check_rows(read_table(upload.filename, upload.read()), today=g.school.today())
            except ImportFileError as exc:
                form.file.errors.append(str(exc))
            else:
                bad = sum(1 for r in rows if not r.ok)
                payload = _serializer().dumps({"rows": [r.values for r in rows if r.ok], "bad": bad})
                if len(payload) > _payload_limit():
                    form.file.errors.append("This file holds too much to import in one go. Split it into two "
                                            "files and import them one after the other.")
                else:
                    confirm = ConfirmImportForm()
                    confirm.payload.data = payload  # a POST: forms take no values but the request's otherwise
                    return render_template("people/import.html", form=form, rows=rows, confirm=confirm,
                                           bad=bad, categories=CATEGORY_LABELS,
                                           background=len(rows) - bad > jobs.background_rows())
    return render_template("people/import.html", form=form, rows=None), 400 if form.errors else 200


def _checked_payload(raw):
    """(rows, bad) from the confirmation payload; anything not made by the preview of this school is a 400."""
    again = "Upload the file again."
    if len(raw or "") > _payload_limit():
        abort(400, f"The import is larger than this installation accepts. {again}")
    try:
        checked = _serializer().loads(raw)
        rows, bad = checked["rows"], int(checked["bad"])
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(400, f"The import could not be verified. {again}")
    if isinstance(rows, list) and len(rows) > MAX_ROWS:
        abort(400, f"The import has more than {MAX_ROWS:,} rows. Split the file and upload each part.")
    if not isinstance(rows, list) or bad < 0 or not all(isinstance(r, dict) and set(r) == ROW_KEYS
                                                         for r in rows):
        abort(400, f"The import was prepared by an earlier version of the tracker. {again}")
    return rows, bad


@bp.route("/import/confirm", methods=["POST"])
@school_roles(*EDITORS)
def confirm_import():
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, "The import form had expired. Upload the file again.")
    rows, bad = _checked_payload(form.payload.data)
    if bad and form.skip_bad.data != "yes":
        abort(400, f"{bad} row(s) have errors. Fix the file and upload it again, or choose to skip those rows.")
    if len(rows) > jobs.background_rows():
        job = jobs.create(g.school, rows, skipped=bad, user=current_user)
        db.session.commit()
        if current_app.config.get("TRACKER_IMPORT_JOBS_THREADED", True):
            jobs.start(job.id)
        return redirect(url_for(".import_job", job_id=job.id), code=303)
    try:
        report = services.import_rows(g.school, rows, skipped=bad)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(409, jobs.CLASH)
    flash(f"Import done: {report.added} added, {report.changed} updated, {report.unchanged} unchanged"
          + (f", {report.skipped} row(s) with errors skipped" if report.skipped else "") + ".", "success")
    return redirect(url_for(".index"))


def _import_job(job_id):
    job = get_for_school_or_404(ImportJob, job_id, g.school)
    if jobs.expire_if_dead(job):
        db.session.commit()
    return job


@bp.route("/import/jobs/<uuid:job_id>")
@school_roles(*EDITORS)
def import_job(job_id):
    job = _import_job(job_id)
    return render_template("people/import_job.html", job=job, state=jobs.state(job))


@bp.route("/import/jobs/<uuid:job_id>/status")
@school_roles(*EDITORS)
def import_job_status(job_id):
    job = _import_job(job_id)
    return jsonify(**jobs.state(job), download=url_for(".index") if job.status == IMPORT_DONE else None)


@bp.route("/me")
@school_roles(LEAD, HEAD, HR, STAFF)
def me():
    person = db.session.execute(db.select(Person).where(Person.school_id == g.school.id,
                                                        Person.user_id == current_user.id)).scalar_one_or_none()
    if person is None:
        return render_template("people/me.html", person=None)
    items, risk = _checklist(person)
    return render_template("people/me.html", person=person, items=items, risk=risk, labels=CHECK_STATUS_LABELS,
                           training=person_record(g.school, person), today=g.school.today())


