"""Item pages: adding an own item, the item page and its status, answer and comment forms.

Each view parses its form and calls a service inside `saving()`, the one transaction boundary."""

import uuid

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..access import school_roles
from ..evidence import services as evidence
from ..evidence.checks import describe_accepted
from ..evidence.forms import EvidenceForm
from ..frameworks.models import AUDIENCE_LABELS, REPEAT_LABELS
from ..tenancy import ALL_MEMBERS, MANAGERS
from ..transactions import saving
from . import bp, history, queries, services
from .forms import AnswerForm, CommentForm, ItemForm, OwnItemForm
from .models import ANSWER_STATUS_LABELS, STATUS_LABELS, ItemKind
from .views import parse_uuid, year_or_404


def _manages():
    return g.membership.role in MANAGERS


def _owner(value):
    if not value:
        return None
    try:
        user_id = uuid.UUID(str(value))  # the form gives a string; a Uuid column needs a UUID on SQLite
    except ValueError:
        abort(400, "The owner must be a member of the school.")
    member = queries.member(g.school, user_id)
    if member is None:
        abort(400, "The owner must be a member of the school.")
    return member


def item_or_404(item_id):
    return queries.visible_item_or_404(g.school, g.membership, item_id)


@bp.route("/items/new", methods=["GET", "POST"])
@school_roles(*MANAGERS)
def add_item():
    year = year_or_404(request.args.get("year") and parse_uuid(request.args["year"]))
    if year is None:
        flash("Start a school year first.", "error")
        return redirect(url_for(".years"))
    form = OwnItemForm(owner_choices=queries.owner_choices(g.school))
    if form.validate_on_submit():
        with saving(form, "due_on") as tx:
            item = services.add_own_item(
                g.school,
                year,
                title=form.title.data,
                due_on=form.due_on.data,
                owner=_owner(form.owner.data),
                notes=form.notes.data,
            )
        if tx.ok:
            flash("Item added.", "success")
            return redirect(url_for(".item", item_id=item.id))
    return render_template("tracking/add_item.html", form=form, year=year), 400 if form.errors else 200


def item_page(item, *, form=None, answer_form=None, comment_form=None, evidence_form=None, status=200):
    """The item page, with any of its forms as submitted (errors shown) and the others as stored.

    A policy question (ItemKind.ANSWER) has one form, the answer form, holding its one status; other items
    have the update form."""
    ids = [item.id] + ([item.carried_from_id] if item.carried_from_id else [])
    files = evidence.for_items(g.school, ids)
    if item.kind == ItemKind.ANSWER:
        if form is not None and not form.errors:
            form = None  # the answer form is its one form; a refused status form keeps its errors
        if answer_form is None:
            answer_form = _answer_form(formdata=None, obj=item)
            _show_stored(answer_form, item)
    elif form is None:
        form = _item_form(formdata=None, obj=item)  # shows the stored item, even while another form posts
        _show_stored(form, item)
    events = queries.item_history(g.school, item)
    versions = queries.answer_versions(g.school, item)
    return render_template(
        "tracking/item.html",
        item=item,
        requirement=services.requirement_for(item),
        form=form,
        answer_form=answer_form,
        comment_form=comment_form or CommentForm(),
        evidence_form=evidence_form or EvidenceForm(),
        history=history.lines(g.school, events),
        local_time=lambda moment: history.stamp(g.school, moment),
        comments=queries.comments(g.school, item),
        versions=history.earlier_versions(item, versions),
        evidence=files[item.id],
        carried_evidence=files.get(item.carried_from_id, []),
        today=g.school.today(),
        manage=_manages(),
        answer_labels=ANSWER_STATUS_LABELS,
        accepted=describe_accepted(),
        repeat_labels=REPEAT_LABELS,
        audience_labels=AUDIENCE_LABELS,
    ), status


def _show_stored(form, item):
    if "owner" in form:
        form.owner.data = str(item.owner_id) if item.owner_id else ""
    if "answer_status" in form:
        form.answer_status.data = item.answer_status or ""
    form.version.data = item.version


def _item_form(**kwargs):
    """The item form as the page shows it to this member: owner and due date for leads and heads only."""
    manage = _manages()
    return ItemForm(owner_choices=queries.owner_choices(g.school) if manage else (), manage=manage, **kwargs)


def _answer_form(**kwargs):
    """The policy answer form as the page shows it: owner and due date for leads and heads only. A form sent
    without the owner field (from an older page) changes only the answer, its status and review date."""
    manage = _manages() and (request.method != "POST" or "formdata" in kwargs or "owner" in request.form)
    choices = queries.owner_choices(g.school) if manage else ()
    return AnswerForm(owner_choices=choices, manage=manage, **kwargs)


@bp.route("/items/<uuid:item_id>", methods=["GET", "POST"])
@school_roles(*ALL_MEMBERS, group="programme")
def item(item_id):
    item = item_or_404(item_id)
    if request.method == "GET":
        return item_page(item)
    if item.kind == ItemKind.CHECK:
        abort(400, "A recruitment check is updated on the person's page, not here.")
    form = _item_form()
    if not form.validate_on_submit():
        return item_page(item, form=form, status=400)
    manage = "owner" in form
    try:
        with saving(form, "status") as tx:
            services.update_item(
                g.school,
                item,
                version=form.version.data,
                status=form.status.data,
                owner=_owner(form.owner.data) if manage else None,
                due_on=form.due_on.data if manage else None,
                notes=form.notes.data,
                na_reason=form.na_reason.data,
                completed_on=form.completed_on.data,
                manage=manage,
            )
    except (services.EditConflict, StaleDataError):
        submitted = {
            "Status": STATUS_LABELS.get(form.status.data, form.status.data),
            "Notes": form.notes.data,
        }
        if "due_on" in form:
            submitted["Due date"] = form.due_on.data
        return _conflict(item_id, submitted)
    if not tx.ok:
        return item_page(item_or_404(item_id), form=form, status=400)
    flash("Saved.", "success")
    return redirect(url_for(".item", item_id=item.id))


def _conflict(item_id, submitted):
    current = item_or_404(item_id)
    return render_template(
        "tracking/conflict.html",
        item=current,
        submitted=submitted,
        status_labels=STATUS_LABELS,
        answer_labels=ANSWER_STATUS_LABELS,
    ), 409


@bp.route("/items/<uuid:item_id>/answer", methods=["POST"])
@school_roles(*ALL_MEMBERS)
def answer(item_id):
    item = item_or_404(item_id)
    if item.kind != ItemKind.ANSWER:
        abort(404)
    form = _answer_form()
    if not form.validate_on_submit():
        return item_page(item, answer_form=form, status=400)
    manage = "owner" in form
    owner = _owner(form.owner.data) if manage else services.UNCHANGED
    try:
        with saving(form, "answer") as tx:
            services.save_answer(
                g.school,
                item,
                version=form.version.data,
                answer=form.answer.data,
                answer_status=form.answer_status.data or None,
                review_on=form.review_on.data,
                author=current_user,
                notes=form.notes.data if "notes" in request.form else None,
                owner=owner,
                due_on=form.due_on.data if manage else None,
            )
    except (services.EditConflict, StaleDataError):
        return _conflict(
            item_id,
            {
                "Answer": form.answer.data,
                "Where the school stands": ANSWER_STATUS_LABELS.get(form.answer_status.data),
                "Review by": form.review_on.data,
            },
        )
    if not tx.ok:
        return item_page(item_or_404(item_id), answer_form=form, status=400)
    flash("Saved.", "success")
    return redirect(url_for(".item", item_id=item.id))


@bp.route("/items/<uuid:item_id>/comments", methods=["POST"])
@school_roles(*ALL_MEMBERS)
def comment(item_id):
    item = item_or_404(item_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return item_page(item, comment_form=form, status=400)
    with saving(form, "body") as tx:
        services.add_comment(g.school, item, body=form.body.data, author=current_user)
    if not tx.ok:
        return item_page(item_or_404(item_id), comment_form=form, status=400)
    flash("Comment added.", "success")
    return redirect(url_for(".item", item_id=item.id) + "#comments")
