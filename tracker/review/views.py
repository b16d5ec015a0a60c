"""Accreditor queries: the list, a thread, raising, replying and closing."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import school_roles
from ..db import get_for_school_or_404
from ..tenancy import ACCREDITOR, HEAD, LEAD
from ..tracking.models import Item
from ..transactions import saving
from . import bp, services
from .forms import MessageForm
from .models import STATE_LABELS, STATES, ReviewQuery

REVIEWERS = (LEAD, HEAD, ACCREDITOR)


@bp.route("/")
@school_roles(*REVIEWERS, group="programme")
def index():
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        abort(400, "Unknown state.")
    return render_template(
        "review/index.html",
        queries=services.listing(g.school, state),
        state=state,
        counts=services.counts(g.school),
        state_labels=STATE_LABELS,
    )


@bp.route("/items/<uuid:item_id>/queries", methods=["POST"])
@school_roles(ACCREDITOR, accreditor_may_write=True)
def raise_query(item_id):
    item = get_for_school_or_404(Item, item_id, g.school)
    form = MessageForm()
    if not form.validate_on_submit():
        flash("Write the query before sending it.", "error")
        return redirect(url_for("tracking.item", item_id=item.id) + "#queries")
    with saving() as tx:
        query = services.raise_query(
            g.school, item, body=form.body.data, user=current_user, role=g.membership.role
        )
    if not tx.ok:
        return redirect(url_for("tracking.item", item_id=item.id) + "#queries")
    flash("Query sent to the school.", "success")
    return redirect(url_for(".thread", query_id=query.id))


@bp.route("/queries/<uuid:query_id>")
@school_roles(*REVIEWERS, group="programme")
def thread(query_id):
    query = get_for_school_or_404(ReviewQuery, query_id, g.school)
    return render_template("review/thread.html", query=query, form=MessageForm(), state_labels=STATE_LABELS)


@bp.route("/queries/<uuid:query_id>/reply", methods=["POST"])
@school_roles(*REVIEWERS, accreditor_may_write=True)
def reply(query_id):
    query = get_for_school_or_404(ReviewQuery, query_id, g.school)
    form = MessageForm()
    if not form.validate_on_submit():
        return render_template("review/thread.html", query=query, form=form, state_labels=STATE_LABELS), 400
    with saving() as tx:
        services.reply(g.school, query, body=form.body.data, user=current_user, role=g.membership.role)
    if not tx.ok:
        return redirect(url_for(".thread", query_id=query.id))
    flash("Reply sent." if g.membership.role == ACCREDITOR else "Answer sent to the accreditor.", "success")
    return redirect(url_for(".thread", query_id=query.id))


@bp.route("/queries/<uuid:query_id>/close", methods=["POST"])
@school_roles(*REVIEWERS, accreditor_may_write=True)
def close(query_id):
    query = get_for_school_or_404(ReviewQuery, query_id, g.school)
    with saving() as tx:
        services.close(g.school, query, user=current_user)
    if tx.ok:
        flash("Query closed.", "success")
    return redirect(url_for(".thread", query_id=query.id))
