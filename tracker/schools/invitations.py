"""The invitation link, /invitations/<token>: taking up a place in a school with a new account or the one
signed in.

The page belongs to the sign-in blueprint (endpoint `auth.accept_invitation`, no school in its address), but
its code lives here because accepting is a schools service: schools builds on auth, never the other way round.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import public
from ..auth import bp
from ..auth.forms import AcceptInvitationForm
from ..auth.services import find_user, sign_in
from ..transactions import saving
from .services import accept_invitation as accept
from .services import pending_invitation


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    invitation = pending_invitation(token)
    if invitation is None:
        return render_template("auth/link_invalid.html", what="invitation"), 404
    existing = find_user(invitation.email)
    has_account = existing is not None and bool(existing.password_hash)
    if has_account and not current_user.is_authenticated:
        flash(f"Sign in as {invitation.email} to accept the invitation to {invitation.school.name}.", "info")
        return redirect(url_for("auth.login", next=request.path))
    form = AcceptInvitationForm() if not current_user.is_authenticated else None
    if form is not None:
        form.password_user_inputs = [invitation.email, invitation.school.name]
    error = None
    if request.method == "POST":
        if current_user.is_authenticated or form.validate_on_submit():
            with saving(show=False) as tx:
                if current_user.is_authenticated:
                    user = accept(invitation, user=current_user._get_current_object())
                else:
                    user = accept(invitation, name=form.name.data, password=form.password.data)
                    sign_in(user)
            if not tx.ok:
                error = str(tx.error)
            else:
                flash(f"Welcome to {invitation.school.name}.", "success")
                return redirect(url_for("tracking.home", school=invitation.school.slug))
    status = 400 if (error or (form is not None and form.errors)) else 200
    return render_template("auth/accept.html", invitation=invitation, form=form, error=error), status
