"""Tracking pages. Each view parses its form, calls a service, commits once and redirects."""
import uuid
from datetime import date

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, pagecache
from ..access import school_roles
from ..auth.models import User
from ..db import db, get_for_school_or_404
from ..evidence import services as evidence
from ..evidence.checks import UploadRejected, describe_accepted
from ..evidence.forms import EvidenceForm
from ..evidence.models import Evidence
from ..pagination import paginate
from ..tenancy import ACCREDITOR, ALL_MEMBERS, MANAGERS, Membership
from . import bp, queries, services
from .forms import AnswerForm, CommentForm, ItemForm, OwnItemForm, StartYearForm
from .models import ANSWER_STATUS_LABELS, STATUS_LABELS, STATUSES, AnswerVersion, Comment, Item


def _manages():
    return g.membership.role in MANAGERS


def _owner_choices():
    rows = db.session.execute(
        db.select(User.id, User.name, User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == g.school.id, Membership.role != ACCREDITOR).order_by(User.name, User.email)
    ).all()
    return [(str(r.id), r.name or r.email) for r in rows]


def _owner(value):
    if not value:
        return None
    try:
        user_id = uuid.UUID(str(value))  # the form gives a string; a Uuid column needs a UUID on SQLite
    except ValueError:
        abort(400, "The owner must be a member of the school.")
    member = db.session.execute(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.school_id == g.school.id, User.id == user_id)
    ).scalar_one_or_none()
    if member is None:
        abort(400, "The owner must be a member of the school.")
    return member


def _year_or_404(year_id=None):
    from .models import SchoolYear

    if year_id is not None:
        return get_for_school_or_404(SchoolYear, year_id, g.school)
    return services.current_year(g.school)


def _item_or_404(item_id):
    item = get_for_school_or_404(Item, item_id, g.school)
    if queries.may_see(g.membership, item):
        return item
    abort(404)  # staff see only what is assigned to them; HR also recruitment checks and unassigned HR items


@bp.route("/")
@school_roles(*ALL_MEMBERS)
def home():
    years = queries.years(g.school)
    if request.args.get("year"):
        year = _year_or_404(_uuid(request.args["year"]))
    else:
        year = services.current_year(g.school, years)
    if year is None:
        return render_template("tracking/no_year.html", form=StartYearForm(start_year=_suggested_start()))

    def render():
        data = queries.dashboard(g.school, year, g.membership, current_user.id)
        return render_template("tracking/_dashboard_body.html", year=year, years=years, **data)

    body = pagecache.school_fragment(g.school, ("dashboard", year.id, g.membership.role, current_user.id), render)
    return render_template("tracking/dashboard.html", body=body)


def _uuid(value):
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def _suggested_start():
    today = g.school.today()
    return today.year if today.month >= g.school.year_start_month else today.year - 1


@bp.route("/years")
@school_roles(*ALL_MEMBERS)
def years():
    return render_template("tracking/years.html", years=queries.years(g.school),
                           form=StartYearForm(start_year=_suggested_start()), newer=_newer_versions())


def _newer_versions():
    from ..frameworks.services import latest_versions

    return {f.key: f for f in latest_versions()}


@bp.route("/years/start", methods=["POST"])
@school_roles(*MANAGERS)
def start_year():
    form = StartYearForm()
    if form.validate_on_submit():
        try:
            year = services.start_year(g.school, form.start_year.data)
        except services.TrackingError as exc:
            form.start_year.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{year.label} has started: every task, training activity and policy question has a due date. "
                  "Assign owners next.", "success")
            return redirect(url_for(".home", year=year.id))
    return render_template("tracking/years.html", years=queries.years(g.school), form=form,
                           newer=_newer_versions()), 400


@bp.route("/years/<uuid:year_id>/rollover", methods=["POST"])
@school_roles(*MANAGERS)
def rollover(year_id):
    previous = _year_or_404(year_id)
    try:
        year = services.roll_over(g.school, previous)
    except services.TrackingError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".years"))
    db.session.commit()
    flash(f"{year.label} started from {previous.label}: recurring items have new dates and policy answers are "
          "carried forward as drafts to review.", "success")
    return redirect(url_for(".home", year=year.id))


@bp.route("/years/<uuid:year_id>/signoff", methods=["POST"])
@school_roles("head")
def sign_off(year_id):
    year = _year_or_404(year_id)
    try:
        services.sign_off(g.school, year, current_user)
    except services.TrackingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"You signed off {year.label}. Its accreditation report is frozen under Reports.", "success")
    return redirect(url_for(".years"))


@bp.route("/years/<uuid:year_id>/upgrade/<framework_key>", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def upgrade(year_id, framework_key):
    from ..frameworks.services import compare_versions

    year = _year_or_404(year_id)
    new = _newer_versions().get(framework_key)
    old = next((f for f in year.frameworks if f.key == framework_key), None)
    if new is None or old is None:
        abort(404)
    if request.method == "POST":
        try:
            report = services.upgrade_framework(g.school, year, new)
        except services.TrackingError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".years"))
        db.session.commit()
        flash(f"{report.framework} is now version {report.new_version}: {len(report.kept)} kept, "
              f"{len(report.added)} added, {len(report.removed)} removed.", "success")
        return redirect(url_for(".years"))
    return render_template("tracking/upgrade.html", year=year, old=old, new=new, change=compare_versions(old, new))


def _filters():
    f = queries.ItemFilters()
    args = request.args
    if args.get("status"):
        if args["status"] not in STATUSES:
            abort(400, "Unknown status filter.")
        f.status = args["status"]
    owner = args.get("owner")
    if owner:
        f.owner = owner if owner in ("me", "none") else _uuid(owner)
    f.framework = args.get("framework") or None
    if args.get("month"):
        try:
            f.month = date.fromisoformat(args["month"] + "-01")
        except ValueError:
            abort(400, "Give the month as YYYY-MM.")
    f.overdue = args.get("overdue") == "1"
    f.due_soon = args.get("due_soon") == "1"
    return f


@bp.route("/items")
@school_roles(*ALL_MEMBERS)
def items():
    year = _year_or_404(request.args.get("year") and _uuid(request.args["year"]))
    if year is None:
        return redirect(url_for(".home"))
    f = _filters()
    query = queries.item_query(g.school, year, g.membership, current_user.id, f, g.school.today())
    page = paginate(query, per_page=50)
    return render_template("tracking/items.html", year=year, page=page, f=f, today=g.school.today(),
                           owners=_owner_choices() if _sees_all() else [],
                           status_labels=STATUS_LABELS)


def _sees_all():
    return g.membership.role in queries.SEES_EVERYTHING


@bp.route("/items/new", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def add_item():
    year = _year_or_404(request.args.get("year") and _uuid(request.args["year"]))
    if year is None:
        flash("Start a school year first.", "error")
        return redirect(url_for(".years"))
    form = OwnItemForm(owner_choices=_owner_choices())
    if form.validate_on_submit():
        try:
            item = services.add_own_item(g.school, year, title=form.title.data, due_on=form.due_on.data,
                                         owner=_owner(form.owner.data), notes=form.notes.data)
        except services.TrackingError as exc:
            form.due_on.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Item added.", "success")
            return redirect(url_for(".item", item_id=item.id))
    return render_template("tracking/add_item.html", form=form, year=year), 400 if form.errors else 200


def _item_page(item, *, form=None, answer_form=None, comment_form=None, evidence_form=None, status=200):
    from ..frameworks.models import AUDIENCE_LABELS, REPEAT_LABELS

    history = db.session.execute(
        db.select(audit.AuditEvent).where(audit.AuditEvent.school_id == g.school.id,
                                          audit.AuditEvent.subject_type == "items",
                                          audit.AuditEvent.subject_id == str(item.id))
        .order_by(audit.AuditEvent.seq.desc())
    ).scalars().all()
    comments = db.session.execute(db.select(Comment).where(Comment.school_id == g.school.id,
                                                           Comment.item_id == item.id)
                                  .order_by(Comment.created_at)).scalars().all()
    versions = db.session.execute(db.select(AnswerVersion).where(AnswerVersion.school_id == g.school.id,
                                                                 AnswerVersion.item_id == item.id)
                                  .order_by(AnswerVersion.created_at.desc())).scalars().all()
    ids = [item.id] + ([item.carried_from_id] if item.carried_from_id else [])
    files = evidence.for_items(g.school, ids)
    if form is None:
        form = _item_form(formdata=None, obj=item)  # shows the stored item, even while another form posts
        if "owner" in form:
            form.owner.data = str(item.owner_id) if item.owner_id else ""
        form.version.data = item.version
    if answer_form is None and item.kind == "answer":
        answer_form = AnswerForm(formdata=None, obj=item)
        answer_form.version.data = item.version
    return render_template(
        "tracking/item.html", item=item, requirement=services.requirement_for(item), form=form,
        answer_form=answer_form, comment_form=comment_form or CommentForm(), evidence_form=evidence_form or
        EvidenceForm(), history=history, comments=comments, versions=versions, evidence=files[item.id],
        carried_evidence=files.get(item.carried_from_id, []), today=g.school.today(), manage=_manages(),
        answer_labels=ANSWER_STATUS_LABELS, accepted=describe_accepted(), repeat_labels=REPEAT_LABELS,
        audience_labels=AUDIENCE_LABELS,
    ), status


def _item_form(**kwargs):
    """The item form as the page shows it to this member: owner and due date for leads and heads only."""
    manage = _manages()
    return ItemForm(owner_choices=_owner_choices() if manage else (), manage=manage, **kwargs)


@bp.route("/items/<uuid:item_id>", methods=["GET", "POST"])
@school_roles(*ALL_MEMBERS)
def item(item_id):
    item = _item_or_404(item_id)
    if request.method == "GET":
        return _item_page(item)
    if item.kind == "check":
        abort(400, "A recruitment check is updated on the person's page, not here.")
    form = _item_form()
    if not form.validate_on_submit():
        return _item_page(item, form=form, status=400)
    manage = "owner" in form
    try:
        services.update_item(g.school, item, version=form.version.data, status=form.status.data,
                             owner=_owner(form.owner.data) if manage else None,
                             due_on=form.due_on.data if manage else None, notes=form.notes.data,
                             na_reason=form.na_reason.data, completed_on=form.completed_on.data,
                             manage=manage)
        db.session.commit()
    except services.TrackingError as exc:
        db.session.rollback()
        form.status.errors.append(str(exc))
        return _item_page(_item_or_404(item_id), form=form, status=400)
    except (services.EditConflict, StaleDataError):
        db.session.rollback()
        submitted = {"Status": STATUS_LABELS.get(form.status.data, form.status.data),
                     "Notes": form.notes.data}
        if "due_on" in form:
            submitted["Due date"] = form.due_on.data
        return _conflict(item_id, submitted)
    flash("Saved.", "success")
    return redirect(url_for(".item", item_id=item.id))


def _conflict(item_id, submitted):
    current = _item_or_404(item_id)
    return render_template("tracking/conflict.html", item=current, submitted=submitted,
                           status_labels=STATUS_LABELS, answer_labels=ANSWER_STATUS_LABELS), 409


@bp.route("/items/<uuid:item_id>/answer", methods=["POST"])
@school_roles(*ALL_MEMBERS)
def answer(item_id):
    item = _item_or_404(item_id)
    if item.kind != "answer":
        abort(404)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _item_page(item, answer_form=form, status=400)
    try:
        services.save_answer(g.school, item, version=form.version.data, answer=form.answer.data,
                             answer_status=form.answer_status.data, review_on=form.review_on.data,
                             author=current_user)
        db.session.commit()
    except (services.EditConflict, StaleDataError):
        db.session.rollback()
        return _conflict(item_id, {"Answer": form.answer.data,
                                   "Where the school stands": ANSWER_STATUS_LABELS.get(form.answer_status.data),
                                   "Review by": form.review_on.data})
    flash("Answer saved. Earlier versions are kept below.", "success")
    return redirect(url_for(".item", item_id=item.id))


@bp.route("/items/<uuid:item_id>/comments", methods=["POST"])
@school_roles(*ALL_MEMBERS)
def comment(item_id):
    item = _item_or_404(item_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _item_page(item, comment_form=form, status=400)
    services.add_comment(g.school, item, body=form.body.data, author=current_user)
    db.session.commit()
    flash("Comment added.", "success")
    return redirect(url_for(".item", item_id=item.id) + "#comments")


@bp.route("/items/<uuid:item_id>/evidence", methods=["POST"])
@school_roles(*ALL_MEMBERS)
def add_evidence(item_id):
    item = _item_or_404(item_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return _item_page(item, evidence_form=form, status=400)
    files = form.chosen_files()
    if not files and not form.url.data:
        form.files.errors.append("Choose one or more files, or give a link.")
        return _item_page(item, evidence_form=form, status=400)
    rows = []
    try:
        if files:
            rows = evidence.add_files(g.school, item, [(f.filename, f.read()) for f in files],
                                      applies_on=form.applies_on.data, user=current_user)
        if form.url.data:
            evidence.add_link(g.school, item, url=form.url.data, title=form.link_title.data,
                              applies_on=form.applies_on.data, user=current_user)
        db.session.commit()
    except UploadRejected as exc:
        db.session.rollback()
        evidence.discard(g.school, rows)
        form.files.errors.append(f"{exc} Nothing was uploaded.")
        return _item_page(_item_or_404(item_id), evidence_form=form, status=400)
    except Exception:
        db.session.rollback()
        evidence.discard(g.school, rows)
        raise
    flash(f"Evidence added ({len(rows) + (1 if form.url.data else 0)}).", "success")
    return redirect(url_for(".item", item_id=item.id) + "#evidence")


def _evidence_or_404(item, evidence_id):
    row = get_for_school_or_404(Evidence, evidence_id, g.school)
    allowed = {item.id, item.carried_from_id}
    if row.item_id not in allowed:
        abort(404)
    return row


@bp.route("/items/<uuid:item_id>/evidence/<uuid:evidence_id>")
@school_roles(*ALL_MEMBERS)
def download(item_id, evidence_id):
    item = _item_or_404(item_id)
    row = _evidence_or_404(item, evidence_id)
    if row.kind != "file":
        abort(404)  # links are shown on the item page itself
    if g.membership.role == ACCREDITOR:
        audit.record("evidence.downloaded", school=g.school, subject=item, after=row.audit_view())
        db.session.commit()
    path = evidence.store().path(g.school.id, row.stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.name, max_age=0)


@bp.route("/items/<uuid:item_id>/evidence/<uuid:evidence_id>/remove", methods=["POST"])
@school_roles(*MANAGERS)
def remove_evidence(item_id, evidence_id):
    item = _item_or_404(item_id)
    row = _evidence_or_404(item, evidence_id)
    if row.item_id != item.id:
        abort(404)  # last year's evidence is read-only
    evidence.remove(g.school, item, row)
    db.session.commit()
    evidence.discard(g.school, [row])
    flash(f"“{row.name}” was removed from this item. Its record stays in the history.", "success")
    return redirect(url_for(".item", item_id=item.id) + "#evidence")
