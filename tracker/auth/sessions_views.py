"""The "My sessions" page (/account/sessions): the signed-in user's devices, signing one or all others out.
Account pages, not school pages: any signed-in user, about their own sessions only."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import signed_in
from ..forms_common import Form
from ..transactions import saving
from . import bp
from .sessions import my_sessions, revoke_other_sessions, revoke_session


class SessionForm(Form):
    """Only the CSRF token: the session is named in the address."""


@bp.route("/account/sessions")
@signed_in
def sessions():
    return render_template(
        "auth/sessions.html", sessions=my_sessions(current_user._get_current_object()), form=SessionForm()
    )


@bp.route("/account/sessions/<device_id>/revoke", methods=["POST"])
@signed_in
def revoke(device_id):
    if not SessionForm().validate_on_submit():
        abort(400)
    with saving() as tx:
        device = revoke_session(current_user._get_current_object(), device_id[:64])
    if tx.ok:
        flash(f"{device} is signed out. It must sign in again to carry on.", "success")
    return redirect(url_for(".sessions"))


@bp.route("/account/sessions/revoke-others", methods=["POST"])
@signed_in
def revoke_others():
    if not SessionForm().validate_on_submit():
        abort(400)
    with saving():
        count = revoke_other_sessions(current_user._get_current_object())
    if count:
        flash(f"Signed out {count} other device{'' if count == 1 else 's'}.", "success")
    else:
        flash("No other device was signed in.", "info")
    return redirect(url_for(".sessions"))
