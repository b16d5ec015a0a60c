"""Reminder pages: your settings and calendar link, the lead's outbox, and the calendar feed itself."""

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import public, school_roles
from ..db import get_for_school_or_404
from ..pagination import paginate
from ..tenancy import HEAD, HR, LEAD, MANAGERS, STAFF
from ..transactions import saving
from . import bp, feed_bp, queries
from . import calendar as feeds
from . import outbox as outbox_service
from .forms import ConfirmForm, FrequencyForm
from .models import FAILED, MESSAGE_STATUS_LABELS, MESSAGE_STATUSES, OutboxMessage
from .settings import frequency_of, members_with_reminders_off, set_frequency

#: accreditors have no items and get no reminders
MEMBERS_WITH_WORK = (LEAD, HEAD, HR, STAFF)


def _settings_page(form, status=200):
    feed = feeds.feed_for(g.school, current_user)
    return render_template(
        "reminders/settings.html",
        form=form,
        feed=feed,
        feed_url=feeds.feed_url(feed) if feed else None,
        confirm=ConfirmForm(),
    ), status


@bp.route("/", methods=["GET", "POST"])
@school_roles(*MEMBERS_WITH_WORK)
def settings():
    form = FrequencyForm(frequency=frequency_of(g.school, current_user))
    if request.method == "POST":
        if not form.validate_on_submit():
            return _settings_page(form, 400)
        with saving():
            changed = set_frequency(g.school, current_user._get_current_object(), form.frequency.data)
        if changed:
            flash("Reminder setting saved.", "success")
        return redirect(url_for(".settings"))
    return _settings_page(form)


@bp.route("/calendar", methods=["POST"])
@school_roles(*MEMBERS_WITH_WORK)
def new_feed():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    replaced = feeds.feed_for(g.school, current_user) is not None
    with saving():
        feeds.new_feed(g.school, current_user._get_current_object())
    flash(
        "New calendar link made; the old one no longer works." if replaced else "Calendar link made.",
        "success",
    )
    return redirect(url_for(".settings") + "#calendar")


@bp.route("/calendar/revoke", methods=["POST"])
@school_roles(*MEMBERS_WITH_WORK)
def revoke_feed():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with saving():
        revoked = feeds.revoke_feed(g.school, current_user._get_current_object())
    if revoked:
        flash("Calendar link turned off. Calendars subscribed to it stop updating.", "success")
    return redirect(url_for(".settings") + "#calendar")


@bp.route("/outbox")
@school_roles(*MANAGERS)
def outbox():
    status = request.args.get("status")
    if status not in MESSAGE_STATUSES:
        status = None
    page = paginate(queries.outbox_messages(g.school, status), per_page=50)
    return render_template(
        "reminders/outbox.html",
        page=page,
        status=status,
        counts=outbox_service.counts(g.school),
        labels=MESSAGE_STATUS_LABELS,
        statuses=MESSAGE_STATUSES,
        confirm=ConfirmForm(),
        off=members_with_reminders_off(g.school),
    )


@bp.route("/outbox/<uuid:message_id>/retry", methods=["POST"])
@school_roles(*MANAGERS)
def retry(message_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    message = get_for_school_or_404(OutboxMessage, message_id, g.school)
    if message.status != FAILED:
        flash("Only a failed message can be sent again.", "error")
        return redirect(url_for(".outbox"))
    with saving():
        outbox_service.retry(g.school, message, user=current_user._get_current_object())
    flash(f"The message to {message.to_address} will be sent again within a minute.", "success")
    return redirect(url_for(".outbox", status=FAILED))


@feed_bp.route("/<token>.ics")
@public
def feed(token):
    found = feeds.find_feed(token)
    if found is None:
        abort(404)
    _, school, membership = found
    body = feeds.render_ics(school, membership, feeds.feed_items(school, membership))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="safeguarding.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
